"""The engine's fast paths give what the plain statements give.

- a document with a positive line whose total is not positive is no order,
  in the monthly summary and in the 12-month group figures (the staged
  non-orders replace a window over every document);
- PostgreSQL's sums in whole kopecks store the same rows as plain sums
  (the portable SQL, which SQLite always runs);
- rebuilding the summary rewrites only the rows that changed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from segmentation.engine import documents
from segmentation.engine.derived import mark_all_stale
from segmentation.engine.summary import monthly_summary_rebuild
from segmentation.models import ClientDocument, ClientGroupShare, ClientProduct, MonthlySummary
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._compare import stored
from tests.segmentation._data import day, line, run, wallet

pytestmark = pytest.mark.django_db


def test_a_document_with_a_positive_line_but_no_positive_total_is_no_order():
    g1, g2 = ProductGroupFactory(name="P1"), ProductGroupFactory(name="P2")
    p1, p2 = ProductFactory(group=g1), ProductFactory(group=g2)
    client = ClientFactory()
    line(client, day(-5), 100, product=p1, doc="MIX-1")
    line(client, day(-5), -250, product=p2, doc="MIX-1")  # total −150: a return
    line(client, day(-3), 40, product=p1, doc="ORD-1")
    r = run()
    month = day(-5).replace(day=1)
    assert day(-3).replace(day=1) == month
    summary = {
        s.product_group_id: (s.revenue, s.orders)
        for s in MonthlySummary.objects.filter(client=client, month=month)
    }
    assert summary == {g1.pk: (Decimal(140), 1), g2.pk: (Decimal(-250), 0)}
    shares = {s.product_group_id: s.orders_12m for s in ClientGroupShare.objects.filter(run=r)}
    assert shares == {g1.pk: 1, g2.pk: 0}
    snapshot = r.snapshots.get(client=client)
    assert (snapshot.orders_12m, snapshot.first_order_on) == (1, day(-3))


def test_kopeck_sums_and_plain_sums_store_the_same_rows(monkeypatch):
    g1, g2 = ProductGroupFactory(name="K1"), ProductGroupFactory(name="K2")
    p1, p2 = ProductFactory(group=g1), ProductFactory(group=g2)
    for n in range(3):
        client = ClientFactory()
        wallet(client, 50_000 + n)
        line(client, day(-2 - n), "1234.57", product=p1, doc=f"A-{n}", qty="1.125", cost="999.99")
        line(client, day(-2 - n), "-0.01", product=p2, doc=f"A-{n}", qty="-0.001")
        line(client, day(-400 - n), "0.10", product=p2, qty="3", cost="0.20")
        line(client, day(-40), "-5.55", product=p1, doc=f"R-{n}")
    fast = run()
    fast_summary = sorted(MonthlySummary.objects.values_list(*SUMMARY_FIELDS))
    monkeypatch.setattr(documents, "is_postgres", lambda: False)
    for model in (MonthlySummary, ClientDocument, ClientProduct):
        model.objects.all().delete()
    mark_all_stale()  # the next run rebuilds every derived row with plain sums
    portable = run()
    assert stored(fast) == stored(portable)
    assert sorted(MonthlySummary.objects.values_list(*SUMMARY_FIELDS)) == fast_summary


SUMMARY_FIELDS = ("client_id", "month", "product_group_id", "revenue", "lines", "qty", "orders")


def test_rebuilding_rewrites_only_the_rows_that_changed():
    client = ClientFactory()
    line(client, dt.date(2026, 1, 5), 100)
    line(client, dt.date(2026, 2, 5), 200)
    assert monthly_summary_rebuild() == 2
    before = dict(MonthlySummary.objects.values_list("month", "id"))
    line(client, dt.date(2026, 2, 6), 50)
    assert monthly_summary_rebuild(client_ids=[client.pk]) == 2
    after = dict(MonthlySummary.objects.values_list("month", "id"))
    assert after[dt.date(2026, 1, 1)] == before[dt.date(2026, 1, 1)]  # untouched
    assert after[dt.date(2026, 2, 1)] != before[dt.date(2026, 2, 1)]  # rewritten
    revenue = dict(MonthlySummary.objects.values_list("month", "revenue"))
    assert revenue == {dt.date(2026, 1, 1): Decimal(100), dt.date(2026, 2, 1): Decimal(250)}
    assert monthly_summary_rebuild(client_ids=[]) == 0


def test_a_failing_statement_is_the_error_the_run_records(monkeypatch):
    from django.db import connection

    from segmentation.engine import metrics
    from segmentation.services import metrics_recompute

    line(ClientFactory(), day(-1), 10)

    def broken(*args, **kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM engine_no_such_table")

    monkeypatch.setattr(metrics, "derived_line_metrics", broken)
    r = metrics_recompute(as_of=day(0), trigger="manual")
    assert r.status == "failed"
    assert "engine_no_such_table" in r.error
