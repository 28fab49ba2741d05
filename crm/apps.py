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
        from crm.models import Activity

        connection_created.connect(unicode_like, dispatch_uid="clientbase_unicode_like")
        pre_save.connect(signals.activity_saving, sender=Activity, dispatch_uid="activity_saving")
        post_save.connect(signals.activity_saved, sender=Activity, dispatch_uid="activity_saved")
        post_delete.connect(
            signals.activity_deleted, sender=Activity, dispatch_uid="activity_deleted"
        )
