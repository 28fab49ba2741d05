"""Plan – forecast – actual for a period, rolled up department → team → manager → client.

Definitions (the page's legend repeats them):
- **Actual** = the sum of shipment line amounts (returns are negative lines)
  dated from the period's first day to its last day, or to today while the
  period runs. A manager's actual is the sum over the clients they own
  *now* (the current owner, not the owner at the time of each shipment), so
  a client handed over mid-period takes its whole period with it.
- **Actual share of wallet** comes from the latest successful metric run
  dated on or before the period's end (or today): a client's
  ``share_of_wallet`` of that run (revenue of its trailing 12 months ÷ the
  verified wallet). For a manager or a team it is revenue-weighted: the
  sum of those clients' 12-month revenue ÷ the sum of their wallets, over
  the clients with a wallet. No run yet: no actual share.
- **Own plan** is the plan set for the row itself; **plans below** is the sum
  of the *effective* plans of the rows directly below, where a row's
  effective plan is its own plan, or, when it has none, its plans below.
  **Difference** = own plan − plans below (positive: the level asks for
  more than it has distributed). Forecasts roll up the same way.
- **Gaps** are measured against the effective plan: forecast − plan (what the
  manager expects to miss or beat) and actual − plan (what is still missing).

Placement: every manager sits in one team. Teams form a tree; a manager who
is a member of several teams of the subtree sits in the deepest of them
(then by name); a head who is a member of none sits in a team they head,
and only when they own clients or have a plan or forecast of their own.

Every figure is read set-wise: one aggregate query per kind of figure for
all managers of the tree, grouped by the clients' current owner; the
per-client page reads one page of clients and one query per figure.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, Sum
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Team, User
from accounts.selectors import clients_visible_to, users_managed_by
from crm.models import Client, Period, PlanLevel, SalesForecast, SalesPlan, ShipmentLine

CLIENTS_PER_PAGE = 100
NO_TEAM = 0  # the id of the pseudo-team "Without a team" (administrators only)


@dataclass
class PlanRow:
    """One line of the roll-up: a team, a manager or a client, with its figures."""

    level: str
    pk: int
    name: str
    depth: int = 0
    plan: Decimal | None = None
    plan_share: Decimal | None = None
    plan_note: str = ""
    forecast: Decimal | None = None
    forecast_share: Decimal | None = None
    forecast_comment: str = ""
    actual: Decimal = Decimal(0)
    revenue_12m_with_wallet: Decimal = Decimal(0)
    wallet: Decimal = Decimal(0)
    below_plan: Decimal | None = None
    below_forecast: Decimal | None = None
    clients_count: int = 0
    can_plan: bool = False
    can_forecast: bool = False
    children: list[PlanRow] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.level}-{self.pk}"

    @property
    def effective_plan(self) -> Decimal | None:
        return self.plan if self.plan is not None else self.below_plan

    @property
    def effective_forecast(self) -> Decimal | None:
        return self.forecast if self.forecast is not None else self.below_forecast

    @property
    def plan_difference(self) -> Decimal | None:
        """Own plan − the sum of the plans below; empty when either is missing."""
        if self.plan is None or self.below_plan is None:
            return None
        return self.plan - self.below_plan

    @property
    def forecast_gap(self) -> Decimal | None:
        plan, forecast = self.effective_plan, self.effective_forecast
        if plan is None or forecast is None:
            return None
        return forecast - plan

    @property
    def actual_gap(self) -> Decimal | None:
        plan = self.effective_plan
        return None if plan is None else self.actual - plan

    @property
    def completion(self) -> Decimal | None:
        """Actual ÷ effective plan, as a fraction."""
        plan = self.effective_plan
        if not plan:
            return None
        return self.actual / plan

    @property
    def share_actual(self) -> Decimal | None:
        if self.wallet <= 0:
            return None
        return self.revenue_12m_with_wallet / self.wallet

    @property
    def plan_share_percent(self) -> Decimal | None:
        return _percent(self.plan_share)

    @property
    def forecast_share_percent(self) -> Decimal | None:
        return _percent(self.forecast_share)

    @property
    def share_actual_percent(self) -> Decimal | None:
        return _percent(self.share_actual)

    @property
    def completion_percent(self) -> Decimal | None:
        return _percent(self.completion)

    def walk(self) -> Iterable[PlanRow]:
        """The row and every row below it, depth first (the order of the page)."""
        yield self
        for child in self.children:
            yield from child.walk()


def _percent(fraction: Decimal | None) -> Decimal | None:
    return None if fraction is None else (fraction * 100).quantize(Decimal("0.1"))


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [value for value in values if value is not None]
    return sum(present, Decimal(0)) if present else None


def share_run_for(period: Period, today: dt.date | None = None) -> Any:
    """The metric run whose shares count as the period's actual share."""
    from segmentation.selectors import latest_successful_run

    return latest_successful_run(as_of=period.to_date(today or timezone.localdate()))


