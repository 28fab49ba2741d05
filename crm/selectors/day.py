"""'My day': the work lists of the home page, each row one click from its action.

Every list is the segmentation work list (segmentation.selectors: overdue
touches by the service standard, sleeping and lost clients, unrated
clients) narrowed to the user's own book (owned or granted with edit
rights), or, for a head who asks for it, the lists of their teams as the
segmentation selectors scope them. The run-based sections take their
counts from one aggregate over the same snapshot rows and read only the
rows they show; the others count their rows in the query that reads the
first ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DateTimeField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import RowNumber
from django.utils import timezone

from accounts.choices import Role
from accounts.models import User
from accounts.selectors import users_managed_by, visible_clients_condition
from crm.choices import TaskKind, TaskStatus
from crm.models import Client, ClientGrant, Deal, Task
from crm.selectors.deals import deals_closing
from segmentation import selectors as work_lists
from segmentation.choices import LifecycleStatus
from segmentation.models import ClientMetricSnapshot, MetricRun
from segmentation.models.snapshots import lapse_order

# Rows a section shows on the home page; "show all" leads to the full list.
SECTION_LIMIT = 10
# A reactivation attempt takes the client off the "to reactivate" list for
# this many days: time for the client to answer (an order ends the lapse at
# the next metric run). Without an order it comes back for another try.
REACTIVATION_PAUSE_DAYS = 30

SCOPE_MINE = "mine"
SCOPE_TEAM = "team"
SECTIONS = ("overdue", "tasks", "reactivation", "attempted", "unrated", "deals")
# The sections read from the latest metric run.
RUN_SECTIONS = ("overdue", "reactivation", "attempted", "unrated")


@dataclass
class Section:
    """One list of "my day": its first rows and how many there are in all."""

    key: str
    rows: list[Any]
    count: int
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def more(self) -> bool:
        return self.count > len(self.rows)


@dataclass(frozen=True)
class DayBasis:
    """What the run-based sections are read from: the latest good run, the service standards."""

    run: MetricRun | None
    norms: dict[str, int]


def day_basis() -> DayBasis:
    run = work_lists.latest_successful_run()
    # The service standards are read only when there is a run to apply them to.
    return DayBasis(run=run, norms=work_lists.touch_norms() if run is not None else {})


def _section(key: str, rows: QuerySet[Any], *, count: int | None = None) -> Section:
    """The first SECTION_LIMIT rows, and the count: ``count`` when known already
    (no query at all when it is zero), else counted in the same query (a
    window over the list: these lists are sorted in full anyway)."""
    if count == 0:
        return Section(key=key, rows=[], count=0)
    if count is not None:
        listed = list(rows[:SECTION_LIMIT])
        return Section(key=key, rows=listed, count=max(count, len(listed)))
    listed = list(rows.annotate(listed_in_all=Window(Count("pk")))[:SECTION_LIMIT])
    return Section(key=key, rows=listed, count=listed[0].listed_in_all if listed else 0)


def _keyed_section(key: str, rows: QuerySet[Any], *, load: QuerySet[Any]) -> Section:
    """The first SECTION_LIMIT rows and the count of a long list: the keys and the count
    in one narrow query, then the shown rows by key from ``load``.

    Counted over whole rows, PostgreSQL carries every joined column of the full
    list (a head's 1 200 deals with their clients) through the window: three
    times the time of counting over the keys alone.
    """
    ranked = list(rows.values_list("pk", Window(Count("pk")))[:SECTION_LIMIT])
    if not ranked:
        return Section(key=key, rows=[], count=0)
    shown = load.in_bulk([pk for pk, _ in ranked])
    listed = [shown[pk] for pk, _ in ranked if pk in shown]
    return Section(key=key, rows=listed, count=ranked[0][1])


def _book_ids(*, user: User) -> QuerySet[Any]:
    """Ids of the clients the user owns or holds an edit grant on (may repeat)."""
    granted = ClientGrant.objects.active().filter(user=user, level="edit")
    # A union of two index scans, not "owner OR id IN (…)" (see clients_visible_to).
    owned = Client.objects.filter(owner=user).order_by().values("pk")
    return owned.union(granted.order_by().values("client_id"), all=True)


def default_scope(*, user: User) -> str:
    return SCOPE_TEAM if user.is_head else SCOPE_MINE


# What the lists of one's own book show (crm/day/_rows.html): reading the
# other 50-odd columns of each snapshot and client cost more than the SQL.
BOOK_ROW_FIELDS = (
    "run_id",
    "client_id",
    "sales_type",
    "segment",
    "status",
    "last_order_on",
    "days_since_last_order",
    "revenue_12m",
    "revenue_prev_12m",
    "client__name",
)


# What a deal's row shows (crm.templatetags.day_rows): the whole deal, client
# and owner cost more to put into SQL and to read than the query takes.
DEAL_ROW_FIELDS = (
    "client_id",
    "title",
    "stage",
    "amount",
    "expected_close_on",
    "updated_at",
    "client__name",
    "client__owner_id",
    "owner__first_name",
    "owner__last_name",
    "owner__email",
)
# What a task's row shows (crm/day/_rows.html), likewise.
TASK_ROW_FIELDS = (
    "client_id",
    "title",
    "due_on",
    "assignee_id",
    "status",
    "client__name",
    "client__owner_id",
    "created_by__first_name",
    "created_by__last_name",
    "created_by__email",
)


# A head's lists add the owner's name, and the client's owner (who may act on it).
TEAM_ROW_FIELDS = ("owner__first_name", "owner__last_name", "owner__email", "client__owner_id")


def snapshot_rows(
    *, user: User, scope: str, basis: DayBasis | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """The latest good run's rows the lists choose from: the user's own book, or
    (a head's team scope) everything the head sees.

    One's own book is a subset of what one sees, so it needs no second scope;
    it shows no owner or team column, so no joins to users and teams (with the
    book's small row estimate PostgreSQL would nest a scan of all users).
    """
    run = work_lists.latest_successful_run() if basis is None else basis.run
    if run is None:
        return ClientMetricSnapshot.objects.none()
    if scope == SCOPE_TEAM and user.is_head:
        return (
            work_lists.snapshots_for(user, run=run)
            .select_related(None)
            .select_related("client", "owner")
            .only(*BOOK_ROW_FIELDS, *TEAM_ROW_FIELDS)
        )
    return (
        ClientMetricSnapshot.objects.filter(
            run=run, client_id__in=_book_ids(user=user), client__merged_into__isnull=True
        )
        .select_related("client")
        .only(*BOOK_ROW_FIELDS)
        .order_by("client__name", "client_id")
    )


def overdue_touches(
    *,
    user: User,
    scope: str,
    today: dt.date,
    rows: QuerySet[ClientMetricSnapshot] | None = None,
    norms: dict[str, int] | None = None,
) -> QuerySet[ClientMetricSnapshot]:
    """Rated clients past their segment's touch standard, never touched first."""
    rows = snapshot_rows(user=user, scope=scope) if rows is None else rows
    return work_lists.overdue_touches(user, today, rows=rows, norms=norms)


def _last_attempt() -> Subquery:
    """When the client's latest reactivation attempt (a non-cancelled reactivation
    task, as the metric engine counts it) was made."""
    attempts = (
        Task.objects.filter(client_id=OuterRef("client_id"), kind=TaskKind.REACTIVATION)
        .exclude(status=TaskStatus.CANCELLED)
        .order_by("-created_at")
    )
    return Subquery(attempts.values("created_at")[:1], output_field=DateTimeField())


def sleeping_and_lost(
    *, user: User, scope: str, rows: QuerySet[ClientMetricSnapshot] | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """The reactivation list of segmentation, each row with ``last_attempt_at``: when
    its latest reactivation attempt was made (None: never)."""
    rows = snapshot_rows(user=user, scope=scope) if rows is None else rows
    lapsed = work_lists.sleeping_and_lost(user, rows=rows)
    return lapsed.annotate(last_attempt_at=_last_attempt())


def _pause_start(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(days=REACTIVATION_PAUSE_DAYS)


def _attempted_clients() -> QuerySet[Any]:
    """Ids of clients with a reactivation attempt within the pause.

    Not correlated with the row: PostgreSQL reads it once into a hash, where
    a ``last_attempt_at`` comparison would look the tasks up row by row.
    """
    return (
        Task.objects.filter(
            kind=TaskKind.REACTIVATION, created_at__gte=_pause_start(), client_id__isnull=False
        )
        .exclude(status=TaskStatus.CANCELLED)
        .values("client_id")
    )


def _waiting() -> Q:
    """Attempted within the pause: the client has time to answer with an order."""
    return Q(client_id__in=_attempted_clients())


def _not_waiting() -> Q:
    return ~Q(client_id__in=_attempted_clients())


def to_reactivate(rows: QuerySet[ClientMetricSnapshot]) -> QuerySet[ClientMetricSnapshot]:
    """Of ``sleeping_and_lost``: those not waiting; sleeping clients first, then lost
    ones, the most recently lapsed first in each."""
    return (
        rows.filter(_not_waiting())
        .annotate(lapse_order=lapse_order())
        .order_by("lapse_order", "days_since_last_order", "client__name", "client_id")
    )


def attempted_recently(rows: QuerySet[ClientMetricSnapshot]) -> QuerySet[ClientMetricSnapshot]:
    """Of ``sleeping_and_lost``: those waiting after an attempt, the latest attempt first."""
    latest_first = F("last_attempt_at").desc()
    return rows.filter(_waiting()).order_by(latest_first, "client__name", "client_id")


def unrated(
    *, user: User, scope: str, rows: QuerySet[ClientMetricSnapshot] | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """'Find out the wallet': unrated clients, biggest buyers first."""
    rows = snapshot_rows(user=user, scope=scope) if rows is None else rows
    return work_lists.unrated_clients(user, rows=rows)


def section_count_expressions(*, norms: dict[str, int], today: dt.date) -> dict[str, Count]:
    """The counts of the run-based sections, as aggregates over snapshot rows annotated
    with ``last_touch_at``: the lists' own conditions (the overdue rule, the lapsed
    clients split by a recent attempt, the unrated clients)."""
    lapsed = work_lists.LAPSED
    return {
        "overdue": Count(
            "id", filter=Q(segment__in=list(norms)) & work_lists.overdue_condition(norms, today)
        ),
        "reactivation": Count("id", filter=lapsed & _not_waiting()),
        "attempted": Count("id", filter=lapsed & _waiting()),
        "unrated": Count("id", filter=work_lists.UNRATED),
    }


def section_counts(
    *, rows: QuerySet[ClientMetricSnapshot], today: dt.date, norms: dict[str, int]
) -> dict[str, int]:
    """How many rows each run-based section has, in one pass over ``rows``."""
    if rows.query.is_empty():  # no run yet
        return dict.fromkeys(RUN_SECTIONS, 0)
    counts = (
        rows.order_by()
        .annotate(last_touch_at=work_lists.last_touch_subquery(today))
        .aggregate(**section_count_expressions(norms=norms, today=today))
    )
    return {key: int(value or 0) for key, value in counts.items()}


def book_sections(
    *, rows: QuerySet[ClientMetricSnapshot], today: dt.date, norms: dict[str, int]
) -> dict[str, Section]:
    """The run-based sections of one's own book, in two queries instead of five.

    A book is a few hundred rows. The first query reads, for each of them,
    which lists it is on (the lists' own conditions, evaluated in SQL) and
    its sort keys, with its rank in the database's order of client names,
    so the lists keep the order their "show all" pages have. Python counts
    each list and picks its first rows; the second query reads the rows
    shown. (A head's lists over a whole base use one query each: there the
    indexes in each list's order win.)
    """
    if rows.query.is_empty():  # no run yet
        return {key: Section(key=key, rows=[], count=0) for key in RUN_SECTIONS}
    overdue = work_lists.overdue_condition(norms, today)
    keys = (
        rows.order_by()
        .annotate(last_touch_at=work_lists.last_touch_subquery(today))
        .annotate(
            on_overdue=ExpressionWrapper(overdue, output_field=BooleanField()),
            on_lapsed=ExpressionWrapper(work_lists.LAPSED, output_field=BooleanField()),
            waiting=ExpressionWrapper(_waiting(), output_field=BooleanField()),
            on_unrated=ExpressionWrapper(work_lists.UNRATED, output_field=BooleanField()),
            last_attempt_at=_last_attempt(),
            name_rank=Window(RowNumber(), order_by=[F("client__name").asc(), F("client_id").asc()]),
        )
        .values_list(
            "pk",
            "on_overdue",
            "on_lapsed",
            "waiting",
            "on_unrated",
            "last_touch_at",
            "status",
            "days_since_last_order",
            "last_attempt_at",
            "revenue_12m",
            "name_rank",
        )
    )
    entries: dict[str, list[tuple[tuple[Any, ...], int]]] = {key: [] for key in RUN_SECTIONS}
    for (
        pk,
        on_overdue,
        on_lapsed,
        waiting,
        on_unrated,
        last_touch_at,
        status,
        days,
        last_attempt_at,
        revenue,
        name_rank,
    ) in keys:
        if on_overdue:  # never touched first, then the oldest touch (overdue_touches)
            touched = last_touch_at is not None
            entries["overdue"].append(((touched, last_touch_at if touched else 0, name_rank), pk))
        if on_lapsed and not waiting:  # sleeping first, the most recently lapsed first
            lapse = 0 if status == LifecycleStatus.SLEEPING else 1
            entries["reactivation"].append(((lapse, _last(days), name_rank), pk))
        if on_lapsed and waiting:  # the latest attempt first
            entries["attempted"].append(((-last_attempt_at.timestamp(), name_rank), pk))
        if on_unrated:  # the biggest buyers first
            entries["unrated"].append(((-revenue, name_rank), pk))
    shown = {key: [pk for _, pk in sorted(found)[:SECTION_LIMIT]] for key, found in entries.items()}
    by_pk = _shown_rows([pk for pks in shown.values() for pk in pks], today, norms)
    return {
        key: Section(key=key, rows=[by_pk[pk] for pk in shown[key]], count=len(entries[key]))
        for key in RUN_SECTIONS
    }


def _last(days: int | None) -> float:
    """A sort key with an empty value last, as PostgreSQL sorts it."""
    return float("inf") if days is None else days


def _shown_rows(
    pks: list[int], today: dt.date, norms: dict[str, int]
) -> dict[int, ClientMetricSnapshot]:
    """The rows the sections show, with what each list's rows carry.

    ``pks`` were read from the book's rows: looked up by key alone, without
    the book's condition (PostgreSQL would scan the book again for each row).
    """
    if not pks:
        return {}
    shown = (
        ClientMetricSnapshot.objects.filter(pk__in=pks)
        .select_related("client")
        .only(*BOOK_ROW_FIELDS)
        .annotate(
            last_touch_at=work_lists.last_touch_subquery(today),
            max_days_between_touches=work_lists.norm_of_segment(norms),
            last_attempt_at=_last_attempt(),
            has_draft_wallet=work_lists.draft_wallet_exists(),
        )
    )
    return {row.pk: row for row in shown}


def tasks_due(*, user: User, today: dt.date) -> QuerySet[Task]:
    """The user's open tasks due today or earlier (on clients they still see), oldest first."""
    seen = visible_clients_condition(user=user, path="client", per_row=True)
    return (
        Task.objects.filter(assignee=user, status=TaskStatus.OPEN, due_on__lte=today)
        .filter(Q(client__isnull=True) | seen)
        .select_related("client", "created_by")
        .only(*TASK_ROW_FIELDS)
        .order_by("due_on", "id")
    )


def team_of(*, user: User) -> QuerySet[User]:
    """A head and the people of the teams they head."""
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=users_managed_by(user=user).values("id")))


def deals_to_close(
    *,
    user: User,
    scope: str,
    today: dt.date,
    team: QuerySet[User] | None = None,
) -> QuerySet[Deal]:
    """Open deals closing this month or late: the user's, or (team scope) their people's."""
    owners = None
    if scope == SCOPE_TEAM and user.is_head:
        owners = team_of(user=user) if team is None else team
    return deals_closing(owners=owners, user=user, today=today)


def section_rows(*, key: str, user: User, scope: str, today: dt.date) -> QuerySet[Any] | None:
    """The full list behind a section (for its "show all" page)."""
    if key == "overdue":
        return overdue_touches(user=user, scope=scope, today=today)
    if key == "reactivation":
        return to_reactivate(sleeping_and_lost(user=user, scope=scope))
    if key == "attempted":
        return attempted_recently(sleeping_and_lost(user=user, scope=scope))
    if key == "unrated":
        return unrated(user=user, scope=scope)
    if key == "deals":
        return deals_to_close(user=user, scope=scope, today=today)
    if key == "tasks":
        return tasks_due(user=user, today=today)
    return None


def with_touch_due(rows: list[ClientMetricSnapshot]) -> list[ClientMetricSnapshot]:
    """Each overdue row with ``touch_due``: the day its touch was due."""
    for row in rows:
        row.touch_due = work_lists.touch_due_on(row)  # type: ignore[attr-defined]
    return rows


def with_reactivator(rows: list[ClientMetricSnapshot]) -> list[ClientMetricSnapshot]:
    """Each row with ``reactivator``: the role that wins this kind of client back."""
    labels = dict(Role.choices)
    for row in rows:
        role = work_lists.REACTIVATOR_ROLE.get(row.sales_type)  # type: ignore[call-overload]
        row.reactivator = labels.get(role, "") if role else ""  # type: ignore[attr-defined]
    return rows


def my_day(
    *,
    user: User,
    scope: str,
    today: dt.date | None = None,
    team: QuerySet[User] | None = None,
    basis: DayBasis | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, Section]:
    """Every section of the home page, in a fixed number of queries.

    The run-based sections take their counts from one aggregate over the same
    rows (or from ``counts``, a head's counts the caller has read already:
    crm.selectors.book_counts); each then reads only the rows it shows.
    ``team`` (a head's people) and ``basis`` may be given when the caller has
    them. Without a metric run the segmentation lists are empty (and cost
    nothing).
    """
    today = today or timezone.localdate()
    basis = day_basis() if basis is None else basis
    rows = snapshot_rows(user=user, scope=scope, basis=basis)
    norms = basis.norms
    if scope == SCOPE_MINE:
        listed = book_sections(rows=rows, today=today, norms=norms)
    else:
        if counts is None:
            counts = section_counts(rows=rows, today=today, norms=norms)
        overdue = overdue_touches(user=user, scope=scope, today=today, rows=rows, norms=norms)
        lapsed = sleeping_and_lost(user=user, scope=scope, rows=rows)
        listed = {
            "overdue": _section("overdue", overdue, count=counts["overdue"]),
            "reactivation": _section(
                "reactivation", to_reactivate(lapsed), count=counts["reactivation"]
            ),
            "attempted": _section(
                "attempted", attempted_recently(lapsed), count=counts["attempted"]
            ),
            "unrated": _section(
                "unrated", unrated(user=user, scope=scope, rows=rows), count=counts["unrated"]
            ),
        }
    sections = {
        "overdue": listed["overdue"],
        "tasks": _section("tasks", tasks_due(user=user, today=today)),
        "reactivation": listed["reactivation"],
        "attempted": listed["attempted"],
        "unrated": listed["unrated"],
        "deals": _keyed_section(
            "deals",
            deals_to_close(user=user, scope=scope, today=today, team=team),
            load=Deal.objects.select_related("client", "owner").only(*DEAL_ROW_FIELDS),
        ),
    }
    with_touch_due(sections["overdue"].rows)
    with_reactivator(sections["reactivation"].rows)
    return sections
