from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    """Dashboards and exports: read-only views over the stored runs."""

    name = "reports"
    verbose_name = _("Reports")
