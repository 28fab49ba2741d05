"""Writes of the segmentation app: recomputing metrics, pruning runs, saving rules.

``metrics_recompute`` takes plain values and returns the run, so a Celery
task only has to call it (``segmentation/tasks.py`` is someone else's).
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import logging
import time
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm.models import Client
from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.conf import metric_settings
from segmentation.engine.run import execute, refresh_aggregates
from segmentation.models import MetricLock, MetricRun, SegmentOverride, SegmentRuleSet
from segmentation.models.rules import DEFAULT_PRIORITY, DEFAULT_SEGMENTS
from segmentation.selectors import run_for_as_of

logger = logging.getLogger(__name__)

LOCK_NAME = "metrics_recompute"
# A fixed 32-bit key of our own, so no other advisory lock user collides with it.
ADVISORY_KEY = zlib.crc32(b"clientbase:segmentation:metrics_recompute")


def is_month_end(day: dt.date) -> bool:
    return day.day == calendar.monthrange(day.year, day.month)[1]


@contextmanager
def recompute_lock(*, advisory: bool | None = None) -> Iterator[bool]:
    """Single flight for recomputes: yields whether this caller got the lock.

    PostgreSQL: a session advisory lock on a dedicated connection, so it is
    independent of the work's transaction and dies with the process if it
    crashes. Elsewhere: a unique ``MetricLock`` row, committed at once; a
    row older than METRIC_LOCK_STALE_SECONDS is a crashed holder's and is
    taken over.
    """
    if advisory is None:
        advisory = connection.vendor == "postgresql"
    if advisory:
        with _advisory_lock() as acquired:
            yield acquired
        return
    with _row_lock() as acquired:
        yield acquired


@contextmanager
def _advisory_lock() -> Iterator[bool]:
    dedicated = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with dedicated.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
            acquired = bool(cursor.fetchone()[0])
        try:
            yield acquired
        finally:
            if acquired:
                with dedicated.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
    finally:
        dedicated.close()


@contextmanager
def _row_lock() -> Iterator[bool]:
    conf = metric_settings()
    now = timezone.now()
    stale = now - dt.timedelta(seconds=conf.lock_stale_seconds)
    MetricLock.objects.filter(name=LOCK_NAME, acquired_at__lt=stale).delete()
    try:
        with transaction.atomic():
            MetricLock.objects.create(name=LOCK_NAME, acquired_at=now)
        acquired = True
    except IntegrityError:
        acquired = False
    try:
        yield acquired
    finally:
        if acquired:
            MetricLock.objects.filter(name=LOCK_NAME, acquired_at=now).delete()


def metrics_recompute(
    *,
    as_of: dt.date,
    client_ids: Sequence[int] | None = None,
    trigger: str,
    user: User | None = None,
    record_skipped: bool = True,
) -> MetricRun:
    """Recompute every metric as of ``as_of``: all clients, or only ``client_ids``.

    The run row is committed before the work, the work runs in one
    transaction, and the run ends ``succeeded`` or ``failed`` (the previous
    good run stays the one readers get). A recompute already running makes
    this one a ``skipped`` run. An incremental request without a stored run
    of the same date to build on runs in full. The same date on the same
    data gives identical rows.
    """
    if trigger not in RunTrigger.values:
        raise ValueError(f"Unknown trigger {trigger!r}")
    ids = None if client_ids is None else sorted({int(i) for i in client_ids})
    kind = RunKind.FULL if ids is None else RunKind.INCREMENTAL
    common: dict[str, Any] = {
        "as_of": as_of,
        "trigger": trigger,
        "started_by": user,
        "is_month_end": is_month_end(as_of),
    }
    with recompute_lock() as acquired:
        if not acquired:
            skipped = MetricRun(
                **common,
                kind=kind,
                client_ids=ids,
                status=RunStatus.SKIPPED,
                rule_set=SegmentRuleSet.objects.order_by("-version").first(),
                finished_at=timezone.now(),
            )
            if record_skipped:
                skipped.save()
            return skipped
        _close_interrupted_runs()
        base = None if ids is None else run_for_as_of(as_of)
        counts: dict[str, Any] = {}
        if ids is not None and base is None:
            kind, ids, counts = RunKind.FULL, None, {"promoted_to_full": True}
        rule_set = base.rule_set if base is not None else _active_rule_set()
        run = MetricRun.objects.create(
            **common,
            kind=kind,
            client_ids=ids,
            rule_set=rule_set,
            base_run=base,
            holds_rows=base is None,
            counts=counts,
        )
        started = time.monotonic()
        try:
            with transaction.atomic():
                run.counts = {**counts, **execute(run, base=base)}
                run.status = RunStatus.SUCCEEDED
                _finish(run, started)
                if base is not None:
                    _record_update(base, by=run)
            if base is not None:
                from segmentation.tasks import metrics_refresh_aggregates, queue_on_commit

                queue_on_commit(metrics_refresh_aggregates, run_id=base.pk)
        except Exception as exc:  # recorded on the run; its rows were rolled back
            logger.exception("Metric run %s failed", run.pk)
            run.status = RunStatus.FAILED
            run.error = f"{type(exc).__name__}: {exc}"
            run.potential_threshold = None
            _finish(run, started)
    return run


def _record_update(base: MetricRun, *, by: MetricRun) -> None:
    """Note on the base run that ``by`` (incremental) rewrote some of its rows.

    Its counts become those of its rows as they now are; its retention,
    reactivation and team figures wait for ``metrics_aggregates_refresh``.
    """
    base.counts = {
        **(base.counts or {}),
        **{key: by.counts[key] for key in COUNTED_ON_ROWS if key in by.counts},
        "updated_by_run": by.pk,
        "aggregates_pending": True,
    }
    base.save(update_fields=["counts"])


# The counts of a run that describe its stored rows (engine/run.py ``_frame_counts``).
COUNTED_ON_ROWS = ("clients", "rated", "segments", "statuses", "abc", "xyz")


def metrics_aggregates_refresh(*, run_id: int) -> str:
    """Recompute a full run's base-wide aggregates after incremental runs changed its rows.

    An incremental run rewrites its clients' rows in its base run at once and
    leaves the base run's retention, reactivation and team figures as they
    were; this recomputes them over the rows as they now are. ``run_id`` may
    name the incremental run or its base. Returns what it did: "refreshed",
    "skipped" (another recompute holds the lock: try again later), or "not
    needed" (already refreshed, or superseded by a later run of the same
    date).
    """
    with recompute_lock() as acquired:
        if not acquired:
            return "skipped"
        named = MetricRun.objects.filter(pk=run_id, status=RunStatus.SUCCEEDED).first()
        rows_run_id = named.rows_run_id if named is not None else None
        run = (
            MetricRun.objects.holding_rows().filter(pk=rows_run_id).first()
            if rows_run_id is not None
            else None
        )
        if run is None or not (run.counts or {}).get("aggregates_pending"):
            return "not needed"
        if run_for_as_of(run.as_of) != run:
            return "not needed"
        with transaction.atomic():
            retention = refresh_aggregates(run)
            run.counts = {**run.counts, "retention": retention, "aggregates_pending": False}
            run.save(update_fields=["counts"])
    return "refreshed"


def _close_interrupted_runs() -> None:
    """Runs still "running" while we hold the lock were cut short (a killed worker): say so.

    Their rows were rolled back with their transaction; the previous good
    run is still the one pages read.
    """
    MetricRun.objects.filter(status=RunStatus.RUNNING).update(
        status=RunStatus.FAILED,
        error=_("Interrupted: the process running it stopped before the run ended."),
        finished_at=timezone.now(),
    )


def _active_rule_set() -> SegmentRuleSet:
    """The rules in force; a flushed database (transactional tests) gets the defaults back."""
    try:
        return SegmentRuleSet.objects.active()
    except SegmentRuleSet.DoesNotExist:
        return SegmentRuleSet.objects.create(
            version=1,
            segments=copy.deepcopy(DEFAULT_SEGMENTS),
            priority=list(DEFAULT_PRIORITY),
            comment="domain.md defaults",
        )


def _finish(run: MetricRun, started: float) -> None:
    run.finished_at = timezone.now()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.save()


def metric_runs_prune(*, today: dt.date | None = None) -> int:
    """Delete runs nobody reads any more; returns how many runs went.

    Kept: every run of the last METRIC_RUNS_KEEP_DAYS (never fewer days than
    the ``reactivated`` rule looks back, so no status it reads is lost), and
    the month-end runs for ever. Gone: older daily runs, and a good full run
    that a later good full run of the same date replaced, each with the
    incremental runs that had brought its rows up to date. Under the
    recompute lock, so no run is deleted while another one writes into it;
    with the lock held elsewhere it deletes nothing (the next nightly run
    prunes).
    """
    conf = metric_settings()
    today = today or timezone.localdate()
    keep_days = max(conf.runs_keep_days, conf.reactivated_lookback_days + 1)
    cutoff = today - dt.timedelta(days=keep_days)
    newer_same_day = MetricRun.objects.holding_rows().filter(
        as_of=OuterRef("as_of"), pk__gt=OuterRef("pk")
    )
    superseded = Q(status=RunStatus.SUCCEEDED, holds_rows=True) & Q(Exists(newer_same_day))
    old_daily = Q(as_of__lt=cutoff) & ~(Q(is_month_end=True) & Q(status=RunStatus.SUCCEEDED))
    with recompute_lock() as acquired:
        if not acquired:
            return 0
        doomed = MetricRun.objects.filter(superseded | old_daily).exclude(status=RunStatus.RUNNING)
        ids = set(doomed.values_list("pk", flat=True))
        if not ids:
            return 0
        # The incremental runs whose rows are a doomed run's go with it.
        updates = MetricRun.objects.filter(base_run__in=ids, holds_rows=False)
        ids |= set(updates.values_list("pk", flat=True))
        with transaction.atomic():
            MetricRun.objects.filter(pk__in=ids).delete()
    return len(ids)


RULE_SET_FIELDS = (
    "potential_mode",
    "potential_value",
    "share_threshold",
    "segments",
    "priority",
    "group_limits",
)


def segment_rule_set_save(
    *, changes: Mapping[str, Any], acting_user: User, comment: str = ""
) -> SegmentRuleSet:
    """Save changed segment rules as a new version; the old one stays for its runs."""
    if not acting_user.is_head:
        raise PermissionDenied(_("Only a head of sales may change the segment rules."))
    unknown = set(changes) - set(RULE_SET_FIELDS)
    if unknown:
        raise ValueError(f"Not a rule set setting: {', '.join(sorted(unknown))}")
    with transaction.atomic():
        current = SegmentRuleSet.objects.active()
        values = {name: copy.deepcopy(getattr(current, name)) for name in RULE_SET_FIELDS}
        values.update(changes)
        new = SegmentRuleSet(
            version=current.version + 1, comment=comment, created_by=acting_user, **values
        )
        new.full_clean()
        new.save()
    return new


def _override_allowed(*, acting_user: User, client: Client) -> None:
    if not acting_user.is_head:
        raise PermissionDenied(_("Only a head of sales may override a client's segment."))
    if not clients_visible_to(user=acting_user).filter(pk=client.pk).exists():
        raise PermissionDenied(_("Only a head of the client's team may override its segment."))


def _recompute_client_after_commit(client: Client) -> None:
    """The override shows in the client's rows at once: an incremental run for it."""
    from segmentation.tasks import metrics_recompute_clients, queue_on_commit

    queue_on_commit(metrics_recompute_clients, client_ids=[client.pk])


