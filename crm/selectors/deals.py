"""Reads of deals: always through the client scope (accounts.selectors)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.selectors import assignable_owners_for, visible_clients_condition
from crm.choices import DealStage
from crm.models import Deal
from crm.services.deals import CLOSED_STAGES, OPEN_STAGES

# A column shows this many cards; its count and total cover all of them.
BOARD_CARDS_PER_COLUMN = 50
# Won and lost columns show the deals closed in the last so many days: the
# board is for work in progress, the history stays on the client's card.
BOARD_CLOSED_DAYS = 90


def deals_visible_to(*, user: User) -> QuerySet[Deal]:
    """Deals of the clients the user may see."""
    return Deal.objects.filter(visible_clients_condition(user=user, path="client"))


def deal_get_visible(*, user: User, pk: int) -> Deal:
    """One deal the user may see, or 404 (never 403)."""
    try:
        return deals_visible_to(user=user).select_related("client", "owner").get(pk=pk)
    except (Deal.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def deal_owner_choices(*, user: User) -> QuerySet[User]:
    """Whom a head may filter the board by or give a deal to (themselves for others)."""
    return assignable_owners_for(user=user).order_by("last_name", "first_name", "email")


@dataclass(frozen=True)
class BoardColumn:
    stage: str
    label: str
    cards: list[Deal]
    count: int
    total: Decimal

    @property
    def more(self) -> int:
        return self.count - len(self.cards)

    @property
    def closed(self) -> bool:
        return self.stage in CLOSED_STAGES


def board_deals(
    *, user: User, kind: str | None = None, owner_id: int | None = None
) -> QuerySet[Deal]:
    """The deals a board shows: open ones, and those closed in the last BOARD_CLOSED_DAYS."""
    since = timezone.localdate() - dt.timedelta(days=BOARD_CLOSED_DAYS - 1)
    deals = deals_visible_to(user=user).filter(
        Q(stage__in=OPEN_STAGES) | Q(stage__in=CLOSED_STAGES, closed_on__gte=since)
    )
    if kind:
        deals = deals.filter(kind=kind)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    return deals


def deal_board(
    *, user: User, kind: str | None = None, owner_id: int | None = None
) -> list[BoardColumn]:
    """One column per stage with its first cards, count and total amount.

    One aggregate query and one query per stage (a fixed number, whatever
    the number of deals).
    """
    deals = board_deals(user=user, kind=kind, owner_id=owner_id)
    totals = {
        row["stage"]: (row["count"], row["total"] or Decimal(0))
        for row in deals.order_by().values("stage").annotate(count=Count("id"), total=Sum("amount"))
    }
    columns = []
    for stage in DealStage:
        count, total = totals.get(stage.value, (0, Decimal(0)))
        cards: list[Deal] = []
        if count:
            cards = list(
                deals.filter(stage=stage.value)
                .select_related("client", "owner")
                .order_by(F("expected_close_on").asc(nulls_last=True), "-amount", "id")[
                    :BOARD_CARDS_PER_COLUMN
                ]
            )
        columns.append(
            BoardColumn(
                stage=stage.value, label=str(stage.label), cards=cards, count=count, total=total
            )
        )
    return columns


def deals_closing(
    *,
    owners: QuerySet[User] | None,
    user: User,
    today: dt.date | None = None,
) -> QuerySet[Deal]:
    """Open deals expected to close this month, and open ones already past their date.

    ``owners``: whose deals (None: the user's own). Overdue ones first.
    """
    today = today or timezone.localdate()
    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    deals = Deal.objects.filter(
        visible_clients_condition(user=user, path="client", per_row=True), stage__in=OPEN_STAGES
    )
    if owners is None:
        deals = deals.filter(owner=user)
    else:
        deals = deals.filter(owner__in=owners.values("id"))
    # This month's and the late ones: every date before next month (a date
    # before this month is before today too).
    return (
        deals.filter(expected_close_on__lt=next_month)
        .select_related("client", "owner")
        .order_by("expected_close_on", "-amount", "id")
    )
