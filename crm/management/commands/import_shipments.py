"""``manage.py import_shipments FILE``: replace shipment documents with the file's lines."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from ._import_base import ImportCommand


class Command(ImportCommand):
    help: str = _(  # type: ignore[assignment]
        "Import shipment lines from a CSV or XLSX file; each document in it is replaced."
    )
    kind = "shipments"
    can_create_clients = True