def _period_filter(period: Period) -> Q:
    return Q(period_kind=period.kind, period_start=period.start)


def _live(prefix: str = "client__") -> Q:
    return Q(**{f"{prefix}merged_into__isnull": True})


def _owner_figures(
    *, owner_ids: Iterable[int], period: Period, today: dt.date, run: Any
) -> dict[int, dict[str, Any]]:
    """Per current owner: actual, clients, client plans and forecasts, share inputs.

    Five aggregate queries whatever the number of owners and clients.
    """
    from segmentation.models import ClientMetricSnapshot

    ids = list(owner_ids)
    figures: dict[int, dict[str, Any]] = defaultdict(dict)
    if not ids:
        return figures
    counts = (
        Client.objects.filter(owner_id__in=ids, merged_into__isnull=True)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("owner_id", "n")
    )
    for owner_id, count in counts:
        figures[owner_id]["clients"] = count
    if period.start <= today:
        actuals = (
            ShipmentLine.objects.filter(
                _live(),
                client__owner_id__in=ids,
                doc_date__range=(period.start, period.to_date(today)),
            )
            .values("client__owner_id")
            .annotate(total=Sum("amount"))
            .order_by()
            .values_list("client__owner_id", "total")
        )
        for owner_id, total in actuals:
            figures[owner_id]["actual"] = total or Decimal(0)
    sums: list[tuple[QuerySet[Any], str]] = [
        (SalesPlan.objects.all(), "plans"),
        (SalesForecast.objects.all(), "forecasts"),
    ]
    for rows, key in sums:
        totals = (
            rows.filter(
                _period_filter(period), _live(), level=PlanLevel.CLIENT, client__owner_id__in=ids
            )
            .values("client__owner_id")
            .annotate(total=Sum("amount"))
            .order_by()
            .values_list("client__owner_id", "total")
        )
        for owner_id, total in totals:
            figures[owner_id][key] = total
    if run is not None:
        shares = (
            ClientMetricSnapshot.objects.filter(
                _live(), run=run, client__owner_id__in=ids, wallet__gt=0
            )
            .values("client__owner_id")
            .annotate(revenue=Sum("revenue_12m"), wallet=Sum("wallet"))
            .order_by()
            .values_list("client__owner_id", "revenue", "wallet")
        )
        for owner_id, revenue, wallet in shares:
            figures[owner_id]["revenue"] = revenue or Decimal(0)
            figures[owner_id]["wallet"] = wallet or Decimal(0)
    return figures


def _manager_row(
    manager: User,
    *,
    figures: dict[str, Any],
    plan: SalesPlan | None,
    forecast: SalesForecast | None,
    depth: int,
    acting_user: User,
    can_plan: bool,
) -> PlanRow:
    row = PlanRow(
        level=PlanLevel.MANAGER,
        pk=manager.pk,
        name=str(manager),
        depth=depth,
        actual=figures.get("actual", Decimal(0)),
        revenue_12m_with_wallet=figures.get("revenue", Decimal(0)),
        wallet=figures.get("wallet", Decimal(0)),
        below_plan=figures.get("plans"),
        below_forecast=figures.get("forecasts"),
        clients_count=figures.get("clients", 0),
        can_plan=can_plan,
        can_forecast=manager.pk == acting_user.pk,
    )
    _apply_plan(row, plan, forecast)
    return row


