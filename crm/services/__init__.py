"""Writes of the CRM, one function per use case (see the modules)."""

from crm.services.clients import (
    CLIENT_EDITABLE_FIELDS,
    CONTACT_EDITABLE_FIELDS,
    client_create,
    client_reassign,
    client_update,
    clients_transfer_book,
    contact_save,
)
from crm.services.conflicts import ContactEditConflict, EditConflict, TaskEditConflict
from crm.services.estimates import (
    wallet_estimate_create,
    wallet_estimate_reject,
    wallet_estimate_verify,
)
from crm.services.knowledge import (
    dossier_note_create,
    dossier_note_update,
    survey_answer_record,
    survey_threshold,
)
from crm.services.merge import clients_merge, clients_merge_preview
from crm.services.work import (
    TASK_EDITABLE_FIELDS,
    LapseSide,
    NextStep,
    ReactivationAttempt,
    activity_log,
    clients_last_touch_refresh,
    task_cancel,
    task_complete,
    task_create,
    task_reassign,
    task_reopen,
    task_update,
)

__all__ = [
    "CLIENT_EDITABLE_FIELDS",
    "CONTACT_EDITABLE_FIELDS",
    "TASK_EDITABLE_FIELDS",
    "ContactEditConflict",
    "EditConflict",
    "LapseSide",
    "NextStep",
    "ReactivationAttempt",
    "TaskEditConflict",
    "activity_log",
    "client_create",
    "client_reassign",
    "client_update",
    "clients_last_touch_refresh",
    "clients_merge",
    "clients_merge_preview",
    "clients_transfer_book",
    "contact_save",
    "dossier_note_create",
    "dossier_note_update",
    "survey_answer_record",
    "survey_threshold",
    "task_cancel",
    "task_complete",
    "task_create",
    "task_reassign",
    "task_reopen",
    "task_update",
    "wallet_estimate_create",
    "wallet_estimate_reject",
    "wallet_estimate_verify",
]
