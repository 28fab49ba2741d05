"""Writes on clients and their people. Each use case runs in one transaction
and records who did what, so nothing changes without history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from accounts.selectors import assignable_owners_for, client_can_edit, clients_visible_to
from crm.choices import OwnershipChangeKind
from crm.models import Client, Contact, OwnershipChange
from crm.selectors import book_counts
from crm.services.conflicts import ContactEditConflict, EditConflict

# Fields of the card a client form or API call may change. The owner is not
# among them: it changes only through a reassignment or a handoff.
CLIENT_EDITABLE_FIELDS = (
    "name",
    "inn",
    "kpp",
    "external_id",
    "region",
    "industry",
    "employees",
    "outlets",
    "sales_type",
    "motivation_type",
    "parent",
    "address",
    "phone",
    "email",
    "website",
    "note",
)


# Fields of a contact that a form or API call may change (the client is
# fixed once the contact exists).
CONTACT_EDITABLE_FIELDS = (
    "full_name",
    "position",
    "department",
    "level",
    "phone",
    "email",
    "decision_role",
    "influence",
    "attitude",
    "reports_to",
    "is_active",
    "note",
)


def _record_ownership(
    *,
    client: Client,
    from_user: User | None,
    to_user: User,
    kind: str,
    acting_user: User | None,
    note: str = "",
) -> OwnershipChange:
    return OwnershipChange.objects.create(
        client=client,
        from_user=from_user,
        to_user=to_user,
        kind=kind,
        changed_by=acting_user,
        note=note,
    )


def _check_owner(*, owner: User, acting_user: User) -> None:
    if not assignable_owners_for(user=acting_user).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": _("You cannot make this user the owner of a client.")})


@transaction.atomic
def client_create(*, acting_user: User, owner: User | None = None, **fields: Any) -> Client:
    """Create a client owned by ``owner`` (by default the acting user)."""
    owner = owner or acting_user
    _check_owner(owner=owner, acting_user=acting_user)
    unknown = set(fields) - set(CLIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not client fields: {sorted(unknown)}")
    client = Client(owner=owner, **fields)
    client.full_clean()
    client._history_user = acting_user  # type: ignore[attr-defined]
    client.save()
    _record_ownership(
        client=client,
        from_user=None,
        to_user=owner,
        kind=OwnershipChangeKind.INITIAL,
        acting_user=acting_user,
    )
    return client


@transaction.atomic
def client_update(
    *, client: Client, acting_user: User, expected_version: int | None = None, **fields: Any
) -> Client:
    """Change the card's fields; refuse when the editor's copy is out of date."""
    if not client_can_edit(user=acting_user, client=client):
        raise PermissionDenied(_("You may not change this client."))
    unknown = set(fields) - set(CLIENT_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not client fields: {sorted(unknown)}")
    current = Client.objects.select_for_update().get(pk=client.pk)
    if expected_version is not None and current.version != expected_version:
        raise EditConflict.since(record=current, version=expected_version)
    for name, value in fields.items():
        setattr(current, name, value)
    current.full_clean()
    current._history_user = acting_user  # type: ignore[attr-defined]
    current.save()
    return current


@transaction.atomic
def client_reassign(
    *, client: Client, new_owner: User, acting_user: User, note: str = ""
) -> Client:
    """A head (or admin) gives a client to another owner; the change is kept."""
    if (
        not acting_user.is_head
        or not clients_visible_to(user=acting_user).filter(pk=client.pk).exists()
    ):
        raise PermissionDenied(_("Only a head of the owner's team may reassign this client."))
    _check_owner(owner=new_owner, acting_user=acting_user)
    current = Client.objects.select_for_update().get(pk=client.pk)
    if current.owner_id == new_owner.pk:
        return current
    previous = current.owner
    current.owner = new_owner
    current._history_user = acting_user  # type: ignore[attr-defined]
    current._change_reason = note or _("Reassignment")  # type: ignore[attr-defined]
    current.save()
    _record_ownership(
        client=current,
        from_user=previous,
        to_user=new_owner,
        kind=OwnershipChangeKind.REASSIGNMENT,
        acting_user=acting_user,
        note=note,
    )
    return current


@transaction.atomic
def clients_transfer_book(
    *,
    from_user: User,
    to_user: User,
    acting_user: User,
    note: str = "",
    clients: Iterable[Client] | None = None,
) -> int:
    """Move a manager's whole book (or the given clients) to another owner at once.

    Used when a manager leaves. One transaction; a history row and an
    ownership row per client, written in bulk.
    """
    if not acting_user.is_head:
        raise PermissionDenied(_("Only a head of sales may move a book of clients."))
    _check_owner(owner=to_user, acting_user=acting_user)
    visible = clients_visible_to(user=acting_user)
    qs = visible.filter(owner=from_user)
    if clients is not None:
        qs = qs.filter(pk__in=[c.pk for c in clients])
    moving = list(qs.select_for_update())
    now = timezone.now()
    for client in moving:
        client.owner = to_user
        client.version += 1
        client.updated_at = now
    bulk_update_with_history(
        moving,
        Client,
        ["owner", "version", "updated_at"],
        batch_size=500,
        default_user=acting_user,
        default_change_reason=note or _("Book transfer"),
    )
    book_counts.forget_owners([from_user.pk, to_user.pk])  # a bulk update sends no signals
    OwnershipChange.objects.bulk_create(
        [
            OwnershipChange(
                client=client,
                from_user=from_user,
                to_user=to_user,
                kind=OwnershipChangeKind.BOOK_TRANSFER,
                changed_by=acting_user,
                changed_at=now,
                note=note,
            )
            for client in moving
        ],
        batch_size=1000,
    )
    return len(moving)


@transaction.atomic
def contact_save(
    *, contact: Contact, acting_user: User, expected_version: int | None = None
) -> Contact:
    """Create or change a contact of a client the user may edit; refuse a change
    made on a copy older than the contact (``expected_version``: the one loaded)."""
    if not client_can_edit(user=acting_user, client=contact.client):
        raise PermissionDenied(_("You may not change this client."))
    if contact.pk and expected_version is not None:
        current = Contact.objects.select_for_update().get(pk=contact.pk)
        if current.version != expected_version:
            raise ContactEditConflict.since(record=current, version=expected_version)
        contact.version = current.version
    contact.full_clean()
    contact._history_user = acting_user  # type: ignore[attr-defined]
    contact.save()
    return contact
