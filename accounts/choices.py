from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """The roles of the sales conveyor; a person may hold several."""

    TM = "tm", _("Telemarketer")
    DEVELOPER = "developer", _("Development specialist")
    KM = "km", _("Client manager")
    PM = "pm", _("Project manager")
    KAM = "kam", _("Key-account manager")
    OFFICE = "office", _("Office sales")
    SUPPORT = "support", _("Support")
    BACK_OFFICE = "back_office", _("Back office")
    HEAD = "head", _("Head of sales")
    ADMIN = "admin", _("Administrator")


# Roles that may own clients (support and back office never do).
OWNER_ROLES = frozenset(
    {Role.TM, Role.DEVELOPER, Role.KM, Role.PM, Role.KAM, Role.OFFICE, Role.HEAD, Role.ADMIN}
)
