"""``manage.py import_wallets FILE``: add turnover and wallet estimates."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ._import_base import ImportCommand


class Command(ImportCommand):
    help: str = _("Import turnover and wallet estimates from a CSV or XLSX file.")  # type: ignore[assignment]
    kind = "wallet_estimates"
    can_create_clients = True
