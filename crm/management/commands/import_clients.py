"""``manage.py import_clients FILE``: create and update clients from the ERP's list."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ._import_base import ImportCommand


class Command(ImportCommand):
    help: str = _("Import clients from a CSV or XLSX file exported from the ERP.")  # type: ignore[assignment]
    kind = "clients"
