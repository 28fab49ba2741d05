"""Plans and forecasts: heads set plans, the owning manager forecasts.

Who may do what:
- ``plan_set``: heads (and administrators) only; for a client owned by one of
  their people, for one of their people (a manager-level plan) or for a team
  in the subtree they head. A client the head cannot see is "not found"; a
  client they see through a grant but whose owner is outside their teams is
  another head's to plan, and is refused with a message.
- ``forecast_set``: the manager who owns the client, or a manager for their
  own book. Nobody forecasts on someone else's behalf: the forecast is the
  manager's word.

Both are upserts per (target, period): setting again changes the row, and
django-simple-history keeps every version with who and when.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.selectors import clients_visible_to, teams_headed_by, users_managed_by
from crm.models import Client, PlanLevel, SalesForecast, SalesPlan


def plannable_clients_for(*, user: User) -> QuerySet[Client]:
    """Clients whose plans the user may set: the clients of their people."""
    visible = clients_visible_to(user=user)
    if user.is_admin:
        return visible
    if not user.is_head:
        return visible.none()
    return visible.filter(owner__in=users_managed_by(user=user).values("id"))


def may_plan_for(
    *,
    user: User,
    client: Client | None = None,
    manager: User | None = None,
    team: Team | None = None,
) -> bool:
    """Whether ``user`` may set the plan of this target (visibility is checked apart)."""
    if not user.is_head:
        return False
    if user.is_admin:
        return True
    if client is not None:
        return users_managed_by(user=user).filter(pk=client.owner_id).exists()
    if manager is not None:
        return users_managed_by(user=user).filter(pk=manager.pk).exists()
    if team is not None:
        return team.pk in teams_headed_by(user=user)
    return False


def _target_kwargs(
    *, level: str, client: Client | None, manager: User | None, team: Team | None
) -> dict[str, object]:
    targets = {"client": client, "manager": manager, "team": team}
    if level not in targets or targets[level] is None:
        raise ValidationError({"level": _("Choose whose plan it is.")}, code="no_target")
    if any(value is not None for name, value in targets.items() if name != level):
        raise ValidationError({"level": _("A plan is for one client, manager or team.")})
    return {level: targets[level]}


def _level_of(client: Client | None, manager: User | None, team: Team | None) -> str:
    if client is not None:
        return PlanLevel.CLIENT
    if manager is not None:
        return PlanLevel.MANAGER
    return PlanLevel.TEAM


def _check_client_visible(*, user: User, client: Client) -> None:
    if not clients_visible_to(user=user).filter(pk=client.pk).exists():
        raise Http404(_("No such client."))


@transaction.atomic
def plan_set(
    *,
    acting_user: User,
    period_kind: str,
    period_start: dt.date,
    amount: Decimal,
    share: Decimal | None = None,
    note: str = "",
    client: Client | None = None,
    manager: User | None = None,
    team: Team | None = None,
) -> SalesPlan:
    """Set (or change) the plan of a client, a manager or a team for one period."""
    level = _level_of(client, manager, team)
    target = _target_kwargs(level=level, client=client, manager=manager, team=team)
    if client is not None:
        _check_client_visible(user=acting_user, client=client)
    if not acting_user.is_head:
        raise PermissionDenied(_("Only a head of sales sets plans."))
    if not may_plan_for(user=acting_user, client=client, manager=manager, team=team):
        if client is not None:
            message = _(
                "This client belongs to a manager outside your teams: "
                "its plan is set by their head."
            )
        elif manager is not None:
            message = _("This manager is not in your teams.")
        else:
            message = _("This team is not one of yours.")
        raise PermissionDenied(message)
    plan = (
        SalesPlan.objects.select_for_update()
        .filter(level=level, period_kind=period_kind, period_start=period_start, **target)
        .first()
    )
    if plan is None:
        plan = SalesPlan(level=level, period_kind=period_kind, period_start=period_start, **target)
    plan.amount = amount
    plan.share = share
    plan.note = note
    plan.set_by = acting_user
    plan.set_at = timezone.now()
    plan.full_clean()
    plan._history_user = acting_user  # type: ignore[attr-defined]
    plan.save()
    return plan


@transaction.atomic
def forecast_set(
    *,
    acting_user: User,
    period_kind: str,
    period_start: dt.date,
    amount: Decimal,
    share: Decimal | None = None,
    comment: str = "",
    client: Client | None = None,
    manager: User | None = None,
) -> SalesForecast:
    """The owning manager's forecast for a client, or a manager's for their own book."""
    if client is not None and manager is not None:
        raise ValidationError({"level": _("A forecast is for one client or one manager.")})
    if client is None and manager is None:
        raise ValidationError({"level": _("Choose whose forecast it is.")})
    target: dict[str, Client | User]
    if client is not None:
        _check_client_visible(user=acting_user, client=client)
        if client.owner_id != acting_user.pk:
            raise PermissionDenied(_("Only the client's owner forecasts its sales."))
        level, target = PlanLevel.CLIENT, {"client": client}
    else:
        assert manager is not None
        if manager.pk != acting_user.pk:
            raise PermissionDenied(_("Managers forecast only their own book."))
        level, target = PlanLevel.MANAGER, {"manager": manager}
    forecast = (
        SalesForecast.objects.select_for_update()
        .filter(level=level, period_kind=period_kind, period_start=period_start, **target)
        .first()
    )
    if forecast is None:
        forecast = SalesForecast(
            level=level, period_kind=period_kind, period_start=period_start, **target
        )
    forecast.amount = amount
    forecast.share = share
    forecast.comment = comment
    forecast.entered_by = acting_user
    forecast.entered_at = timezone.now()
    forecast.full_clean()
    forecast._history_user = acting_user  # type: ignore[attr-defined]
    forecast.save()
    return forecast