def _apply_plan(row: PlanRow, plan: SalesPlan | None, forecast: SalesForecast | None) -> None:
    if plan is not None:
        row.plan, row.plan_share, row.plan_note = plan.amount, plan.share, plan.note
    if forecast is not None:
        row.forecast, row.forecast_share = forecast.amount, forecast.share
        row.forecast_comment = forecast.comment


def _roll_up(row: PlanRow) -> None:
    """Team rows: plans, forecasts, actual and share inputs from the rows below."""
    for child in row.children:
        if child.level == PlanLevel.TEAM:
            _roll_up(child)
    if row.level != PlanLevel.TEAM:
        return
    row.below_plan = _sum(child.effective_plan for child in row.children)
    row.below_forecast = _sum(child.effective_forecast for child in row.children)
    row.actual = sum((child.actual for child in row.children), Decimal(0))
    row.revenue_12m_with_wallet = sum(
        (child.revenue_12m_with_wallet for child in row.children), Decimal(0)
    )
    row.wallet = sum((child.wallet for child in row.children), Decimal(0))
    row.clients_count = sum(child.clients_count for child in row.children)


def plan_tree(*, user: User, period: Period, today: dt.date | None = None) -> list[PlanRow]:
    """The roll-up a head sees: the teams they head (all for an administrator).

    Returns the root rows (departments); the rows below are in ``children``.
    A user who heads no team gets an empty list.
    """
    today = today or timezone.localdate()
    teams = {row["id"]: row for row in Team.objects.values("id", "parent_id", "name", "head_id")}
    children_of: dict[int | None, list[int]] = defaultdict(list)
    for team in sorted(teams.values(), key=lambda t: t["name"]):
        children_of[team["parent_id"]].append(team["id"])
    if user.is_admin:
        roots = list(children_of[None])
    else:
        headed = {pk for pk, team in teams.items() if team["head_id"] == user.pk}
        # A headed team inside another headed team is shown inside it, not twice.
        roots = []
        for pk in sorted(headed, key=lambda pk: teams[pk]["name"]):
            parent, seen = teams[pk]["parent_id"], {pk}
            while parent is not None and parent not in headed and parent not in seen:
                seen.add(parent)
                parent = teams[parent]["parent_id"]
            if parent is None:
                roots.append(pk)
    depth: dict[int, int] = {}
    stack = [(pk, 0) for pk in roots]
    while stack:
        pk, level = stack.pop()
        if pk in depth:
            continue
        depth[pk] = level
        stack.extend((child, level + 1) for child in children_of[pk])
    if not depth and not user.is_admin:
        return []

    memberships = list(
        Team.members.through.objects.filter(team_id__in=depth).values_list("team_id", "user_id")
    )
    team_of: dict[int, int] = {}
    for team_id, user_id in sorted(memberships, key=lambda m: (-depth[m[0]], teams[m[0]]["name"])):
        team_of.setdefault(user_id, team_id)
    heads_only: dict[int, int] = {}
    for pk in sorted(depth, key=lambda pk: (-depth[pk], teams[pk]["name"])):
        head_id = teams[pk]["head_id"]
        if head_id is not None and head_id not in team_of:
            heads_only.setdefault(head_id, pk)
    without_team: set[int] = set()
    if user.is_admin:
        in_teams = {
            user_id
            for _team, user_id in Team.members.through.objects.values_list("team_id", "user_id")
        } | {team["head_id"] for team in teams.values() if team["head_id"]}
        without_team = set(
            Client.objects.filter(merged_into__isnull=True)
            .exclude(owner_id__in=in_teams)
            .order_by()
            .values_list("owner_id", flat=True)
            .distinct()
        )
    manager_ids = set(team_of) | set(heads_only) | without_team
    users = {u.pk: u for u in User.objects.filter(pk__in=manager_ids)}
    figures = _owner_figures(
        owner_ids=manager_ids, period=period, today=today, run=share_run_for(period, today)
    )
    own_rows = SalesPlan.objects.filter(_period_filter(period)).filter(
        Q(level=PlanLevel.MANAGER, manager_id__in=manager_ids)
        | Q(level=PlanLevel.TEAM, team_id__in=depth)
    )
    manager_plans = {p.manager_id: p for p in own_rows if p.level == PlanLevel.MANAGER}
    team_plans = {p.team_id: p for p in own_rows if p.level == PlanLevel.TEAM}
    manager_forecasts = {
        f.manager_id: f
        for f in SalesForecast.objects.filter(
            _period_filter(period), level=PlanLevel.MANAGER, manager_id__in=manager_ids
        )
    }
    # A head who is in no team of the tree shows only when there is something to show.
    for head_id in list(heads_only):
        if not (
            figures[head_id].get("clients")
            or head_id in manager_plans
            or head_id in manager_forecasts
        ):
            del heads_only[head_id]

    def team_row(pk: int) -> PlanRow:
        row = PlanRow(
            level=PlanLevel.TEAM,
            pk=pk,
            name=teams[pk]["name"],
            depth=depth[pk],
            can_plan=user.is_head,
        )
        _apply_plan(row, team_plans.get(pk), None)
        row.children = [team_row(child) for child in children_of[pk] if child in depth]
        placed = [uid for uid, tid in (*team_of.items(), *heads_only.items()) if tid == pk]
        row.children += [
            manager_row(uid, depth[pk] + 1)
            for uid in sorted(placed, key=lambda uid: str(users[uid]))
            if uid in users
        ]
        return row

    def manager_row(uid: int, level: int) -> PlanRow:
        return _manager_row(
            users[uid],
            figures=figures[uid],
            plan=manager_plans.get(uid),
            forecast=manager_forecasts.get(uid),
            depth=level,
            acting_user=user,
            can_plan=user.is_head,
        )

    tree = [team_row(pk) for pk in roots]
    if without_team:
        pseudo = PlanRow(level=PlanLevel.TEAM, pk=NO_TEAM, name=_("Without a team"))
        pseudo.children = [
            manager_row(uid, 1)
            for uid in sorted(without_team, key=lambda uid: str(users[uid]))
            if uid in users
        ]
        tree.append(pseudo)
    for row in tree:
        _roll_up(row)
    return tree


