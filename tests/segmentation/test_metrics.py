"""Golden tests of the per-client metrics of domain.md "Metrics", one formula each.

D = 2026-06-30. The 12-month window is [D−364, D] = [2025-07-01, 2026-06-30];
the previous one is [D−729, D−365] = [2024-07-01, 2025-06-30].
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._data import D, day, line, run, snap

pytestmark = pytest.mark.django_db


def test_revenue_windows_are_inclusive_at_both_ends():
    client = ClientFactory()
    line(client, D, 1)  # in the 12 months (last day)
    line(client, day(-364), 10)  # in the 12 months (first day)
    line(client, day(-365), 100)  # previous 12 months (last day)
    line(client, day(-729), 1000)  # previous 12 months (first day)
    line(client, day(-730), 10000)  # before both windows
    line(client, day(+1), 100000)  # after D: never read
    s = snap(run(), client)
    assert s.revenue_12m == Decimal(1 + 10)
    assert s.revenue_prev_12m == Decimal(100 + 1000)
    # (11 − 1100) / 1100 = −0.99
    assert s.yoy_growth == Decimal("-0.99")


def test_yoy_growth_is_empty_unless_the_previous_year_had_revenue():
    grew, new_client, only_returns = ClientFactory(), ClientFactory(), ClientFactory()
    line(grew, day(-400), 400)
    line(grew, day(-10), 500)  # (500 − 400) / 400 = 0.25
    line(new_client, day(-10), 500)  # previous 12 months: 0
    line(only_returns, day(-800), 300)
    line(only_returns, day(-400), -300)  # previous 12 months: −300 ≤ 0
    line(only_returns, day(-10), 100)
    r = run()
    assert snap(r, grew).yoy_growth == Decimal("0.25")
    assert snap(r, new_client).yoy_growth is None
    assert snap(r, only_returns).yoy_growth is None


def test_a_return_line_lowers_revenue_and_the_order_stays_an_order():
    client = ClientFactory()
    line(client, day(-5), 1000, doc="RN-1")
    line(client, day(-5), -200, doc="RN-1")  # same document: total 800 > 0
    s = snap(run(), client)
    assert (s.revenue_12m, s.orders_12m) == (Decimal(800), 1)
    assert s.avg_check_12m == Decimal(800)  # 800 / 1


def test_a_whole_return_document_counts_in_revenue_but_is_not_an_order():
    client = ClientFactory()
    line(client, day(-30), 1000, doc="RN-1")
    line(client, day(-5), -300, doc="VZ-1")  # a return document: total −300
    s = snap(run(), client)
    assert s.revenue_12m == Decimal(700)  # 1000 − 300
    assert s.orders_12m == 1
    assert s.avg_check_12m == Decimal(700)  # 700 / 1
    assert s.last_order_on == day(-30)  # the return is not an order
    assert s.days_since_last_order == 30


def test_a_document_with_a_zero_total_is_not_an_order():
    client = ClientFactory()
    line(client, day(-30), 1000)
    line(client, day(-5), 500, doc="X-1")
    line(client, day(-5), -500, doc="X-1")  # total 0: "total ≤ 0 is a return"
    s = snap(run(), client)
    assert (s.orders_12m, s.last_order_on) == (1, day(-30))


def test_the_same_document_number_on_two_dates_is_two_documents():
    two_orders, order_and_return = ClientFactory(), ClientFactory()
    line(two_orders, day(-20), 500, doc="A-1")
    line(two_orders, day(-10), 300, doc="A-1")
    # By number alone this would be one order of 800; by (number, date) it is two.
    line(order_and_return, day(-20), 500, doc="B-1")
    line(order_and_return, day(-10), -600, doc="B-1")
    # By number alone the total is −100 (no order); by (number, date): an order and a return.
    r = run()
    s = snap(r, two_orders)
    assert (s.orders_12m, s.avg_check_12m) == (2, Decimal(400))  # 800 / 2
    s = snap(r, order_and_return)
    assert (s.orders_12m, s.revenue_12m, s.last_order_on) == (1, Decimal(-100), day(-20))
    assert s.avg_check_12m == Decimal(-100)  # revenue_12m / orders_12m = −100 / 1


def test_skus_and_groups_count_positive_lines_in_the_window():
    g1, g2, g3 = (ProductGroupFactory(name=n) for n in ("G1", "G2", "G3"))
    p1, p2 = ProductFactory(group=g1), ProductFactory(group=g1)
    p3, p4 = ProductFactory(group=g2), ProductFactory(group=g3)
    client = ClientFactory()
    line(client, day(-10), 100, product=p1, doc="O-1")
    line(client, day(-10), 100, product=p2, doc="O-1")
    line(client, day(-20), 100, product=p1)  # the same SKU again
    line(client, day(-30), -50, product=p3)  # only returned: not bought
    line(client, day(-400), 100, product=p4)  # before the window
    s = snap(run(), client)
    assert (s.skus_12m, s.groups_12m) == (2, 1)  # p1, p2 of G1


def test_first_and_last_order_over_all_history_up_to_d():
    client = ClientFactory()
    line(client, day(-900), 100)  # first order, far outside every window
    line(client, day(-10), 100)  # last order
    line(client, day(-3), -100)  # a later return does not move the last order
    line(client, day(+5), 100)  # after D
    s = snap(run(), client)
    assert (s.first_order_on, s.last_order_on) == (day(-900), day(-10))
    assert s.days_since_last_order == 10


def test_usual_gap_is_the_median_gap_between_distinct_order_dates():
    odd, even = ClientFactory(), ClientFactory()
    for offset in (-100, -70, -50, -10):  # gaps 30, 20, 40 → median 30
        line(odd, day(offset), 100)
    line(odd, day(-50), 100)  # a second order on the same date adds no gap
    for offset in (-100, -90, -60, -40, -35):  # gaps 10, 30, 20, 5 → (10 + 20) / 2 = 15
        line(even, day(offset), 100)
    r = run()
    assert snap(r, odd).usual_gap_days == Decimal(30)
    assert snap(r, even).usual_gap_days == Decimal("15.0")


def test_two_order_dates_give_no_usual_gap():
    two, two_in_window, three = ClientFactory(), ClientFactory(), ClientFactory()
    line(two, day(-60), 100)
    line(two, day(-30), 100)
    line(two_in_window, day(-730), 100)  # outside [D−729, D]
    line(two_in_window, day(-60), 100)
    line(two_in_window, day(-30), 100)
    line(three, day(-729), 100)  # first day of the window
    line(three, day(-60), 100)
    line(three, day(-30), 100)  # gaps 669 and 30 → median (669 + 30) / 2 = 349.5
    r = run()
    assert snap(r, two).usual_gap_days is None
    assert snap(r, two_in_window).usual_gap_days is None
    assert snap(r, three).usual_gap_days == Decimal("349.5")


def test_returns_do_not_count_as_order_dates_for_the_gap():
    client = ClientFactory()
    line(client, day(-60), 100)
    line(client, day(-45), -20)  # a return document between the orders
    line(client, day(-30), 100)
    assert snap(run(), client).usual_gap_days is None  # only two order dates


def test_lines_after_d_are_never_read():
    client = ClientFactory()
    line(client, day(-100), 100)
    before = snap(run(), client)
    line(client, day(+1), 5000)
    line(client, day(+1), -5000, doc="RET-1")
    after = snap(run(), client)
    fields = ["revenue_12m", "orders_12m", "last_order_on", "status", "days_since_last_order"]
    assert [getattr(after, f) for f in fields] == [getattr(before, f) for f in fields]


def test_suggested_sales_type_follows_the_usual_gap():
    monthly, bimonthly, rare = ClientFactory(), ClientFactory(), ClientFactory()
    for n in range(4):
        line(monthly, day(-31 * n), 100)  # gap 31 → transactional (≤ 31)
        line(bimonthly, day(-61 * n), 100)  # gap 61 → mixed (≤ 61)
        line(rare, day(-62 * n), 100)  # gap 62 → consultative
    r = run()
    assert snap(r, monthly).suggested_sales_type == "transactional"
    assert snap(r, bimonthly).suggested_sales_type == "mixed"
    assert snap(r, rare).suggested_sales_type == "consultative"


def test_margin_is_amount_minus_cost_over_lines_with_a_cost():
    client = ClientFactory()
    line(client, day(-10), 1000, cost=600)  # 400
    line(client, day(-10), 500)  # no cost known: no margin counted
    line(client, day(-5), -100, cost=-60)  # a return gives back −40
    assert snap(run(), client).margin_12m == Decimal(360)


def test_a_client_without_lines_is_a_prospect_with_zeros():
    client = ClientFactory()
    s = snap(run(), client)
    assert (s.revenue_12m, s.orders_12m, s.skus_12m, s.groups_12m) == (0, 0, 0, 0)
    assert s.first_order_on is None and s.avg_check_12m is None
    assert s.status == "prospect"


def test_owner_at_the_time_comes_from_the_ownership_ledger(km_anna, km_boris):
    from django.utils import timezone

    from crm.models import OwnershipChange

    client = ClientFactory(owner=km_boris)  # today's owner
    OwnershipChange.objects.create(
        client=client,
        from_user=km_anna,
        to_user=km_boris,
        kind="reassignment",
        changed_at=timezone.make_aware(dt.datetime.combine(day(+1), dt.time(9))),
    )
    assert snap(run(), client).owner == km_anna  # Boris took over the day after D
    assert snap(run(day(+1)), client).owner == km_boris
