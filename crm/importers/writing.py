"""The import services: one per kind of ERP file, and ``import_file`` for any kind.

Every row is validated first (cells, then what the database must hold: owners,
clients, the right to verify); with any bad row nothing is written and the run
is recorded as rejected with every error. Otherwise the data is written in one
transaction. Every attempt leaves an ``ImportRun``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from crm.models import Client, ImportRun

from .runs import ImportContext, Preparer, run_import
from .source import FileData
from .specs import get_spec
from .writing_clients import prepare_clients
from .writing_shipments import prepare_shipments
from .writing_wallets import prepare_wallets

PREPARERS: dict[str, Preparer] = {
    "clients": prepare_clients,
    "wallet_estimates": prepare_wallets,
    "shipments": prepare_shipments,
}


def import_file(
    *,
    kind: str,
    data: FileData,
    filename: str,
    user: User | None,
    dry_run: bool = False,
    create_missing_clients: bool = False,
    sheet: str | None = None,
    skip_invalid: bool = False,
    scope: QuerySet[Client] | None = None,
) -> ImportRun:
    """Import ``data`` (the bytes, or the path of a file) as a file of ``kind``.

    The run says what happened. ``scope`` limits the clients the import may
    touch to those the importing user may see.
    """
    context = context_for(
        kind=kind,
        data=data,
        filename=filename,
        user=user,
        dry_run=dry_run,
        create_missing_clients=create_missing_clients,
        sheet=sheet,
        skip_invalid=skip_invalid,
        scope=scope,
    )
    return run_import(context, preparer_for(kind))


def context_for(*, kind: str, **options: Any) -> ImportContext:
    get_spec(kind)  # an unknown kind is a programming error, not a bad file
    return ImportContext(kind=kind, **options)


def preparer_for(kind: str) -> Preparer:
    return PREPARERS[kind]


# One per kind of file; each takes import_file's options (data, filename, user, …).


def import_clients(**options: Any) -> ImportRun:
    """Create and update clients from the ERP's client list."""
    return import_file(kind="clients", **options)


def import_wallet_estimates(**options: Any) -> ImportRun:
    """Add turnover and wallet estimates; verified ones need a head as the importing user."""
    return import_file(kind="wallet_estimates", **options)


def import_shipments(**options: Any) -> ImportRun:
    """Replace the shipment documents the file holds with its lines."""
    return import_file(kind="shipments", **options)
