"""The tables derived from shipment lines follow every change of the lines.

Triggers mark a client stale whenever one of its lines is written, by any
means (the ORM, a bulk insert, raw SQL, a move to another client, a
delete) and when a product it bought moves to another group; each run
rebuilds the marked clients and takes the marks. The run's figures read
those tables, so each test checks the figures a run stores, and for a
12-month window that does not start and end on month boundaries the
group figures that add the summary's whole months to the part-months'
lines.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection

from crm.models import ShipmentLine
from segmentation.engine.derived import drop_triggers, install_triggers
from segmentation.engine.metrics import Windows
from segmentation.models import (
    ClientDocument,
    ClientGroupShare,
    ClientProduct,
    MonthlySummary,
    StaleMonth,
)
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._data import day, line, run

pytestmark = pytest.mark.django_db

MID = dt.date(2026, 6, 17)  # a mid-month D: the window is 2025-06-18 … 2026-06-17


@pytest.fixture
def bystanders():
    """Clients without lines: with them, a change marks less than half the base, and
    the run rebuilds only the marked months (not every line, as a bulk load does)."""
    return ClientFactory.create_batch(6)


def stale() -> set[int]:
    return set(StaleMonth.objects.values_list("client_id", flat=True))


def stale_months() -> set[tuple[int, dt.date]]:
    return set(StaleMonth.objects.values_list("client_id", "month"))


def snapshot(r, client):
    return r.snapshots.get(client=client)


def groups(r, client) -> dict[int, tuple[Decimal, int, int]]:
    rows = ClientGroupShare.objects.filter(run=r, client=client)
    return {g.product_group_id: (g.revenue_12m, g.orders_12m, g.skus_12m) for g in rows}


def test_a_written_line_marks_its_client_and_the_run_rebuilds_and_unmarks_it():
    client, other = ClientFactory(), ClientFactory()
    line(client, day(-10), "100.25", doc="A-1", cost="60")
    line(client, day(-10), "-0.25", doc="A-1")
    assert stale() == {client.pk}
    r = run()
    assert stale() == set()
    assert list(
        ClientDocument.objects.values_list(
            "client_id", "doc_number", "doc_date", "total_kopecks", "margin_kopecks"
        )
    ) == [(client.pk, "A-1", day(-10), 10000, 4025)]
    assert list(ClientProduct.objects.values_list("client_id", "last_bought_on")) == [
        (client.pk, day(-10))
    ]
    assert snapshot(r, client).revenue_12m == Decimal("100.00")
    assert snapshot(r, other).revenue_12m == 0


def test_changing_deleting_and_moving_lines_reach_the_next_run(bystanders):
    a, b = ClientFactory(), ClientFactory()
    first = line(a, day(-20), 100)
    second = line(a, day(-5), 50)
    run()

    ShipmentLine.objects.filter(pk=first.pk).update(amount=Decimal(300))
    assert stale() == {a.pk}
    r = run()
    assert snapshot(r, a).revenue_12m == Decimal(350)

    ShipmentLine.objects.filter(pk=second.pk).update(client=b)  # moved to another card
    assert stale() == {a.pk, b.pk}
    r = run()
    assert (snapshot(r, a).revenue_12m, snapshot(r, b).revenue_12m) == (Decimal(300), Decimal(50))
    assert snapshot(r, b).last_order_on == day(-5)

    ShipmentLine.objects.filter(client=a).delete()
    assert stale() == {a.pk}
    r = run()
    assert snapshot(r, a).revenue_12m == 0 and snapshot(r, a).last_order_on is None
    assert not ClientDocument.objects.filter(client=a).exists()
    assert not ClientProduct.objects.filter(client=a).exists()
    assert not MonthlySummary.objects.filter(client=a).exists()


def test_a_new_line_rebuilds_only_its_month_and_leaves_the_other_rows_as_they_were(bystanders):
    client = ClientFactory()
    line(client, dt.date(2026, 3, 10), 100, doc="M-1")
    line(client, dt.date(2026, 4, 10), 200, doc="A-1")
    run()
    before = {
        "summary": dict(MonthlySummary.objects.values_list("month", "id")),
        "documents": dict(ClientDocument.objects.values_list("doc_number", "id")),
    }
    line(client, dt.date(2026, 4, 20), 50, doc="A-2")
    assert stale_months() == {(client.pk, dt.date(2026, 4, 1))}
    r = run()
    after = {
        "summary": dict(MonthlySummary.objects.values_list("month", "id")),
        "documents": dict(ClientDocument.objects.values_list("doc_number", "id")),
    }
    assert after["summary"][dt.date(2026, 3, 1)] == before["summary"][dt.date(2026, 3, 1)]
    assert after["summary"][dt.date(2026, 4, 1)] != before["summary"][dt.date(2026, 4, 1)]
    assert after["documents"]["M-1"] == before["documents"]["M-1"]
    assert after["documents"]["A-1"] == before["documents"]["A-1"]  # unchanged document
    assert set(after["documents"]) == {"M-1", "A-1", "A-2"}
    assert MonthlySummary.objects.get(client=client, month=dt.date(2026, 4, 1)).revenue == 250
    s = snapshot(r, client)
    assert (s.revenue_12m, s.orders_12m, s.last_order_on) == (
        Decimal(350),
        3,
        dt.date(2026, 4, 20),
    )


def test_a_line_moved_to_another_month_rebuilds_both_months(bystanders):
    client = ClientFactory()
    moved = line(client, dt.date(2026, 2, 10), 100)
    line(client, dt.date(2026, 5, 10), 10)
    run()
    ShipmentLine.objects.filter(pk=moved.pk).update(doc_date=dt.date(2026, 5, 12))
    assert stale_months() == {(client.pk, dt.date(2026, 2, 1)), (client.pk, dt.date(2026, 5, 1))}
    run()
    assert dict(MonthlySummary.objects.filter(client=client).values_list("month", "revenue")) == {
        dt.date(2026, 5, 1): Decimal(110)
    }
    assert set(ClientDocument.objects.filter(client=client).values_list("doc_date", flat=True)) == {
        dt.date(2026, 5, 10),
        dt.date(2026, 5, 12),
    }


def test_lines_written_in_bulk_or_by_raw_sql_mark_their_clients():
    a, b = ClientFactory(), ClientFactory()
    product = ProductFactory()
    ShipmentLine.objects.bulk_create(
        [
            ShipmentLine(
                client=a, doc_number="B-1", doc_date=day(-3), product=product, qty=1, amount=10
            )
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ShipmentLine._meta.db_table} "
            "(doc_number, doc_date, client_id, product_id, qty, amount, manager_email) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            ["R-1", day(-4), b.pk, product.pk, 1, 20, ""],
        )
    assert stale() == {a.pk, b.pk}
    r = run()
    assert (snapshot(r, a).revenue_12m, snapshot(r, b).revenue_12m) == (Decimal(10), Decimal(20))


def test_a_product_moved_to_another_group_moves_its_buyers_figures(bystanders):
    old, new = ProductGroupFactory(name="Old"), ProductGroupFactory(name="New")
    product, untouched = ProductFactory(group=old), ProductFactory(group=old)
    buyer, bystander = ClientFactory(), ClientFactory()
    line(buyer, day(-30), 70, product=product)
    line(bystander, day(-30), 40, product=untouched)
    run()
    product.group = new
    product.save()
    assert stale() == {buyer.pk}
    product.name = "Renamed, same group"
    product.save()
    assert stale() == {buyer.pk}  # a change that keeps the group marks nobody new
    r = run()
    assert groups(r, buyer) == {new.pk: (Decimal(70), 1, 1)}
    assert groups(r, bystander) == {old.pk: (Decimal(40), 1, 1)}
    assert set(
        MonthlySummary.objects.filter(client=buyer).values_list("product_group", flat=True)
    ) == {new.pk}


def test_the_window_of_a_mid_month_date_is_its_whole_months_and_two_part_months():
    w = Windows(MID)
    assert (w.year_start, w.first_month, w.last_month) == (
        dt.date(2025, 6, 18),
        dt.date(2025, 7, 1),
        dt.date(2026, 5, 1),
    )
    assert w.part_months() == [
        (dt.date(2025, 6, 18), dt.date(2025, 6, 30)),
        (dt.date(2026, 6, 1), dt.date(2026, 6, 17)),
    ]
    month_end = Windows(dt.date(2026, 6, 30))
    assert (month_end.first_month, month_end.last_month) == (
        dt.date(2025, 7, 1),
        dt.date(2026, 6, 1),
    )
    assert month_end.part_months() == []
    leap = Windows(dt.date(2024, 2, 29))  # D−364 = 2023-03-02
    assert leap.part_months() == [(dt.date(2023, 3, 2), dt.date(2023, 3, 31))]
    assert (leap.first_month, leap.last_month) == (dt.date(2023, 4, 1), dt.date(2024, 2, 1))


def test_group_figures_of_a_mid_month_date_count_each_boundary_day_once():
    g1, g2 = ProductGroupFactory(name="G1"), ProductGroupFactory(name="G2")
    p1, p1b, p2 = ProductFactory(group=g1), ProductFactory(group=g1), ProductFactory(group=g2)
    client = ClientFactory()
    start, end = MID - dt.timedelta(days=364), MID
    line(client, start - dt.timedelta(days=1), 1000, product=p1)  # D−365: outside
    line(client, start, 1, product=p1, doc="S")  # D−364, in the first part-month
    line(client, start, 2, product=p2, doc="S")
    line(client, dt.date(2025, 6, 30), 4, product=p1b)  # last day of the first part-month
    line(client, dt.date(2025, 7, 1), 8, product=p1)  # first whole month
    line(client, dt.date(2026, 5, 31), 16, product=p1)  # last whole month
    line(client, dt.date(2026, 6, 1), 32, product=p2, doc="E")  # the last part-month
    line(client, dt.date(2026, 6, 1), -64, product=p1, doc="E")  # … a return document
    line(client, end, 128, product=p2)  # D itself
    line(client, end + dt.timedelta(days=1), 256, product=p2)  # after D: outside
    r = run(MID)
    assert groups(r, client) == {
        # revenue, orders (the return document E is none), products bought
        g1.pk: (Decimal(1 + 4 + 8 + 16 - 64), 4, 2),
        g2.pk: (Decimal(2 + 32 + 128), 2, 1),
    }
    s = snapshot(r, client)
    assert (s.revenue_12m, s.orders_12m, s.skus_12m, s.groups_12m) == (
        Decimal(1 + 2 + 4 + 8 + 16 + 32 - 64 + 128),
        5,  # S, the 30th, 1 July, 31 May, D; not E (total −32)
        3,
        2,
    )
    assert (s.first_order_on, s.second_order_on, s.last_order_on) == (
        start - dt.timedelta(days=1),
        start,
        end,
    )


def test_products_bought_again_after_d_are_counted_from_the_lines(bystanders):
    """The day last bought is after D: whether the product was bought in the
    window is read from the client's lines."""
    group = ProductGroupFactory(name="Later")
    in_window, before_window = ProductFactory(group=group), ProductFactory(group=group)
    client = ClientFactory()
    line(client, MID - dt.timedelta(days=10), 5, product=in_window)
    line(client, MID + dt.timedelta(days=3), 5, product=in_window)
    line(client, MID - dt.timedelta(days=400), 5, product=before_window)
    line(client, MID + dt.timedelta(days=5), 5, product=before_window)
    line(client, MID + dt.timedelta(days=6), -5, product=in_window)  # a return is no purchase
    r = run(MID)
    assert groups(r, client)[group.pk][2] == 1
    assert snapshot(r, client).skus_12m == 1
    later = run(MID + dt.timedelta(days=10))
    assert snapshot(later, client).skus_12m == 2


def test_migrate_puts_back_triggers_a_table_rebuild_lost():
    client = ClientFactory()
    drop_triggers()
    line(client, day(-1), 5)
    assert stale() == set()  # no triggers: nothing marked
    call_command("migrate", verbosity=0)
    line(client, day(-2), 5)
    assert stale() == {client.pk}
    install_triggers()  # idempotent
    install_triggers()
    ShipmentLine.objects.filter(client=client).delete()
    assert stale() == {client.pk}
