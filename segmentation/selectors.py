"""Reads of stored runs that pages, API, exports and reports share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DateField,
    DateTimeField,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.choices import Role
from accounts.models import User
from accounts.selectors import clients_visible_to, visible_clients_condition
from crm.choices import ActivityKind, EstimateKind, EstimateStatus, GrantReason, SalesType
from crm.models import Activity, Client, ClientGrant, WalletEstimate
from segmentation.choices import LifecycleStatus, Segment, ServingRole
from segmentation.engine.team import PRIORITY, UP_BY_SHARE
from segmentation.models import ClientMetricSnapshot, MetricRun, SegmentOverride, SegmentRuleSet
from segmentation.models.rules import SEGMENT_KEYS

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser


def latest_successful_run(as_of: dt.date | None = None) -> MetricRun | None:
    """The newest good run (of the latest as-of date not after ``as_of``, when given).

    A failed or running run never hides the previous good one. The run is a
    full one: an incremental run brings its base run's rows up to date and
    stores none of its own (``MetricRun.rows_run_id``).
    """
    runs = MetricRun.objects.holding_rows()
    if as_of is not None:
        runs = runs.filter(as_of__lte=as_of)
    return runs.order_by("-as_of", "-id").first()


def run_for_as_of(as_of: dt.date) -> MetricRun | None:
    """The stored run of exactly that date (the latest, when the day was rerun)."""
    return MetricRun.objects.holding_rows().filter(as_of=as_of).order_by("-id").first()


def snapshots_for(
    user: User | AnonymousUser, run: MetricRun | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """Snapshot rows of the clients the user may see, of ``run`` or the latest good run."""
    run = run or latest_successful_run()
    if run is None:
        return ClientMetricSnapshot.objects.none()
    return (
        ClientMetricSnapshot.objects.filter(run=run)
        .filter(visible_clients_condition(user=user, path="client"))
        .select_related("client", "owner", "team")
        .order_by("client__name", "client_id")
    )


# ---------------------------------------------------------------------------
# Work lists. Each reads the latest good run (one indexed scan of its
# snapshots, scoped like every read) plus at most a few batched queries, so a
# list costs the same for 10 clients and for 10 000.
# ---------------------------------------------------------------------------

# Every kind of activity is a touch (call, meeting, visit, e-mail, letter):
# the activity table holds touches only. Orders count as touches only when
# SEGMENT_ORDER_COUNTS_AS_TOUCH is on (domain.md: "a setting"; off by default,
# so an order placed through the web shop does not hide a silent manager).
TOUCH_KINDS: tuple[str, ...] = tuple(ActivityKind.values)
# domain.md "Key-account management": contacts touched in the last 90 days.
SINGLE_THREAD_DAYS = 90


def order_counts_as_touch() -> bool:
    return bool(getattr(settings, "SEGMENT_ORDER_COUNTS_AS_TOUCH", False))


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in the company's time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def last_touch_subquery(until: dt.date) -> Subquery | F:
    """The newest touch of the row's client on or before ``until``.

    For today (or later) that is the client's stored ``last_touch_at`` (a
    touch is never logged more than a few minutes ahead): one column, no
    lookup per row. An earlier day looks the touches up (client, when index).
    """
    if until >= timezone.localdate():
        return F("client__last_touch_at")
    touches = Activity.objects.filter(
        client_id=OuterRef("client_id"),
        kind__in=TOUCH_KINDS,
        occurred_at__lt=_day_start(until + dt.timedelta(days=1)),
    ).order_by("-occurred_at")
    return Subquery(touches.values("occurred_at")[:1], output_field=DateTimeField())


def touch_norms(rule_set: SegmentRuleSet | None = None) -> dict[str, int]:
    """Max days between touches per rated segment, from the rules in force.

    The rules in force rather than the run's: a service standard changes no
    segment, so a head who tightens it sees the effect at once, before the
    recompute that the change queues has finished.
    """
    rule_set = rule_set or SegmentRuleSet.objects.active()
    return {
        key: int(values["max_days_between_touches"])
        for key, values in sorted(rule_set.segments.items())
        if key in SEGMENT_KEYS
    }


def overdue_condition(norms: dict[str, int], today: dt.date) -> Q:
    """Rows whose last touch is older than their segment's norm (never touched counts).

    One comparison per row, ``coalesce(last touch, the epoch) < the segment's
    cut-off``, so the last-touch subquery is evaluated once per row rather
    than once per segment and null check.
    """
    if not norms:
        return Q(pk__in=[])
    # Overdue when today − last touch > days, i.e. last touch < today − days.
    cutoffs = {key: today - dt.timedelta(days=days) for key, days in norms.items()}
    touch_cutoff = Case(
        *(When(segment=key, then=Value(_day_start(day))) for key, day in cutoffs.items()),
        output_field=DateTimeField(),
    )
    never = Value(_day_start(dt.date(1900, 1, 1)), output_field=DateTimeField())
    stale = Q(LessThan(Coalesce(F("last_touch_at"), never), touch_cutoff))
    if order_counts_as_touch():
        order_cutoff = Case(
            *(When(segment=key, then=Value(day)) for key, day in cutoffs.items()),
            output_field=DateField(),
        )
        no_order = Value(dt.date(1900, 1, 1), output_field=DateField())
        stale &= Q(LessThan(Coalesce(F("last_order_on"), no_order), order_cutoff))
    return Q(segment__in=list(norms)) & stale


def norm_of_segment(norms: dict[str, int]) -> Case:
    """The row's segment's maximum days between touches (empty for an unrated row)."""
    return Case(
        *(When(segment=key, then=Value(days)) for key, days in norms.items()),
        default=Value(None),
        output_field=IntegerField(),
    )


def overdue_touches(
    user: User | AnonymousUser,
    today: dt.date | None = None,
    *,
    rows: QuerySet[ClientMetricSnapshot] | None = None,
    norms: dict[str, int] | None = None,
) -> QuerySet[ClientMetricSnapshot]:
    """Rated clients whose last touch is older than their segment's service standard.

    A client never touched counts as overdue (it is the most overdue of all,
    listed first). Unrated clients have no standard: they are in
    ``unrated_clients``. Rows carry ``last_touch_at`` and
    ``max_days_between_touches``; oldest touch first. ``rows``: the snapshot
    rows to choose from (the latest good run's, within the user's scope),
    by default all the user sees; ``norms``: ``touch_norms()`` when the
    caller has read them.
    """
    today = today or timezone.localdate()
    if rows is None:
        rows = snapshots_for(user)
    if rows.query.is_empty():  # no run yet: no rule set need exist either
        return rows
    norms = touch_norms() if norms is None else norms
    return (
        rows.filter(segment__in=list(norms))
        .annotate(
            last_touch_at=last_touch_subquery(today),
            max_days_between_touches=norm_of_segment(norms),
        )
        .filter(overdue_condition(norms, today))
        .order_by(F("last_touch_at").asc(nulls_first=True), "client__name", "client_id")
    )


def touch_due_on(row: ClientMetricSnapshot) -> dt.date | None:
    """The day the row's next touch was due; empty for a client never touched."""
    last = getattr(row, "last_touch_at", None)
    days = getattr(row, "max_days_between_touches", None)
    if last is None or days is None:
        return None
    return timezone.localdate(last) + dt.timedelta(days=days)


