"""Touches and tasks: the daily work on a client.

A touch may carry a next-step task and may be a reactivation attempt; both
are written in the touch's transaction, so a touch never half-exists. Task
changes keep their history (simple-history, with the acting user).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from accounts.models import User
from accounts.selectors import client_can_edit, clients_visible_to
from crm import selectors
from crm.choices import ActivityPurpose, Initiator, SalesType, TaskKind, TaskStatus
from crm.models import Activity, Client, Contact, Task
from crm.selectors import book_counts
from crm.services.conflicts import TaskEditConflict

# A touch is a fact: one logged "in the future" is a typo, but clocks of
# phones and servers differ by a few minutes.
FUTURE_TOLERANCE = dt.timedelta(minutes=15)

# Fields of a task a form or API call may change (status and assignee change
# through their own use cases).
TASK_EDITABLE_FIELDS = ("title", "kind", "due_on", "description")


class LapseSide(models.TextChoices):
    """Whose side caused a client to lapse (domain.md "Reactivation")."""

    OURS = "ours", gettext_lazy("Ours")
    CLIENT = "client", gettext_lazy("The client's")
    UNKNOWN = "unknown", pgettext_lazy("lapse side", "Unknown")


@dataclass(frozen=True)
class NextStep:
    """The task a touch leads to."""

    title: str
    due_on: dt.date
    assignee: User | None = None


@dataclass(frozen=True)
class ReactivationAttempt:
    """The touch tries to win a sleeping or lost client back."""

    side: str = LapseSide.UNKNOWN
    reason: str = ""


def clients_last_touch_refresh(*, client_ids: Iterable[int] | None = None) -> int:
    """Set ``Client.last_touch_at`` to the newest touch of the given clients (all when None).

    Called for every touch written, moved or deleted (crm.signals for single
    rows; bulk writers such as merges and the demo call it themselves).
    Returns the number of clients updated.
    """
    clients = Client.objects.all()
    if client_ids is not None:
        ids = sorted(set(client_ids))
        if not ids:
            return 0
        clients = clients.filter(pk__in=ids)
        book_counts.forget_clients(ids)
    else:
        book_counts.forget_all()
    newest = (
        Activity.objects.filter(client_id=models.OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    # A queryset update: no history row and no version bump for a derived value.
    return clients.update(last_touch_at=models.Subquery(newest))


def _check_can_edit(*, client: Client, acting_user: User) -> None:
    if not client_can_edit(user=acting_user, client=client):
        raise PermissionDenied(_("You may not change this client."))


def _check_due(*, due_on: dt.date, field: str = "due_on") -> None:
    if due_on < timezone.localdate():
        raise ValidationError({field: _("The due date cannot be in the past.")}, code="past_due")


def _check_assignee(
    *, assignee: User, client: Client | None, acting_user: User, field: str
) -> None:
    if not selectors.task_assignees_for(user=acting_user).filter(pk=assignee.pk).exists():
        raise ValidationError(
            {field: _("You cannot give a task to this user.")}, code="assignee_not_allowed"
        )
    if client is not None and not clients_visible_to(user=assignee).filter(pk=client.pk).exists():
        raise ValidationError(
            {field: _("This person cannot see the client: give them access first.")},
            code="assignee_cannot_see",
        )


def _save_task(task: Task, *, acting_user: User, reason: str = "") -> Task:
    task.full_clean()
    task._history_user = acting_user  # type: ignore[attr-defined]
    if reason:
        task._change_reason = reason  # type: ignore[attr-defined]
    task.save()
    return task


@transaction.atomic
def activity_log(
    *,
    client: Client,
    acting_user: User,
    kind: str,
    summary: str,
    occurred_at: dt.datetime | None = None,
    contact: Contact | None = None,
    outcome: str = "",
    purpose: str = ActivityPurpose.SALE,
    initiated_by: str = Initiator.US,
    duration_minutes: int | None = None,
    performed_by: User | None = None,
    next_step: NextStep | None = None,
    reactivation: ReactivationAttempt | None = None,
) -> Activity:
    """Log a touch; with a next-step task and/or as a reactivation attempt.

    ``performed_by`` (who gets the credit) differs from the acting user only
    for back office entering touches for its managers.
    """
    _check_can_edit(client=client, acting_user=acting_user)
    performer = performed_by or acting_user
    if (
        performer.pk != acting_user.pk
        and not selectors.touch_performers_for(user=acting_user).filter(pk=performer.pk).exists()
    ):
        raise ValidationError(
            {"performed_by": _("You may enter touches only for the managers you serve.")}
        )
    when = occurred_at or timezone.now()
    if when > timezone.now() + FUTURE_TOLERANCE:
        raise ValidationError({"occurred_at": _("A touch cannot be in the future.")})
    if contact is not None and contact.client_id != client.pk:
        raise ValidationError({"contact": _("Choose a contact of this client.")})
    if reactivation is not None and client.sales_type == SalesType.STRATEGIC:
        raise ValidationError(
            {"reactivation": _("Strategic clients are never in reactivation lists.")}
        )
    activity = Activity(
        client=client,
        contact=contact,
        kind=kind,
        purpose=purpose,
        initiated_by=initiated_by,
        occurred_at=when,
        duration_minutes=duration_minutes,
        performed_by=performer,
        entered_by=acting_user,
        summary=summary,
        outcome=outcome,
    )
    activity.full_clean()
    activity.save()
    if reactivation is not None:
        _record_reactivation(
            activity=activity, attempt=reactivation, performer=performer, acting_user=acting_user
        )
    if next_step is not None:
        try:
            task_create(
                acting_user=acting_user,
                client=client,
                title=next_step.title,
                due_on=next_step.due_on,
                # The next step of a reactivation attempt is the next reactivation step.
                kind=TaskKind.REACTIVATION if reactivation is not None else TaskKind.TOUCH,
                assignee=next_step.assignee,
                description=summary,
            )
        except ValidationError as error:
            # Name the fields of the touch form, not those of a task.
            raise ValidationError(
                {f"next_{key}": value for key, value in error.message_dict.items()}
            ) from None
    return activity


def _record_reactivation(
    *, activity: Activity, attempt: ReactivationAttempt, performer: User, acting_user: User
) -> Task:
    """The attempt as the metric engine counts it (segmentation/engine/reactivation.py):
    a non-cancelled reactivation task of the client, credited to its assignee,
    dated by its ``created_at`` — so it is dated when the touch happened."""
    sides = dict(LapseSide.choices)
    lines = [
        _("Lapse caused by: %(side)s.") % {"side": sides.get(attempt.side, attempt.side)},
    ]
    if attempt.reason.strip():
        lines.append(_("Reason: %(reason)s") % {"reason": attempt.reason.strip()})
    lines.append(activity.summary)
    task = Task(
        client=activity.client,
        title=_("Reactivation attempt: %(kind)s") % {"kind": activity.get_kind_display()},
        kind=TaskKind.REACTIVATION,
        status=TaskStatus.DONE,
        due_on=timezone.localdate(activity.occurred_at),
        assignee=performer,
        created_by=acting_user,
        created_at=activity.occurred_at,
        completed_at=activity.occurred_at,
        description="\n".join(lines),
    )
    return _save_task(task, acting_user=acting_user)


@transaction.atomic
def task_create(
    *,
    acting_user: User,
    title: str,
    due_on: dt.date,
    kind: str = TaskKind.OTHER,
    client: Client | None = None,
    assignee: User | None = None,
    description: str = "",
) -> Task:
    """A new open task; its due date may not be in the past."""
    if client is not None:
        _check_can_edit(client=client, acting_user=acting_user)
    assignee = assignee or acting_user
    _check_due(due_on=due_on)
    _check_assignee(assignee=assignee, client=client, acting_user=acting_user, field="assignee")
    task = Task(
        client=client,
        title=title,
        kind=kind,
        due_on=due_on,
        assignee=assignee,
        created_by=acting_user,
        description=description,
    )
    return _save_task(task, acting_user=acting_user)


def _locked(*, task: Task, acting_user: User, expected_version: int | None = None) -> Task:
    """The task locked for a change; refused when the editor's copy (``expected_version``)
    is older than it."""
    if not selectors.task_can_change(user=acting_user, task=task):
        raise PermissionDenied(_("You may not change this task."))
    current = Task.objects.select_for_update().get(pk=task.pk)
    if expected_version is not None and current.version != expected_version:
        raise TaskEditConflict.since(record=current, version=expected_version)
    return current


@transaction.atomic
def task_update(
    *, task: Task, acting_user: User, expected_version: int | None = None, **fields: Any
) -> Task:
    """Change the title, kind, due date or description of a task; refuse when the
    editor's copy (``expected_version``, the one loaded) is out of date."""
    unknown = set(fields) - set(TASK_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not task fields: {sorted(unknown)}")
    current = _locked(task=task, acting_user=acting_user, expected_version=expected_version)
    due_on = fields.get("due_on")
    if due_on is not None and due_on != current.due_on:
        _check_due(due_on=due_on)
    for name, value in fields.items():
        setattr(current, name, value)
    return _save_task(current, acting_user=acting_user)


@transaction.atomic
def task_reassign(
    *, task: Task, assignee: User, acting_user: User, expected_version: int | None = None
) -> Task:
    current = _locked(task=task, acting_user=acting_user, expected_version=expected_version)
    if current.assignee_id == assignee.pk:
        return current
    _check_assignee(
        assignee=assignee, client=current.client, acting_user=acting_user, field="assignee"
    )
    current.assignee = assignee
    return _save_task(current, acting_user=acting_user, reason=_("Reassignment"))


def _set_status(*, task: Task, acting_user: User, status: str) -> Task:
    current = _locked(task=task, acting_user=acting_user)
    if current.status == status:
        return current
    if status != TaskStatus.OPEN and current.status != TaskStatus.OPEN:
        raise ValidationError(
            {
                "status": _("This task is already done.")
                if current.status == TaskStatus.DONE
                else _("This task was already cancelled.")
            },
            code="not_open",
        )
    current.status = status
    current.completed_at = timezone.now() if status == TaskStatus.DONE else None
    return _save_task(current, acting_user=acting_user)


@transaction.atomic
def task_complete(*, task: Task, acting_user: User) -> Task:
    return _set_status(task=task, acting_user=acting_user, status=TaskStatus.DONE)


@transaction.atomic
def task_cancel(*, task: Task, acting_user: User) -> Task:
    return _set_status(task=task, acting_user=acting_user, status=TaskStatus.CANCELLED)


@transaction.atomic
def task_reopen(*, task: Task, acting_user: User) -> Task:
    return _set_status(task=task, acting_user=acting_user, status=TaskStatus.OPEN)
