"""The recompute service: runs, the lock, incremental runs, idempotency, pruning, reads."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal

import pytest
from django.db import connection

from segmentation import selectors, services
from segmentation.engine import db as engine_db
from segmentation.models import ClientMetricSnapshot, MetricRun, MonthlySummary
from segmentation.services import metric_runs_prune, metrics_recompute, recompute_lock
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._compare import stored
from tests.segmentation._data import D, day, line, run, snap, wallet

pytestmark = pytest.mark.django_db

LOCK_BACKENDS = [pytest.param(None, id="database-default"), pytest.param(False, id="lock-row")]


def small_base():
    clients = []
    for n, amount in enumerate((100, 200, 300, 400, 500)):
        client = ClientFactory(external_id=f"S-{n}")
        line(client, day(-10 - n), 10 * (n + 1))
        line(client, day(-400), 5)
        wallet(client, amount)
        clients.append(client)
    return clients


def test_a_run_records_what_it_did():
    small_base()
    r = run(trigger="nightly")
    r.refresh_from_db()
    assert (r.status, r.kind, r.trigger, r.as_of, r.is_month_end) == (
        "succeeded",
        "full",
        "nightly",
        D,
        True,
    )
    assert r.rule_set.version == 1 and r.finished_at >= r.started_at
    assert r.counts["clients"] == 5 and r.counts["rated"] == 5
    assert r.client_ids is None and r.error == ""
    assert not run(day(-1)).is_month_end


@pytest.mark.parametrize("advisory", LOCK_BACKENDS)
def test_a_held_lock_gives_a_skipped_run(advisory, monkeypatch):
    monkeypatch.setattr(
        services, "recompute_lock", functools.partial(recompute_lock, advisory=advisory)
    )
    small_base()
    with recompute_lock(advisory=advisory) as first:
        assert first
        if advisory is None and connection.vendor == "postgresql":
            # The dedicated connection locks in the database the tests use.
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND objid::text::bigint = %s AND granted AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())",
                    [services.ADVISORY_KEY],
                )
                assert cursor.fetchone()[0] == 1
        skipped = metrics_recompute(as_of=D, trigger="import")
    assert (skipped.status, skipped.trigger) == ("skipped", "import")
    assert not ClientMetricSnapshot.objects.filter(run=skipped).exists()
    assert selectors.latest_successful_run() is None
    assert run().status == "succeeded"  # released: the next one runs


@pytest.mark.parametrize("advisory", LOCK_BACKENDS)
def test_the_lock_is_released_when_the_work_fails(advisory, monkeypatch):
    with pytest.raises(RuntimeError), recompute_lock(advisory=advisory) as acquired:
        assert acquired
        raise RuntimeError("boom")
    with recompute_lock(advisory=advisory) as again:
        assert again


def test_a_stale_lock_row_is_taken_over(settings):
    from django.utils import timezone

    from segmentation.models import MetricLock

    settings.METRIC_LOCK_STALE_SECONDS = 60
    MetricLock.objects.create(
        name=services.LOCK_NAME, acquired_at=timezone.now() - dt.timedelta(seconds=61)
    )
    with recompute_lock(advisory=False) as acquired:
        assert acquired


def test_a_failed_run_is_recorded_and_the_previous_good_run_stays(monkeypatch):
    clients = small_base()
    good = run()
    real_execute = services.execute

    def execute_then_fail(run_, *, base):
        real_execute(run_, base=base)  # rows are written …
        raise ValueError("the disk is full")  # … and rolled back

    monkeypatch.setattr(services, "execute", execute_then_fail)
    failed = metrics_recompute(as_of=D, trigger="manual")
    assert failed.status == "failed" and "the disk is full" in failed.error
    assert failed.finished_at is not None and failed.potential_threshold is None
    assert not ClientMetricSnapshot.objects.filter(run=failed).exists()
    assert selectors.latest_successful_run() == good == selectors.run_for_as_of(D)
    assert selectors.snapshots_for(clients[0].owner).get().run == good


def test_rerunning_the_same_date_stores_identical_rows(km_anna):
    clients = small_base()
    line(clients[0], day(-3), -7)  # a return
    ClientFactory()  # a prospect
    first, second = run(), run()
    assert first.pk != second.pk
    assert stored(first) == stored(second)
    assert first.counts["segments"] == second.counts["segments"]


def test_copy_and_the_portable_path_store_the_same_rows(monkeypatch):
    clients = small_base()
    line(clients[1], day(-30), -50)
    with_copy = run()
    monkeypatch.setattr(engine_db, "USE_COPY", False)
    without_copy = run()
    assert stored(with_copy) == stored(without_copy)


def test_read_frame_copy_and_fetchall_agree():
    client = ClientFactory()
    line(client, day(-1), "12.34")
    line(client, day(-2), "-0.50")
    sql = "SELECT client_id, doc_date, amount FROM crm_shipmentline ORDER BY doc_date"
    schema = {"client_id": "int", "doc_date": "date", "amount": "float"}
    portable = engine_db.read_frame(sql, {}, schema, use_copy=False)
    assert portable["amount"].tolist() == [-0.5, 12.34]
    assert portable["doc_date"].dt.date.tolist() == [day(-2), day(-1)]
    if connection.vendor == "postgresql":
        copied = engine_db.read_frame(sql, {}, schema, use_copy=True)
        assert copied.equals(portable)


def test_an_incremental_run_recomputes_only_the_given_clients():
    clients = small_base()
    full = run()
    unchanged = snap(full, clients[1])
    line(clients[0], day(-1), 1000)
    line(clients[1], day(-1), 1000)
    incremental = run(client_ids=[clients[0].pk])
    assert (incremental.kind, incremental.base_run, incremental.client_ids) == (
        "incremental",
        full,
        [clients[0].pk],
    )
    # The client's row in the full run is rewritten; the others stay as they were.
    assert snap(incremental, clients[0]).revenue_12m == Decimal(10 + 1000)
    assert snap(incremental, clients[1]).revenue_12m == Decimal(20)  # not recomputed
    assert snap(incremental, clients[1]).pk == unchanged.pk
    assert ClientMetricSnapshot.objects.filter(run=full).count() == 5
    assert not ClientMetricSnapshot.objects.filter(run=incremental).exists()
    assert incremental.counts["recomputed"] == 1 and incremental.counts["clients"] == 5
    assert selectors.run_for_as_of(D) == full == selectors.latest_successful_run()
    full.refresh_from_db()
    assert (full.counts["updated_by_run"], full.counts["clients"]) == (incremental.pk, 5)


def test_an_incremental_run_counts_the_rows_it_leaves_in_the_full_run():
    clients = small_base()
    full = run()
    clients[3].merged_into = clients[2]  # merged since: its row goes
    clients[3].save()
    line(clients[0], day(-1), 100000)  # from ABC class C to A, and a share above the threshold
    wallet(clients[1], 0)  # no longer rated
    incremental = run(client_ids=[clients[0].pk, clients[1].pk])
    rows = ClientMetricSnapshot.objects.filter(run=full)
    assert sorted(rows.values_list("client_id", flat=True)) == sorted(
        c.pk for c in (clients[0], clients[1], clients[2], clients[4])
    )

    def counted(field):
        values = [v for v in rows.values_list(field, flat=True) if v]
        return {value: values.count(value) for value in sorted(set(values))}

    full.refresh_from_db()
    for counts in (incremental.counts, full.counts):
        assert counts["clients"] == 4
        assert counts["segments"] == counted("segment")
        assert counts["rated"] == 4 - counted("segment").get("unrated", 0) == 3
        assert counts["statuses"] == counted("status")
        assert counts["abc"] == counted("abc")
        assert counts["xyz"] == counted("xyz")
    assert snap(full, clients[0]).abc == "A"


def test_an_incremental_run_stored_with_rows_of_its_own_is_read_as_such():
    """Incremental runs stored before they rewrote their base run hold full copies."""
    clients = small_base()
    full = run()
    older = MetricRun.objects.create(
        as_of=D,
        kind="incremental",
        trigger="import",
        status="succeeded",
        base_run=full,
        rule_set=full.rule_set,
        client_ids=[clients[0].pk],
        holds_rows=True,
    )
    for row in ClientMetricSnapshot.objects.filter(run=full):
        row.pk, row.run = None, older
        row.save()
    assert older.rows_run_id == older.pk
    assert selectors.run_for_as_of(D) == older == selectors.latest_successful_run()
    line(clients[0], day(-1), 1000)
    newer = run(client_ids=[clients[0].pk])
    assert (newer.base_run, newer.holds_rows, newer.rows_run_id) == (older, False, older.pk)
    assert snap(newer, clients[0]).revenue_12m == Decimal(10 + 1000)
    assert snap(full, clients[0]).revenue_12m == Decimal(10)  # the full run's own row
    assert metric_runs_prune(today=D) == 1  # the full run, replaced by the older copy
    assert set(MetricRun.objects.values_list("pk", flat=True)) == {older.pk, newer.pk}


def test_a_failed_incremental_run_leaves_the_full_run_s_rows_as_they_were(monkeypatch):
    clients = small_base()
    full = run()
    before = stored(full)
    line(clients[0], day(-1), 1000)
    real_execute = services.execute

    def execute_then_fail(run_, *, base):
        real_execute(run_, base=base)  # the base run's rows are rewritten …
        raise ValueError("the disk is full")  # … and rolled back

    monkeypatch.setattr(services, "execute", execute_then_fail)
    failed = metrics_recompute(as_of=D, client_ids=[clients[0].pk], trigger="import")
    assert (failed.status, failed.kind, failed.base_run) == ("failed", "incremental", full)
    assert stored(full) == before
    full.refresh_from_db()
    assert "updated_by_run" not in full.counts
    assert selectors.latest_successful_run() == full


def test_an_incremental_run_gives_its_clients_what_a_full_run_would():
    clients = small_base()
    run()
    line(clients[2], day(-1), 10000)  # from the bottom of the ABC ranking to the top
    incremental = run(client_ids=[clients[2].pk])
    full = run()
    fields = [
        f.attname
        for f in ClientMetricSnapshot._meta.concrete_fields
        if f.attname not in {"id", "run_id"}
    ]
    assert (
        ClientMetricSnapshot.objects.filter(run_id=incremental.rows_run_id, client=clients[2])
        .values(*fields)
        .get()
        == ClientMetricSnapshot.objects.filter(run=full, client=clients[2]).values(*fields).get()
    )
    assert snap(incremental, clients[2]).abc == "A"


def test_an_incremental_run_keeps_the_full_run_s_potential_threshold():
    clients = small_base()
    full = run()
    assert full.potential_threshold == Decimal(420)  # 400 + 0.2 × 100
    newcomer = ClientFactory()
    line(newcomer, day(-1), 1)
    wallet(newcomer, 10000)
    incremental = run(client_ids=[newcomer.pk])
    assert incremental.potential_threshold == Decimal(420)
    assert incremental.rule_set == full.rule_set
    assert snap(incremental, newcomer).segment == "B"  # 10000 ≥ 420, share 0.0001
    assert snap(incremental, clients[4]).segment == "A"  # 500 ≥ 420; share 50 / 500 = 0.10
    nightly = run()
    # six wallets: position 0.8 × 5 = 4 → 500; the nightly run moves the threshold
    assert nightly.potential_threshold == Decimal(500)
    assert snap(nightly, clients[4]).segment == "A"  # 500 ≥ 500


def test_an_incremental_request_without_a_run_of_that_date_runs_in_full():
    clients = small_base()
    r = run(client_ids=[clients[0].pk])
    assert (r.kind, r.client_ids, r.base_run, r.counts["promoted_to_full"]) == (
        "full",
        None,
        None,
        True,
    )
    assert ClientMetricSnapshot.objects.filter(run=r).count() == 5


def test_merged_clients_are_left_out():
    survivor, merged = ClientFactory(), ClientFactory()
    merged.merged_into = survivor
    merged.save()
    r = run()
    assert list(ClientMetricSnapshot.objects.filter(run=r).values_list("client", flat=True)) == [
        survivor.pk
    ]


def test_pruning_keeps_recent_and_month_end_runs(settings):
    settings.METRIC_RUNS_KEEP_DAYS = 30  # below the reactivated look-back: 181 days are kept
    client = ClientFactory()
    line(client, dt.date(2025, 1, 5), 100)
    today = dt.date(2026, 7, 1)
    old_daily = run(dt.date(2025, 12, 30))  # 183 days before today
    kept_daily = run(dt.date(2026, 1, 1))  # 181 days before today: in the window
    month_end = run(dt.date(2025, 11, 30))
    replaced = run(dt.date(2026, 6, 29))
    updated_replaced = run(dt.date(2026, 6, 29), client_ids=[client.pk])
    replacement = run(dt.date(2026, 6, 29))
    # An incremental run is no replacement: its rows are its base run's.
    updated_replacement = run(dt.date(2026, 6, 29), client_ids=[client.pk])
    failed_old = MetricRun.objects.create(
        as_of=dt.date(2025, 10, 1), kind="full", trigger="nightly", status="failed"
    )
    with recompute_lock() as held:  # a run writing: nothing is deleted
        assert held
        assert metric_runs_prune(today=today) == 0
    assert metric_runs_prune(today=today) == 4
    remaining = set(MetricRun.objects.values_list("pk", flat=True))
    assert remaining == {kept_daily.pk, month_end.pk, replacement.pk, updated_replacement.pk}
    gone = [old_daily.pk, replaced.pk, updated_replaced.pk, failed_old.pk]
    assert not MetricRun.objects.filter(pk__in=gone)
    assert not ClientMetricSnapshot.objects.filter(run__in=gone).exists()
    assert ClientMetricSnapshot.objects.filter(run=replacement).count() == 1
    assert metric_runs_prune(today=today) == 0


def test_snapshots_are_scoped_to_what_the_user_may_see(
    company, km_anna, km_boris, head_gleb, outsider, admin_olga
):
    mine, theirs, foreign = (
        ClientFactory(owner=km_anna),
        ClientFactory(owner=km_boris),
        ClientFactory(owner=outsider),
    )
    r = run()

    def visible(user):
        return {s.client_id for s in selectors.snapshots_for(user, r)}

    assert visible(km_anna) == {mine.pk}
    assert visible(head_gleb) == {mine.pk, theirs.pk}
    assert visible(outsider) == {foreign.pk}
    assert visible(admin_olga) == {mine.pk, theirs.pk, foreign.pk}


def test_selectors_pick_the_latest_good_run():
    ClientFactory()
    assert selectors.latest_successful_run() is None
    assert selectors.snapshots_for(ClientFactory().owner).count() == 0
    early, late = run(day(-1)), run(D)
    MetricRun.objects.create(as_of=day(+1), kind="full", trigger="manual", status="failed")
    assert selectors.latest_successful_run() == late
    assert selectors.latest_successful_run(as_of=day(-1)) == early
    assert selectors.run_for_as_of(day(-1)) == early
    assert selectors.run_for_as_of(day(+1)) is None


def test_the_monthly_summary_handles_returns_and_groups():
    g1, g2 = ProductGroupFactory(name="M1"), ProductGroupFactory(name="M2")
    p1, p2 = ProductFactory(group=g1), ProductFactory(group=g2)
    client = ClientFactory()
    line(client, dt.date(2026, 3, 2), 1000, product=p1, doc="O-1", qty=3)
    line(client, dt.date(2026, 3, 2), -100, product=p2, doc="O-1", qty=-1)  # order of 900
    line(client, dt.date(2026, 3, 9), 200, product=p2, doc="O-2")
    line(client, dt.date(2026, 3, 20), -300, product=p1, doc="R-1", qty=-1)  # a return document
    line(client, dt.date(2026, 4, 1), 50, product=p1, doc="O-3")
    services_summary()
    rows = {
        (r.month, r.product_group_id): (r.revenue, r.lines, r.qty, r.orders)
        for r in MonthlySummary.objects.filter(client=client)
    }
    assert rows == {
        # M1 in March: 1000 − 300; orders: O-1 only (R-1 is a return)
        (dt.date(2026, 3, 1), g1.pk): (Decimal(700), 2, Decimal(2), 1),
        # M2 in March: −100 + 200; O-1 has no positive M2 line, so only O-2
        (dt.date(2026, 3, 1), g2.pk): (Decimal(100), 2, Decimal(0), 1),
        (dt.date(2026, 4, 1), g1.pk): (Decimal(50), 1, Decimal(1), 1),
    }


def services_summary(client_ids=None) -> int:
    from segmentation.engine.summary import monthly_summary_rebuild

    return monthly_summary_rebuild(client_ids=client_ids)


def test_rebuilding_the_summary_for_some_clients_matches_a_full_rebuild():
    one, two = ClientFactory(), ClientFactory()
    line(one, dt.date(2026, 1, 5), 100)
    line(two, dt.date(2026, 2, 5), 100)
    services_summary()
    line(one, dt.date(2026, 1, 6), 50)
    line(two, dt.date(2026, 2, 6), 50)
    services_summary(client_ids=[one.pk])
    partial = dict(MonthlySummary.objects.values_list("client_id", "revenue"))
    assert partial == {one.pk: Decimal(150), two.pk: Decimal(100)}  # two not rebuilt
    services_summary()
    full = dict(MonthlySummary.objects.values_list("client_id", "revenue"))
    assert full == {one.pk: Decimal(150), two.pk: Decimal(150)}


def test_many_clients_are_passed_in_chunks(monkeypatch):
    monkeypatch.setattr(engine_db, "IN_CHUNK", 2)
    clients = small_base()
    run()
    for client in clients:
        line(client, day(-1), 1)
    incremental = run(client_ids=[c.pk for c in clients[:4]])
    assert [snap(incremental, c).revenue_12m for c in clients] == [
        Decimal(11),
        Decimal(21),
        Decimal(31),
        Decimal(41),
        Decimal(50),  # not recomputed
    ]


def test_an_incremental_run_refreshes_its_aggregates_once_it_has_committed(
    django_capture_on_commit_callbacks,
):
    clients = small_base()
    full = run()
    before = stored(full)
    retention_before = full.counts["retention"]
    # A new client joins this month's cohort, and one client buys again; both
    # too small to move anyone else's ABC class (which an incremental run
    # takes from its base).
    newcomer = ClientFactory(external_id="S-new")
    line(newcomer, day(-2), Decimal("0.01"))
    line(clients[4], day(-1), Decimal("0.01"))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        incremental = run(client_ids=[newcomer.pk, clients[4].pk])
    # Stored at once: the clients' rows; the base-wide figures are still the full run's.
    full.refresh_from_db()
    assert full.counts["aggregates_pending"] is True
    assert full.counts["retention"] == retention_before == incremental.counts["retention"]
    pending = stored(full)
    for key in ("cohorts", "reactivation", "development"):
        assert pending[key] == before[key]
    assert pending["snapshots"] != before["snapshots"]
    assert full.counts["clients"] == incremental.counts["clients"] == 6
    assert full.counts["rated"] == incremental.counts["rated"] == 5

    assert len(queued) == 1
    queued[0]()  # the task the commit queues, run in-process
    full.refresh_from_db()
    assert full.counts["aggregates_pending"] is False
    again = run()  # a full run on the same data
    after, fresh = stored(full), stored(again)

    def without_abc(rows):
        return [{k: v for k, v in row.items() if k not in {"abc", "abc_margin"}} for row in rows]

    # Others keep their base ABC class by design (see engine/run.py); the rest is equal.
    assert without_abc(after["snapshots"]) == without_abc(fresh["snapshots"])
    assert after["groups"] == fresh["groups"]
    for key in ("cohorts", "reactivation"):
        assert after[key] == fresh[key]
    coverage = {"coverage_abc_a", "coverage_rest"}  # touches of ABC classes, see above
    assert [
        {k: v for k, v in row.items() if k not in coverage} for row in after["development"]
    ] == [{k: v for k, v in row.items() if k not in coverage} for row in fresh["development"]]
    assert after["development"] != before["development"]
    assert after["cohorts"] != before["cohorts"]
    assert full.counts["retention"] == again.counts["retention"]
    for key in ("clients", "rated", "segments", "statuses", "xyz"):
        assert full.counts[key] == again.counts[key]


def test_a_superseded_or_finished_run_needs_no_refresh():
    clients = small_base()
    full = run()
    assert services.metrics_aggregates_refresh(run_id=full.pk) == "not needed"
    line(clients[0], day(-1), 3)
    first = run(client_ids=[clients[0].pk])
    second = run(client_ids=[clients[0].pk])
    # Both rewrote rows of the full run: one refresh of its figures is due,
    # asked for by either incremental run or by the full run itself.
    assert services.metrics_aggregates_refresh(run_id=first.pk) == "refreshed"
    assert services.metrics_aggregates_refresh(run_id=second.pk) == "not needed"
    assert services.metrics_aggregates_refresh(run_id=full.pk) == "not needed"
    third = run(client_ids=[clients[0].pk])
    with recompute_lock() as held:
        assert held
        assert services.metrics_aggregates_refresh(run_id=third.pk) == "skipped"
    run()  # a later full run of the same date: the first one is read no more
    assert services.metrics_aggregates_refresh(run_id=third.pk) == "not needed"
