from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CrmConfig(AppConfig):
    name = "crm"
    verbose_name = _("Clients and sales")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from config.sqlite import unicode_like

        connection_created.connect(unicode_like, dispatch_uid="clientbase_unicode_like")
