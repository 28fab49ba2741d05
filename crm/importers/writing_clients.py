"""Import of the client list: create new clients, update changed ones, skip the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from accounts.models import User
from accounts.selectors import assignable_owners_for
from crm.choices import OwnershipChangeKind, SalesType
from crm.duplicates import import_duplicate_warnings
from crm.models import Client, OwnershipChange

from .matching import ClientIndex
from .parsing import ParsedRow, parse_rows
from .reading import ReadResult, fmt
from .runs import CHUNK, NO_USER_TO_OWN, ImportContext, Plan, chunked

# File column -> Client field, compared and written when the column is in the file.
FIELDS = ("name", "external_id", "inn", "kpp", "region", "industry", "sales_type", "outlets")


@dataclass
class _Work:
    new: list[Client] = field(default_factory=list)
    changed: list[Client] = field(default_factory=list)
    changed_fields: set[str] = field(default_factory=set)
    owner_moves: list[tuple[Client, User]] = field(default_factory=list)  # client, old owner


def _active_users(emails: set[str]) -> dict[str, User]:
    users: dict[str, User] = {}
    for batch in chunked(sorted(emails)):
        for user in User.objects.filter(email__in=batch, is_active=True):
            users[user.email] = user
    return users


def prepare_clients(context: ImportContext, result: ReadResult) -> Plan:
    outcome = parse_rows(result, "clients")
    plan = Plan(rows_read=outcome.rows_read, errors=list(outcome.errors))
    rows = outcome.rows
    headers = result.columns
    present = [name for name in FIELDS if name in headers]
    index = ClientIndex(
        external_ids=(r.values["external_id"] for r in rows),
        inns=(r.values.get("inn") or "" for r in rows),
        scope=context.scope,
    )
    users = _active_users({(r.values.get("owner_email") or "").lower() for r in rows} - {""})
    assignable = _assignable(context, users)
    work = _Work()
    claimed: dict[int, int] = {}  # client pk -> the row that matched it
    pairs: dict[tuple[str, str], int] = {}  # INN + KPP -> the row that holds it
    now = timezone.now()

    def reject(row: ParsedRow, column: str, message: Any) -> None:
        value = row.values.get(column, "")
        plan.reject(row.row, column, value, message, headers.get(column, column))

    for row in rows:
        values = row.values
        inn, kpp = values.get("inn") or "", values.get("kpp") or ""
        email = (values.get("owner_email") or "").lower()
        owner = users.get(email) if email else None
        if email and owner is None:
            reject(row, "owner_email", _("No active user has this e-mail address."))
            continue
        if owner is not None and assignable is not None and owner.pk not in assignable:
            reject(row, "owner_email", _("You may not give clients to this user."))
            continue
        match = index.match(external_id=values["external_id"], inn=inn, kpp=kpp)
        if match.problem is not None:
            reject(row, "inn", match.problem)
            continue
        client = match.client
        if client is not None:
            if client.pk in claimed:
                problem = fmt(
                    _("This row names the same client as row %(row)s."), row=claimed[client.pk]
                )
                reject(row, "external_id", problem)
                continue
            claimed[client.pk] = row.row
        final_inn = inn if "inn" in headers and inn else (client.inn if client else "")
        final_kpp = kpp if "kpp" in headers and kpp else (client.kpp if client else "")
        if final_kpp and not final_inn:
            reject(row, "kpp", _("A KPP is only meaningful with an INN."))
            continue
        if final_inn:
            pair = (final_inn, final_kpp)
            holder = index.holder(*pair)
            if pair in pairs:
                problem = fmt(_("Row %(row)s has the same INN and KPP."), row=pairs[pair])
                reject(row, "inn", problem)
                continue
            if holder is not None and (client is None or holder.pk != client.pk):
                problem = fmt(
                    _("Client «%(name)s» (code %(code)s) already has this INN and KPP."),
                    name=holder.name,
                    code=holder.external_id or "—",
                )
                reject(row, "inn", problem)
                continue
            pairs[pair] = row.row
        if client is None:
            owner = owner or context.user
            if owner is None:
                reject(row, "owner_email", NO_USER_TO_OWN)
                continue
            work.new.append(_new_client(values, present, owner, now))
            continue
        changed = _apply(client, values, present)
        if owner is not None and owner.pk != client.owner_id:
            work.owner_moves.append((client, client.owner))
            client.owner = owner
            changed.append("owner")
        if changed:
            work.changed.append(client)
            work.changed_fields.update(changed)
        else:
            plan.unchanged += 1
    plan.created, plan.updated = len(work.new), len(work.changed)
    plan.warnings = import_duplicate_warnings(work.new, scope=context.scope)
    plan.write = lambda: _write(context, work, now)
    return plan


def _assignable(context: ImportContext, users: dict[str, User]) -> set[int] | None:
    """Owners a scoped import may name (a head: their people); None means anyone."""
    if context.scope is None or context.user is None:
        return None
    ids = [u.pk for u in users.values()]
    allowed = assignable_owners_for(user=context.user).filter(pk__in=ids)
    return set(allowed.values_list("pk", flat=True))


def _value(values: dict[str, Any], name: str) -> Any:
    """An empty cell keeps what the card has: the ERP rarely knows the CRM's details."""
    value = values.get(name)
    return None if value in ("", None) else value


def _new_client(values: dict[str, Any], present: list[str], owner: User, now: Any) -> Client:
    client = Client(owner=owner, sales_type=SalesType.MIXED, created_at=now, updated_at=now)
    for name in present:
        value = _value(values, name)
        if value is not None:
            setattr(client, name, value)
    return client


def _apply(client: Client, values: dict[str, Any], present: list[str]) -> list[str]:
    changed = []
    for name in present:
        value = _value(values, name)
        if value is not None and getattr(client, name) != value:
            setattr(client, name, value)
            changed.append(name)
    return changed


def _write(context: ImportContext, work: _Work, now: Any) -> None:
    user, reason = context.user, context.change_reason
    ledger: list[OwnershipChange] = []
    for batch in chunked(work.new, CHUNK):
        created = bulk_create_with_history(
            batch, Client, batch_size=CHUNK, default_user=user, default_change_reason=reason
        )
        ledger += [
            OwnershipChange(
                client=client,
                from_user=None,
                to_user=client.owner,
                kind=OwnershipChangeKind.IMPORT,
                changed_by=user,
                changed_at=now,
                note=context.filename,
            )
            for client in created
        ]
    for client in work.changed:
        client.version += 1
        client.updated_at = now
    fields = sorted(work.changed_fields | {"version", "updated_at"})
    for batch in chunked(work.changed, CHUNK):
        bulk_update_with_history(
            batch, Client, fields, batch_size=CHUNK, default_user=user, default_change_reason=reason
        )
    ledger += [
        OwnershipChange(
            client=client,
            from_user=previous,
            to_user=client.owner,
            kind=OwnershipChangeKind.IMPORT,
            changed_by=user,
            changed_at=now,
            note=context.filename,
        )
        for client, previous in work.owner_moves
    ]
    OwnershipChange.objects.bulk_create(ledger, batch_size=CHUNK)
    context.touched.update(c.pk for c in [*work.new, *work.changed])
