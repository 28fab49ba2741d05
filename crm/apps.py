from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Clients and sales")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save, pre_save

        from config.sqlite import unicode_like
        from crm import signals
        from crm.models import Activity, Client, Task, WalletEstimate

        connection_created.connect(unicode_like, dispatch_uid="clientbase_unicode_like")
        pre_save.connect(signals.activity_saving, sender=Activity, dispatch_uid="activity_saving")
        post_save.connect(signals.activity_saved, sender=Activity, dispatch_uid="activity_saved")
        post_delete.connect(
            signals.activity_deleted, sender=Activity, dispatch_uid="activity_deleted"
        )
        pre_save.connect(signals.client_saving, sender=Client, dispatch_uid="client_saving")
        post_save.connect(signals.client_changed, sender=Client, dispatch_uid="client_saved")
        post_delete.connect(signals.client_changed, sender=Client, dispatch_uid="client_deleted")
        for model in (Task, WalletEstimate):
            name = model._meta.model_name
            post_save.connect(
                signals.client_work_changed, sender=model, dispatch_uid=f"{name}_saved"
            )
            post_delete.connect(
                signals.client_work_changed, sender=model, dispatch_uid=f"{name}_deleted"
            )
