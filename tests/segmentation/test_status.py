"""Golden tests of the lifecycle status: each rule and its boundary day.

D = 2026-06-30. An order at D−800 (outside every window) makes a client old,
so that "new" does not hide the rule under test.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.factories import ClientFactory
from tests.segmentation._data import D, day, line, run, snap

pytestmark = pytest.mark.django_db


def old_client_with_orders(*offsets: int, as_of: dt.date = D):
    client = ClientFactory()
    line(client, day(-800, as_of=as_of), 100)
    for offset in offsets:
        line(client, day(offset, as_of=as_of), 100)
    return client


def test_prospect_has_no_order_up_to_d():
    nothing, only_return, future = ClientFactory(), ClientFactory(), ClientFactory()
    line(only_return, day(-10), -100)
    line(future, day(+1), 100)
    r = run()
    assert {snap(r, c).status for c in (nothing, only_return, future)} == {"prospect"}


def test_lost_after_more_than_365_days():
    on_the_day = old_client_with_orders(-365)  # 365 is not > 365 …
    lost = old_client_with_orders(-366)
    r = run()
    assert snap(r, lost).status == "lost"
    assert snap(r, on_the_day).status == "sleeping"  # … but > 90 without a usual gap


def test_sleeping_after_twice_the_usual_gap():
    # gaps of 40 days → usual gap 40 → sleeping after 2 × 40 = 80 days
    awake = old_client_with_orders(-200, -160, -120, -80)
    asleep = old_client_with_orders(-201, -161, -121, -81)
    r = run()
    assert snap(r, awake).usual_gap_days == 40
    assert (snap(r, awake).status, snap(r, asleep).status) == ("active", "sleeping")


def test_sleeping_never_before_the_30_day_floor():
    # gaps of 10 days → 2 × 10 = 20, but the floor is 30 days
    awake = old_client_with_orders(-50, -40, -30)
    asleep = old_client_with_orders(-51, -41, -31)
    r = run()
    assert snap(r, awake).days_since_last_order == 30
    assert (snap(r, awake).status, snap(r, asleep).status) == ("active", "sleeping")


def test_sleeping_after_90_days_without_a_usual_gap():
    awake = old_client_with_orders(-90)  # two order dates only: no usual gap
    asleep = old_client_with_orders(-91)
    r = run()
    assert snap(r, awake).usual_gap_days is None
    assert (snap(r, awake).status, snap(r, asleep).status) == ("active", "sleeping")


def test_new_when_the_first_order_is_within_the_last_90_days():
    new, not_new = ClientFactory(), ClientFactory()
    line(new, day(-89), 100)  # [D−89, D] is "within the last 90 days"
    line(not_new, day(-90), 100)
    r = run()
    assert (snap(r, new).status, snap(r, not_new).status) == ("new", "active")


def test_a_sleeping_new_client_is_sleeping_first():
    client = ClientFactory()
    for offset in (-89, -84, -79):  # gap 5 → floor 30; 79 days since the last order
        line(client, day(offset), 100)
    assert snap(run(), client).status == "sleeping"


def test_reactivated_across_three_runs():
    d1 = dt.date(2026, 1, 31)
    client = ClientFactory()
    for offset in range(-400, -100, 20):  # every 20 days until D1−120
        line(client, day(offset, as_of=d1), 100)
    first = run(d1)
    assert snap(first, client).status == "sleeping"  # 120 > 2 × 20

    d2 = d1 + dt.timedelta(days=60)
    line(client, d2 - dt.timedelta(days=5), 100)  # the comeback order
    second = run(d2)
    assert snap(second, client).status == "reactivated"  # sleeping at D1 ∈ [D2−180, D2−1]

    # Keep ordering every 20 days so the client is never sleeping again.
    for offset in range(15, 200, 20):
        line(client, d2 + dt.timedelta(days=offset), 100)
    on_edge = run(d1 + dt.timedelta(days=180))  # D1 = D−180 is still in the window
    assert snap(on_edge, client).status == "reactivated"
    third = run(d1 + dt.timedelta(days=181))  # D1 left the window; later runs said reactivated
    assert snap(third, client).status == "active"


def test_a_comeback_needs_an_order_within_the_last_90_days():
    d1 = dt.date(2026, 1, 31)
    client = ClientFactory()
    for offset in (-800, -410, -200):
        line(client, day(offset, as_of=d1), 100)
    # At D1 two order dates lie in the gap window: no usual gap, 200 > 90 days.
    assert snap(run(d1), client).status == "sleeping"
    line(client, d1 + dt.timedelta(days=10), 100)
    # Now the dates D1−410, D1−200, D1+10 give gaps of 210: sleeping only after 420 days.
    recent = snap(run(d1 + dt.timedelta(days=99)), client)
    assert (recent.days_since_last_order, recent.status) == (89, "reactivated")
    later = snap(run(d1 + dt.timedelta(days=101)), client)
    # D1 is still in the window, but the comeback order is 91 days old.
    assert (later.days_since_last_order, later.status) == (91, "active")


def test_only_the_latest_good_run_of_a_day_counts_for_reactivated():
    from segmentation.models import ClientMetricSnapshot

    d1 = dt.date(2026, 1, 31)
    client = ClientFactory()
    line(client, day(-800, as_of=d1), 100)
    line(client, day(-10, as_of=d1), 100)
    first = run(d1)
    assert snap(first, client).status == "active"
    rerun = run(d1)  # the same day again: this one replaces the first
    # Pretend the replaced first run had said sleeping (say, before a corrected import).
    ClientMetricSnapshot.objects.filter(run=first, client=client).update(status="sleeping")
    line(client, d1 + dt.timedelta(days=20), 100)
    s = snap(run(d1 + dt.timedelta(days=30)), client)
    assert rerun.pk > first.pk and s.status == "active"
    # Control: had the rerun said sleeping, the client would be reactivated.
    ClientMetricSnapshot.objects.filter(run=rerun, client=client).update(status="sleeping")
    assert snap(run(d1 + dt.timedelta(days=30)), client).status == "reactivated"
