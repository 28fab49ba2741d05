"""Deals: create, edit and move along the pipeline.

Every write runs in a transaction, keeps its history (simple-history, with
the acting user and a reason) and stamps ``updated_at``. Edits and moves
carry the ``updated_at`` the editor saw: when the deal changed meanwhile
the write is refused with the fields that changed, never applied over
someone else's work.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import assignable_owners_for, client_can_edit, clients_visible_to
from crm.choices import DealKind, DealStage
from crm.models import Client, Deal

# Fields an edit may change. The stage changes only through ``deal_move``
# (it has rules of its own), the client never, the owner only by a head.
DEAL_EDITABLE_FIELDS = ("title", "kind", "amount", "expected_close_on", "owner")

CLOSED_STAGES = (DealStage.WON, DealStage.LOST)
OPEN_STAGES = tuple(stage for stage in DealStage if stage not in CLOSED_STAGES)

# Longest reason kept (the model's column).
REASON_MAX_LENGTH = 300


class DealConflict(ValidationError):
    """The deal changed after the editor loaded it."""

    def __init__(self, *, changed_fields: list[str], changed_by: str) -> None:
        self.changed_fields = changed_fields
        self.changed_by = changed_by
        super().__init__(
            _(
                "%(who)s changed this deal while you were looking at it (%(fields)s). "
                "Nothing was saved: check the deal and apply your change again."
            )
            % {
                "who": changed_by or _("Someone else"),
                "fields": ", ".join(changed_fields) or "—",
            },
            code="conflict",
        )


def deal_can_change(*, user: User, deal: Deal) -> bool:
    """Who may edit or move a deal: whoever may change its client, and the deal's
    own owner while they still see the client (a project manager's deal)."""
    if client_can_edit(user=user, client=deal.client):
        return True
    return (
        deal.owner_id == user.pk
        and clients_visible_to(user=user).filter(pk=deal.client_id).exists()
    )


def _field_label(name: str) -> str:
    return str(getattr(Deal._meta.get_field(name), "verbose_name", name))


def _check_not_stale(*, current: Deal, expected_updated_at: dt.datetime | None) -> None:
    """Refuse when the deal is newer than the copy the editor saw, naming what changed."""
    if expected_updated_at is None or current.updated_at == expected_updated_at:
        return
    if expected_updated_at > current.updated_at:
        # Later than the deal's last save: nobody's copy, so no one else's change.
        raise ValidationError(
            {
                "updated_at": _(
                    "The deal was never saved at this time: reload it and apply your change again."
                )
            },
            code="unknown_version",
        )
    seen = current.history.filter(updated_at=expected_updated_at).order_by("-history_id").first()
    latest = current.history.order_by("-history_date", "-history_id").first()
    changed: list[str] = []
    if seen is not None and latest is not None:
        delta = latest.diff_against(seen, excluded_fields=["updated_at"])
        changed = sorted({_field_label(change.field) for change in delta.changes})
    who = ""
    if latest is not None and latest.history_user is not None:
        who = str(latest.history_user)
    raise DealConflict(changed_fields=changed, changed_by=who)


def _check_owner(*, owner: User, client: Client, acting_user: User) -> None:
    if owner.pk == acting_user.pk:
        return
    if not assignable_owners_for(user=acting_user).filter(pk=owner.pk).exists():
        raise ValidationError(
            {"owner": _("You cannot give a deal to this user.")}, code="owner_not_allowed"
        )
    if not clients_visible_to(user=owner).filter(pk=client.pk).exists():
        raise ValidationError(
            {"owner": _("This person cannot see the client: give them access first.")},
            code="owner_cannot_see",
        )


def _check_amount(amount: Decimal) -> None:
    if amount < 0:
        raise ValidationError(
            {"amount": _("The amount cannot be negative.")}, code="negative_amount"
        )


def _check_close_date(expected_close_on: dt.date | None) -> None:
    if expected_close_on is not None and expected_close_on < timezone.localdate():
        raise ValidationError(
            {"expected_close_on": _("The expected close date cannot be in the past.")},
            code="past_close",
        )


def _save(deal: Deal, *, acting_user: User, reason: str = "") -> Deal:
    deal.updated_at = timezone.now()
    deal.full_clean()
    deal._history_user = acting_user  # type: ignore[attr-defined]
    if reason:
        deal._change_reason = reason  # type: ignore[attr-defined]
    deal.save()
    return deal


@transaction.atomic
def deal_create(
    *,
    acting_user: User,
    client: Client,
    title: str,
    kind: str = DealKind.NEW_BUSINESS,
    amount: Decimal = Decimal(0),
    expected_close_on: dt.date | None = None,
    owner: User | None = None,
    stage: str = DealStage.QUALIFICATION,
) -> Deal:
    """A new open deal of a client the acting user may change."""
    if not client_can_edit(user=acting_user, client=client):
        raise PermissionDenied(_("You may not change this client."))
    owner = owner or acting_user
    _check_owner(owner=owner, client=client, acting_user=acting_user)
    _check_amount(amount)
    _check_close_date(expected_close_on)
    if stage not in OPEN_STAGES:
        raise ValidationError(
            {"stage": _("A new deal starts at an open stage; close it by moving it.")},
            code="closed_stage",
        )
    now = timezone.now()
    deal = Deal(
        client=client,
        title=title.strip(),
        kind=kind,
        amount=amount,
        expected_close_on=expected_close_on,
        owner=owner,
        stage=stage,
        created_at=now,
    )
    return _save(deal, acting_user=acting_user)


def _locked(*, deal: Deal, acting_user: User) -> Deal:
    if not deal_can_change(user=acting_user, deal=deal):
        raise PermissionDenied(_("You may not change this deal."))
    return Deal.objects.select_for_update().select_related("client").get(pk=deal.pk)


@transaction.atomic
def deal_update(
    *,
    deal: Deal,
    acting_user: User,
    expected_updated_at: dt.datetime | None = None,
    **fields: Any,
) -> Deal:
    """Change the title, kind, amount, expected close or (heads) the owner."""
    unknown = set(fields) - set(DEAL_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not deal fields: {sorted(unknown)}")
    current = _locked(deal=deal, acting_user=acting_user)
    _check_not_stale(current=current, expected_updated_at=expected_updated_at)
    owner = fields.get("owner")
    if owner is not None and owner.pk != current.owner_id:
        if not acting_user.is_head:
            raise ValidationError(
                {"owner": _("Only a head may give a deal to someone else.")},
                code="owner_not_allowed",
            )
        _check_owner(owner=owner, client=current.client, acting_user=acting_user)
    if "amount" in fields:
        _check_amount(fields["amount"])
    new_close = fields.get("expected_close_on")
    if (
        "expected_close_on" in fields
        and new_close != current.expected_close_on
        and current.stage in OPEN_STAGES
    ):
        _check_close_date(new_close)
    changed = False
    for name, value in fields.items():
        if name == "title":
            value = value.strip()
        if getattr(current, name) != value:
            setattr(current, name, value)
            changed = True
    if not changed:
        return current
    return _save(current, acting_user=acting_user)


@transaction.atomic
def deal_move(
    *,
    deal: Deal,
    acting_user: User,
    stage: str,
    expected_updated_at: dt.datetime | None = None,
    lost_reason: str = "",
    won_reason: str = "",
) -> Deal:
    """Move a deal to another stage.

    Lost needs the reason it was lost; won takes an optional reason; both
    close the deal today. Moving a closed deal to an open stage reopens it
    (no close date, no reason; the history keeps the old ones).
    """
    if stage not in DealStage.values:
        raise ValidationError({"stage": _("Choose one of the stages.")}, code="unknown_stage")
    current = _locked(deal=deal, acting_user=acting_user)
    _check_not_stale(current=current, expected_updated_at=expected_updated_at)
    lost_reason, won_reason = lost_reason.strip(), won_reason.strip()
    if current.stage == stage and stage not in CLOSED_STAGES:
        return current
    if stage == DealStage.LOST and not lost_reason:
        raise ValidationError(
            {"lost_reason": _("Say why the deal was lost.")}, code="lost_needs_reason"
        )
    for name, value in (("lost_reason", lost_reason), ("won_reason", won_reason)):
        if len(value) > REASON_MAX_LENGTH:
            raise ValidationError(
                {
                    name: _("Keep the reason under %(limit)s characters.")
                    % {"limit": REASON_MAX_LENGTH}
                },
                code="reason_too_long",
            )
    previous = current.get_stage_display()
    # A closed deal moved to the same column only has its reason corrected.
    closed_on = current.closed_on if current.stage == stage else timezone.localdate()
    current.stage = stage
    if stage == DealStage.LOST:
        current.lost_reason, current.won_reason = lost_reason, ""
        current.closed_on = closed_on
    elif stage == DealStage.WON:
        current.won_reason, current.lost_reason = won_reason, ""
        current.closed_on = closed_on
    else:
        current.closed_on = None
        current.lost_reason = current.won_reason = ""
    reason = _("Moved from %(from)s to %(to)s") % {
        "from": previous,
        "to": current.get_stage_display(),
    }
    return _save(current, acting_user=acting_user, reason=reason)