def plan_manager_get(*, user: User, pk: int) -> User:
    """A manager whose plans the user may see: themselves, their people, anyone (admin)."""
    candidates = User.objects.all() if user.is_admin else users_managed_by(user=user)
    if pk == user.pk:
        return user
    try:
        return candidates.get(pk=pk)
    except (User.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


@dataclass
class ManagerPlans:
    """A manager's own row and one page of their clients' rows."""

    manager: PlanRow
    page: Page[Client]
    clients: list[PlanRow]


def manager_plans(
    *,
    user: User,
    manager: User,
    period: Period,
    page_number: str | int | None = None,
    today: dt.date | None = None,
) -> ManagerPlans:
    """The manager's own plan, forecast and actual, and a page of their clients'."""
    from segmentation.models import ClientMetricSnapshot

    today = today or timezone.localdate()
    run = share_run_for(period, today)
    figures = _owner_figures(owner_ids=[manager.pk], period=period, today=today, run=run)[
        manager.pk
    ]
    # ``manager`` is the user or one of their people (``plan_manager_get``), and a
    # user sees every client they own or their people own: no second scope query.
    clients = (
        Client.objects.filter(owner=manager, merged_into__isnull=True)
        .order_by("name", "id")
        .only("name")
    )
    paginator = Paginator(clients, CLIENTS_PER_PAGE)
    # The aggregate above already counted the owner's live clients, and the user
    # sees all of them (their own, or their people's): no second count.
    paginator.count = figures.get("clients", 0)
    page = paginator.get_page(page_number)
    ids = [client.pk for client in page.object_list]
    plans = SalesPlan.objects.filter(_period_filter(period)).filter(
        Q(level=PlanLevel.CLIENT, client_id__in=ids)
        | Q(level=PlanLevel.MANAGER, manager_id=manager.pk)
    )
    forecasts = SalesForecast.objects.filter(_period_filter(period)).filter(
        Q(level=PlanLevel.CLIENT, client_id__in=ids)
        | Q(level=PlanLevel.MANAGER, manager_id=manager.pk)
    )
    client_plans = {p.client_id: p for p in plans if p.level == PlanLevel.CLIENT}
    client_forecasts = {f.client_id: f for f in forecasts if f.level == PlanLevel.CLIENT}
    own_plan = next((p for p in plans if p.level == PlanLevel.MANAGER), None)
    own_forecast = next((f for f in forecasts if f.level == PlanLevel.MANAGER), None)
    actual: dict[int, Decimal] = {}
    if ids and period.start <= today:
        actual = dict(
            ShipmentLine.objects.filter(
                client_id__in=ids, doc_date__range=(period.start, period.to_date(today))
            )
            .values("client_id")
            .annotate(total=Sum("amount"))
            .order_by()
            .values_list("client_id", "total")
        )
    shares: dict[int, tuple[Decimal, Decimal]] = {}
    if ids and run is not None:
        shares = {
            client_id: (revenue, wallet or Decimal(0))
            for client_id, revenue, wallet in ClientMetricSnapshot.objects.filter(
                run=run, client_id__in=ids, wallet__gt=0
            ).values_list("client_id", "revenue_12m", "wallet")
        }
    # ``plan_manager_get`` let in only the user or their people: a head plans for all.
    may_plan = user.is_head
    manager_row = _manager_row(
        manager,
        figures=figures,
        plan=own_plan,
        forecast=own_forecast,
        depth=0,
        acting_user=user,
        can_plan=may_plan,
    )
    rows = []
    for client in page.object_list:
        revenue, wallet = shares.get(client.pk, (Decimal(0), Decimal(0)))
        row = PlanRow(
            level=PlanLevel.CLIENT,
            pk=client.pk,
            name=client.name,
            depth=1,
            actual=actual.get(client.pk) or Decimal(0),
            revenue_12m_with_wallet=revenue,
            wallet=wallet,
            can_plan=may_plan,
            can_forecast=manager.pk == user.pk,
        )
        _apply_plan(row, client_plans.get(client.pk), client_forecasts.get(client.pk))
        rows.append(row)
    return ManagerPlans(manager=manager_row, page=page, clients=rows)


def plans_visible_to(*, user: User) -> QuerySet[SalesPlan]:
    """Plans of the clients the user sees, of the managers they are or manage, of their teams."""
    if user.is_admin:
        return SalesPlan.objects.all()
    return SalesPlan.objects.filter(_targets_visible_to(user=user, with_teams=True))


def forecasts_visible_to(*, user: User) -> QuerySet[SalesForecast]:
    if user.is_admin:
        return SalesForecast.objects.all()
    return SalesForecast.objects.filter(_targets_visible_to(user=user, with_teams=False))


def _targets_visible_to(*, user: User, with_teams: bool) -> Q:
    from accounts.selectors import teams_headed_by

    scope = Q(level=PlanLevel.CLIENT, client_id__in=clients_visible_to(user=user).values("id"))
    people = Q(manager_id=user.pk)
    team_ids = teams_headed_by(user=user) if user.is_head else set()
    if team_ids:
        managed = User.objects.filter(Q(teams__in=team_ids) | Q(headed_teams__in=team_ids))
        people |= Q(manager_id__in=managed.values("id"))
        if with_teams:
            scope |= Q(level=PlanLevel.TEAM, team_id__in=team_ids)
    return scope | (Q(level=PlanLevel.MANAGER) & people)
