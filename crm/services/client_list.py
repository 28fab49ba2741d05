"""Writes of the client list: saved filters, chosen columns, tasks for a selection.

Also the size rules of a selection: how many clients one bulk task or one
export may hold (domain: "list and export sizes are capped per request").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from accounts.models import SavedClientFilter, User
from crm.choices import TaskKind
from crm.models import Client
from crm.selectors import client_ids_editable_by
from crm.selectors.client_list import COLUMNS, COLUMNS_BY_KEY
from crm.services.work import task_create

SAVED_FILTER_NAME_MAX = SavedClientFilter._meta.get_field("name").max_length or 100
SAVED_FILTER_QUERY_MAX = SavedClientFilter._meta.get_field("query").max_length or 2000
# One bulk task writes a task (and its history row) per client in one
# transaction: a few hundred keep the request short.
BULK_TASK_MAX = 500
DEFAULT_EXPORT_MAX_ROWS = 100_000
# List parameters that are not filters of ClientFilterSet but belong to a saved view.
LIST_VIEW_PARAMETERS = ("view",)


def export_max_rows() -> int:
    return int(getattr(settings, "CLIENT_EXPORT_MAX_ROWS", DEFAULT_EXPORT_MAX_ROWS))


def export_check_size(*, count: int) -> None:
    """Refuse an export larger than the cap, saying both numbers."""
    limit = export_max_rows()
    if count > limit:
        raise ValidationError(
            _(
                "The selection holds %(count)s clients; one export holds at most %(limit)s. "
                "Narrow the filter and export in parts."
            )
            % {"count": count, "limit": limit},
            code="export_too_large",
        )


def bulk_check_size(*, count: int) -> None:
    if count > BULK_TASK_MAX:
        raise ValidationError(
            _(
                "The selection holds %(count)s clients; a task can be given for at most "
                "%(limit)s at once. Narrow the filter."
            )
            % {"count": count, "limit": BULK_TASK_MAX},
            code="selection_too_large",
        )
    if count == 0:
        raise ValidationError(_("Choose at least one client."), code="empty_selection")


def list_query_normalized(query: str) -> str:
    """The list's query string as stored: known parameters with a value, no page number."""
    from crm.filtersets import ClientFilterSet

    known = set(ClientFilterSet.base_filters) | set(LIST_VIEW_PARAMETERS)
    params = QueryDict(query.strip().lstrip("?"))
    pairs = [
        (key, value)
        for key in params
        if key in known
        for value in params.getlist(key)
        if value.strip()
    ]
    return urlencode(pairs)


def _validate_query(query: str) -> None:
    from crm.filtersets import ClientFilterSet

    if len(query) > SAVED_FILTER_QUERY_MAX:
        raise ValidationError(
            {
                "query": _("This filter is too long to be saved (%(max)d characters at most).")
                % {"max": SAVED_FILTER_QUERY_MAX}
            }
        )
    filterset = ClientFilterSet(QueryDict(query), queryset=Client.objects.none())
    if not filterset.is_valid():
        problems = "; ".join(
            f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
        )
        raise ValidationError(
            {"query": _("This filter is not valid: %(problems)s") % {"problems": problems}}
        )


@transaction.atomic
def saved_filter_create(*, user: User, name: str, query: str) -> SavedClientFilter:
    """Save the list's current query under a name unique among the user's filters."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": _("Give the filter a name.")}, code="required")
    if len(name) > SAVED_FILTER_NAME_MAX:
        raise ValidationError(
            {
                "name": _("A name may have at most %(max)d characters (it has %(length)d).")
                % {"max": SAVED_FILTER_NAME_MAX, "length": len(name)}
            },
            code="max_length",
        )
    query = list_query_normalized(query or "")
    _validate_query(query)
    duplicate = _("You already have a saved filter with this name.")
    if SavedClientFilter.objects.filter(user=user, name__iexact=name).exists():
        raise ValidationError({"name": duplicate}, code="unique")
    try:
        with transaction.atomic():
            return SavedClientFilter.objects.create(user=user, name=name, query=query)
    except IntegrityError:  # the same name saved a moment ago in another tab
        raise ValidationError({"name": duplicate}, code="unique") from None


@transaction.atomic
def saved_filter_delete(*, saved_filter: SavedClientFilter, acting_user: User) -> None:
    if saved_filter.user_id != acting_user.pk:
        raise PermissionDenied(_("This is not your saved filter."))
    saved_filter.delete()


def client_list_columns_save(*, user: User, columns: Sequence[str]) -> list[str]:
    """Remember the user's columns (in the page's order); none chosen means the defaults."""
    unknown = sorted(set(columns) - set(COLUMNS_BY_KEY))
    if unknown:
        raise ValidationError(
            {"columns": _("Unknown columns: %(keys)s.") % {"keys": ", ".join(unknown)}}
        )
    chosen = [column.key for column in COLUMNS if column.key in set(columns)]
    user.client_list_columns = chosen
    user.save(update_fields=["client_list_columns"])
    return chosen


@dataclass
class BulkTaskResult:
    """What a task for a selection did: tasks made, clients refused and why."""

    created: list[Client] = field(default_factory=list)
    read_only: list[Client] = field(default_factory=list)
    failed: list[tuple[Client, str]] = field(default_factory=list)


def clients_bulk_task(
    *,
    acting_user: User,
    clients: Sequence[Client],
    title: str,
    due_on: dt.date,
    kind: str = TaskKind.OTHER,
    description: str = "",
    to_owners: bool = False,
) -> BulkTaskResult:
    """One task per client of the selection that the user may change.

    Clients the user may only read are reported, not given a task; so are
    clients whose task the service refuses (e.g. an owner who may not take
    it). ``to_owners`` gives each task to the client's owner, otherwise the
    acting user takes them all. Every check of ``task_create`` applies.
    """
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("This field is required.")}, code="required")
    if due_on < timezone.localdate():
        raise ValidationError({"due_on": _("The due date cannot be in the past.")}, code="past_due")
    bulk_check_size(count=len(clients))
    editable = client_ids_editable_by(
        user=acting_user, client_ids=[client.pk for client in clients]
    )
    result = BulkTaskResult()
    with transaction.atomic():
        for client in clients:
            if client.pk not in editable:
                result.read_only.append(client)
                continue
            try:
                task_create(
                    acting_user=acting_user,
                    client=client,
                    title=title,
                    due_on=due_on,
                    kind=kind,
                    assignee=client.owner if to_owners else None,
                    description=description,
                )
            except ValidationError as error:
                result.failed.append((client, " ".join(error.messages)))
            except PermissionDenied as error:
                result.failed.append((client, str(error)))
            else:
                result.created.append(client)
    return result