# Who wins a lapsed client back (domain.md "Reactivation"): a developer for
# transactional and mixed sales, the client manager for consultative ones.
REACTIVATOR_ROLE = {
    SalesType.TRANSACTIONAL: Role.DEVELOPER,
    SalesType.MIXED: Role.DEVELOPER,
    SalesType.CONSULTATIVE: Role.KM,
}


# Snapshot rows of the reactivation list. Strategic clients never appear
# (domain.md: project sales happen once).
LAPSED = Q(status__in=[LifecycleStatus.SLEEPING, LifecycleStatus.LOST]) & ~Q(
    sales_type=SalesType.STRATEGIC
)
UNRATED = Q(segment=Segment.UNRATED)


def sleeping_and_lost(
    user: User | AnonymousUser, *, rows: QuerySet[ClientMetricSnapshot] | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """The reactivation list: sleeping and lost clients, most recently lapsed first.

    ``rows`` as for ``overdue_touches``.
    """
    return (
        (snapshots_for(user) if rows is None else rows)
        .filter(LAPSED)
        .order_by("days_since_last_order", "client__name", "client_id")
    )


def draft_wallet_exists() -> Coalesce:
    """Whether the row's client has a wallet estimate waiting for a head's review.

    A scalar subquery, not EXISTS: PostgreSQL hashes an EXISTS over every
    draft of the base before the list's first ten rows are read; this one
    looks the shown rows up by their client.
    """
    drafts = WalletEstimate.objects.filter(
        client_id=OuterRef("client_id"),
        kind=EstimateKind.WALLET,
        status=EstimateStatus.DRAFT,
    ).order_by()
    found = Subquery(drafts.values(flag=Value(True))[:1], output_field=BooleanField())
    return Coalesce(found, Value(False), output_field=BooleanField())


def unrated_clients(
    user: User | AnonymousUser, *, rows: QuerySet[ClientMetricSnapshot] | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """ "Find out the turnover": clients without a verified wallet, biggest buyers first.

    ``has_draft_wallet`` marks those whose estimate only waits for a head.
    ``rows`` as for ``overdue_touches``.
    """
    return (
        (snapshots_for(user) if rows is None else rows)
        .filter(UNRATED)
        .annotate(has_draft_wallet=draft_wallet_exists())
        # NULLS LAST as the client list sorts (the column is never empty): both
        # read their first rows off one index (snapshot_segment_revenue_idx).
        .order_by(F("revenue_12m").desc(nulls_last=True), "client__name", "client_id")
    )


class MovementKind(models.TextChoices):
    """How a client changed segment; only ``up`` is credited as development."""

    UP = "up", _("Up by share: credited to the owner")
    POTENTIAL = "potential", _("Up by potential")
    DOWN = "down", _("Down")
    RATED = "rated", _("Rated: the wallet became known")
    UNRATED = "unrated", _("No longer rated")


def _rank(field: str) -> Case:
    return Case(
        *(When(**{field: key}, then=Value(rank)) for key, rank in PRIORITY.items()),
        default=Value(None),
        output_field=IntegerField(),
    )


def segment_movements(
    user: User | AnonymousUser, since: dt.date | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """Clients whose segment differs between the latest run and the latest run before ``since``.

    ``since`` defaults to the first day of the latest run's month: the
    period the engine's development metrics count (segmentation/engine/team.py),
    so the ``up`` rows here are exactly its ``moved_up``. The owner credited
    is the owner in the latest run. Rows carry ``from_segment``,
    ``from_owner_id``, ``move`` (a ``MovementKind``), ``from_as_of`` and
    ``to_as_of``; clients absent from the earlier run have no movement.
    """
    end = latest_successful_run()
    if end is None:
        return ClientMetricSnapshot.objects.none()
    since = since or end.as_of.replace(day=1)
    start = latest_successful_run(as_of=since - dt.timedelta(days=1))
    if start is None or start.pk == end.pk:
        return ClientMetricSnapshot.objects.none()
    earlier = ClientMetricSnapshot.objects.filter(run=start, client_id=OuterRef("client_id"))
    credited = Q()
    for before, after in sorted(UP_BY_SHARE):
        credited |= Q(from_segment=before, segment=after)
    move = Case(
        When(credited, then=Value(MovementKind.UP.value)),
        When(from_segment=Segment.UNRATED, then=Value(MovementKind.RATED.value)),
        When(segment=Segment.UNRATED, then=Value(MovementKind.UNRATED.value)),
        When(to_rank__lt=F("from_rank"), then=Value(MovementKind.POTENTIAL.value)),
        default=Value(MovementKind.DOWN.value),
        output_field=CharField(),
    )
    return (
        snapshots_for(user, end)
        .annotate(
            from_segment=Subquery(earlier.values("segment")[:1], output_field=CharField()),
            from_owner_id=Subquery(earlier.values("owner_id")[:1], output_field=IntegerField()),
        )
        .filter(from_segment__isnull=False)
        .exclude(segment=F("from_segment"))
        .annotate(
            from_rank=_rank("from_segment"),
            to_rank=_rank("segment"),
            from_as_of=Value(start.as_of, output_field=DateField()),
            to_as_of=Value(end.as_of, output_field=DateField()),
        )
        .annotate(move=move)
        .order_by("move", "client__name", "client_id")
    )


class CoolingReason(models.TextChoices):
    """domain.md's cooling signals that stored data can show today."""

    REVENUE_FALLING = "revenue_falling", _("Revenue over 12 months fell year on year")
    TOUCH_OVERDUE = "touch_overdue", _("Last touch is overdue")
    SINGLE_THREADED = "single_threaded", _("Single-threaded: touches reach one level or department")


@dataclass(frozen=True)
class CoolingAccount:
    snapshot: ClientMetricSnapshot  # with ``last_touch_at`` and the norm annotated
    reasons: tuple[str, ...]
    kams: tuple[User, ...]

    @property
    def client(self) -> Client:
        return self.snapshot.client


def _single_threaded(touched: list[tuple[int, str, str]]) -> bool:
    """One contact, or every touched contact on the same known level or in the same
    known department; an unfilled level or department is no evidence either way."""
    contacts = {contact_id for contact_id, _level, _department in touched}
    if not contacts:
        return False
    if len(contacts) == 1:
        return True
    levels = {level for _c, level, _d in touched}
    departments = {department.strip().casefold() for _c, _l, department in touched}
    return (len(levels) == 1 and "" not in levels) or (
        len(departments) == 1 and "" not in departments
    )


def key_accounts_cooling(
    user: User | AnonymousUser, today: dt.date | None = None
) -> list[CoolingAccount]:
    """Key accounts (segment A) showing a cooling signal, with their KAMs.

    Signals: revenue_12m below revenue_prev_12m; the last touch older than
    segment A's standard (or none); contacts touched in the last 90 days
    all on one level or in one department (or a single contact). A falling
    supplier-ladder level is not checked: no ladder is stored yet. Most
    signals first, then the biggest revenue. Five queries at most.
    """
    today = today or timezone.localdate()
    run = latest_successful_run()
    if run is None:
        return []
    norms = touch_norms()
    key = str(Segment.A)
    rows = list(
        snapshots_for(user, run)
        .filter(segment=key)
        .annotate(
            last_touch_at=last_touch_subquery(today),
            max_days_between_touches=norm_of_segment(norms),
        )
        .annotate(
            touch_overdue=Case(
                When(overdue_condition({key: norms[key]}, today), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
    )
    if not rows:
        return []
    client_ids = [row.client_id for row in rows]
    touched: dict[int, list[tuple[int, str, str]]] = {}
    window = _day_start(today - dt.timedelta(days=SINGLE_THREAD_DAYS - 1))
    activity_contacts = (
        Activity.objects.filter(
            client_id__in=client_ids,
            kind__in=TOUCH_KINDS,
            contact__isnull=False,
            occurred_at__gte=window,
            occurred_at__lt=_day_start(today + dt.timedelta(days=1)),
        )
        .values_list("client_id", "contact_id", "contact__level", "contact__department")
        .distinct()
    )
    for client_id, contact_id, level, department in activity_contacts:
        touched.setdefault(client_id, []).append((contact_id, level or "", department or ""))
    kams: dict[int, list[User]] = {}
    grants = (
        ClientGrant.objects.active()
        .filter(client_id__in=client_ids, reason=GrantReason.KAM)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user_id")
    )
    for grant in grants:
        kams.setdefault(grant.client_id, []).append(grant.user)
    accounts = []
    for row in rows:
        reasons = []
        if row.revenue_prev_12m > 0 and row.revenue_12m < row.revenue_prev_12m:
            reasons.append(CoolingReason.REVENUE_FALLING.value)
        if getattr(row, "touch_overdue", False):
            reasons.append(CoolingReason.TOUCH_OVERDUE.value)
        if _single_threaded(touched.get(row.client_id, [])):
            reasons.append(CoolingReason.SINGLE_THREADED.value)
        if reasons:
            accounts.append(
                CoolingAccount(
                    snapshot=row, reasons=tuple(reasons), kams=tuple(kams.get(row.client_id, []))
                )
            )
    accounts.sort(
        key=lambda a: (-len(a.reasons), -a.snapshot.revenue_12m, a.client.name, a.client.pk)
    )
    return accounts


# ---------------------------------------------------------------------------
# Segment rule versions: what each one changed against the one before it.
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleChange:
    """One setting a version changed, as people read it (old → new)."""

    setting: str
    old: str
    new: str


def _yes_no(value: bool) -> str:
    return str(_("yes") if value else _("no"))


def _percent(fraction: Decimal) -> str:
    return "{} %".format(format((fraction * 100).normalize(), "f"))


def rule_set_facts(rule_set: SegmentRuleSet) -> dict[str, tuple[str, str]]:
    """Every setting of a version as (label, display value), in reading order."""
    facts: dict[str, tuple[str, str]] = {
        "potential_mode": (str(_("Potential threshold")), rule_set.get_potential_mode_display()),
        "potential_value": (
            str(_("Percentile or amount")),
            format(Decimal(rule_set.potential_value).normalize(), "f"),
        ),
        "share_threshold": (
            str(_("Share threshold")),
            _percent(Decimal(rule_set.share_threshold)),
        ),
        "priority": (str(_("Priority order")), " > ".join(rule_set.priority or [])),
    }
    roles = dict(ServingRole.choices)
    for key in sorted(SEGMENT_KEYS):
        values = rule_set.segments.get(key) or {}
        settings_of_segment = [
            ("name", _("name"), rule_set.segment_name(key)),
            ("colour", _("colour"), str(values.get("colour", ""))),
            ("strategy", _("strategy"), rule_set.segment_strategy(key)),
            (
                "max_days_between_touches",
                _("max days between touches"),
                str(values.get("max_days_between_touches", "")),
            ),
            (
                "serving_role",
                _("serving role"),
                str(roles.get(values.get("serving_role", ""), values.get("serving_role", ""))),
            ),
            (
                "key_account_plan_required",
                _("key-account plan required"),
                _yes_no(bool(values.get("key_account_plan_required"))),
            ),
            (
                "review_cadence_days",
                _("review every, days"),
                str(values.get("review_cadence_days", "")),
            ),
        ]
        for name, label, shown in settings_of_segment:
            facts[f"{key}.{name}"] = (
                str(_("Segment %(segment)s: %(setting)s") % {"segment": key, "setting": label}),
                shown,
            )
    facts.update(rule_set.group_limit_facts())
    return facts


def rule_set_changes(old: SegmentRuleSet | None, new: SegmentRuleSet) -> list[RuleChange]:
    """What ``new`` changed against ``old``; nothing for the first version."""
    if old is None:
        return []
    before, after = rule_set_facts(old), rule_set_facts(new)
    return [
        RuleChange(setting=label, old=before[name][1], new=shown)
        for name, (label, shown) in after.items()
        if before.get(name, ("", ""))[1] != shown
    ]


def rule_set_history(
    rule_sets: list[SegmentRuleSet],
) -> list[tuple[SegmentRuleSet, list[RuleChange]]]:
    """Versions (newest first, as listed) each with its changes; one extra query at most.

    The version before the oldest one given is read to diff it too.
    """
    if not rule_sets:
        return []
    ordered = sorted(rule_sets, key=lambda r: r.version, reverse=True)
    oldest = ordered[-1]
    before_oldest = (
        SegmentRuleSet.objects.filter(version__lt=oldest.version).order_by("-version").first()
    )
    previous = [*ordered[1:], before_oldest]
    return [
        (rule_set, rule_set_changes(prev, rule_set))
        for rule_set, prev in zip(ordered, previous, strict=True)
    ]


def rule_sets_listed() -> QuerySet[SegmentRuleSet]:
    """Every version, newest first, with who saved it."""
    return SegmentRuleSet.objects.select_related("created_by").order_by("-version")


def metric_runs_listed() -> QuerySet[MetricRun]:
    """The run log, newest first: runs are base-wide, so heads and admins see them all."""
    return MetricRun.objects.select_related("rule_set", "started_by").order_by("-started_at", "-id")


def segment_override_history(client: Client) -> QuerySet[Any]:
    """Every setting, change and removal of the client's override, newest first."""
    return (
        SegmentOverride.history.filter(client_id=client.pk)
        .select_related("history_user")
        .order_by("-history_date", "-history_id")
    )


def segment_overrides_visible_to(user: User) -> QuerySet[SegmentOverride]:
    return (
        SegmentOverride.objects.filter(client__in=clients_visible_to(user=user).values("pk"))
        .select_related("client", "set_by")
        .order_by("-set_at", "-id")
    )