def segment_override_set(
    *, client: Client, segment: str, reason: str, acting_user: User
) -> SegmentOverride:
    """Set (or change) a head's override of the client's segment, with its reason.

    The override wins over the rules until removed; the history keeps who,
    when, the old and the new segment and the reason.
    """
    _override_allowed(acting_user=acting_user, client=client)
    reason = reason.strip()
    with transaction.atomic():
        override = SegmentOverride.objects.select_for_update().filter(
            client=client
        ).first() or SegmentOverride(client=client)
        if override.pk and override.segment == segment and override.reason == reason:
            return override
        override.segment = segment
        override.reason = reason
        override.set_by = acting_user
        override.set_at = timezone.now()
        override.full_clean()
        override._history_user = acting_user  # type: ignore[attr-defined]
        override.save()
        _recompute_client_after_commit(client)
    return override


def segment_override_remove(*, client: Client, reason: str, acting_user: User) -> bool:
    """Remove the override: the rules decide the segment again. False when there was none."""
    _override_allowed(acting_user=acting_user, client=client)
    with transaction.atomic():
        override = SegmentOverride.objects.select_for_update().filter(client=client).first()
        if override is None:
            return False
        override._history_user = acting_user  # type: ignore[attr-defined]
        override._change_reason = reason.strip()  # type: ignore[attr-defined]
        override.delete()
        _recompute_client_after_commit(client)
    return True
