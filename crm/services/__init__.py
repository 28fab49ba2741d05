"""Writes of the CRM, one function per use case (see the modules)."""

from crm.services.clients import (
    CLIENT_EDITABLE_FIELDS,
    CONTACT_EDITABLE_FIELDS,
    EditConflict,
    client_create,
    client_reassign,
    client_update,
    clients_transfer_book,
    contact_save,
)
from crm.services.estimates import (
    wallet_estimate_create,
    wallet_estimate_reject,
    wallet_estimate_verify,
)
from crm.services.merge import clients_merge, clients_merge_preview

__all__ = [
    "CLIENT_EDITABLE_FIELDS",
    "CONTACT_EDITABLE_FIELDS",
    "EditConflict",
    "client_create",
    "client_reassign",
    "client_update",
    "clients_merge",
    "clients_merge_preview",
    "clients_transfer_book",
    "contact_save",
    "wallet_estimate_create",
    "wallet_estimate_reject",
    "wallet_estimate_verify",
]
