from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KamConfig(AppConfig):
    """Key-account plans, stakeholder maps, the supplier ladder and the value dossier."""

    name = "kam"
    verbose_name = _("Key accounts")
