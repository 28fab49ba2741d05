"""Golden tests of retention cohorts, reactivation conversion and team development metrics."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Activity, Task
from segmentation.models import DevelopmentMetric, ReactivationConversion, RetentionCohort
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._data import D, day, line, run, wallet

pytestmark = pytest.mark.django_db

# The last day on which December 2025 is mature: 2025-12-31 + 180 days.
D_R = dt.date(2025, 12, 31) + dt.timedelta(days=180)
DAYS = dt.timedelta(days=1)


def cohort(run_, year: int, month: int) -> RetentionCohort:
    return RetentionCohort.objects.get(run=run_, cohort_month=dt.date(year, month, 1))


def test_retention_counts_a_later_order_within_180_days():
    first = dt.date(2025, 1, 10)
    retained, late, same_day, strategic = (ClientFactory() for _ in range(4))
    strategic.sales_type = "strategic"
    strategic.save()
    line(retained, first, 100)
    line(retained, first + 180 * DAYS, 100)  # the 180th day after: retained
    line(late, first, 100)
    line(late, first + 181 * DAYS, 100)
    line(same_day, first, 100)
    line(same_day, first, 100)  # another document, same date: not "a later date"
    line(strategic, first, 100)
    line(strategic, first + 10 * DAYS, 100)  # strategic sales are left out
    r = run(D_R)
    january = cohort(r, 2025, 1)
    assert (january.size, january.retained, january.mature) == (3, 1, True)
    assert january.ratio == Decimal("0.333333")  # 1 / 3


def test_a_return_after_the_first_order_is_not_a_second_purchase():
    client = ClientFactory()
    line(client, dt.date(2025, 1, 10), 100)
    line(client, dt.date(2025, 2, 10), -50)
    january = cohort(run(D_R), 2025, 1)
    assert (january.size, january.retained) == (1, 0)


def test_a_cohort_is_mature_when_its_last_day_plus_180_days_is_not_after_d():
    december, january = ClientFactory(), ClientFactory()
    line(december, dt.date(2025, 12, 31), 100)
    line(december, dt.date(2026, 1, 5), 100)
    line(january, dt.date(2026, 1, 1), 100)
    line(january, dt.date(2026, 1, 2), 100)
    r = run(D_R)
    assert (cohort(r, 2025, 12).mature, cohort(r, 2025, 12).ratio) == (True, Decimal(1))
    assert (cohort(r, 2026, 1).mature, cohort(r, 2026, 1).ratio) == (False, None)
    assert cohort(r, 2026, 1).retained == 1  # counted, but not a ratio yet
    assert RetentionCohort.objects.filter(run=r).last().cohort_month == dt.date(2026, 6, 1)


def test_the_headline_pools_the_12_latest_mature_calendar_months():
    # December 2024: two clients who never came back (the 13th mature month back).
    for _ in range(2):
        line(ClientFactory(), dt.date(2024, 12, 10), 100)
    # January … December 2025, March left empty: one retained client each.
    for month in range(1, 13):
        if month == 3:
            continue
        client = ClientFactory()
        line(client, dt.date(2025, month, 10), 100)
        line(client, dt.date(2025, month, 20), 100)
    line(ClientFactory(), dt.date(2026, 1, 10), 100)  # immature: left out
    r = run(D_R)
    # Jan–Dec 2025 are the 12 latest mature months: 11 retained of 11 (March has none).
    # Skipping the empty month would wrongly pull in December 2024: 11 of 13.
    assert r.counts["retention"] == {"size": 11, "retained": 11, "months": 12, "ratio": 1.0}
    assert cohort(r, 2025, 3).size == 0 and cohort(r, 2025, 3).ratio is None


def _attempt(client, person, on: dt.date, *, creator, status="open"):
    return Task.objects.create(
        client=client,
        title="Reactivate",
        kind="reactivation",
        due_on=on,
        assignee=person,
        created_by=creator,
        status=status,
        created_at=timezone.make_aware(dt.datetime.combine(on, dt.time(10))),
    )


def test_reactivation_conversion_counts_orders_within_90_days_after_the_attempt(
    km_anna, km_boris, head_gleb
):
    d0 = dt.date(2026, 1, 31)  # the run the managers saw before their attempts
    attempt_on = dt.date(2026, 2, 10)
    converted, too_late, same_day, active, strategic, cancelled = (
        ClientFactory() for _ in range(6)
    )
    strategic.sales_type = "strategic"
    strategic.save()
    for client in (converted, too_late, same_day, strategic, cancelled):
        line(client, day(-800, as_of=d0), 100)
        line(client, day(-200, as_of=d0), 100)  # sleeping at D0 (no usual gap, > 90 days)
    line(active, day(-10, as_of=d0), 100)
    line(active, day(-800, as_of=d0), 100)
    run(d0)
    for client in (converted, too_late, same_day, active, strategic):
        _attempt(client, km_anna, attempt_on, creator=head_gleb)
    _attempt(cancelled, km_anna, attempt_on, creator=head_gleb, status="cancelled")
    _attempt(converted, km_boris, attempt_on + 3 * DAYS, creator=head_gleb)
    line(converted, attempt_on + 90 * DAYS, 100)  # the 90th day after: converted
    line(too_late, attempt_on + 91 * DAYS, 100)
    line(same_day, attempt_on, 100)  # not after the attempt
    r = run(D)
    february = dt.date(2026, 2, 1)
    everyone = ReactivationConversion.objects.get(run=r, period=february, person=None)
    # converted, too_late, same_day (active is not lapsed; strategic and cancelled are out)
    assert (everyone.attempted, everyone.converted, everyone.mature) == (3, 1, True)
    assert everyone.ratio == Decimal("0.333333")
    anna = ReactivationConversion.objects.get(run=r, period=february, person=km_anna)
    assert (anna.attempted, anna.converted) == (3, 1)
    boris = ReactivationConversion.objects.get(run=r, period=february, person=km_boris)
    # Boris tried on day 3: the order came 87 days after his attempt.
    assert (boris.attempted, boris.converted) == (1, 1)
    # Everyone has a row for each of the 12 months up to D's month.
    assert ReactivationConversion.objects.filter(run=r, person=None).count() == 12
    june = ReactivationConversion.objects.get(run=r, period=dt.date(2026, 6, 1), person=None)
    assert (june.attempted, june.ratio, june.mature) == (0, None, False)


def test_development_metrics_of_a_manager_a_team_and_the_base(company, km_anna, km_boris):
    g1, g2 = ProductGroupFactory(name="G1"), ProductGroupFactory(name="G2")
    p1, p2 = ProductFactory(group=g1), ProductFactory(group=g2)
    grew = ClientFactory(owner=km_anna, external_id="C-1")
    fell = ClientFactory(owner=km_anna, external_id="C-2")
    small = ClientFactory(owner=km_boris, external_id="C-3")
    line(grew, dt.date(2025, 3, 1), 1000, product=p1)  # previous 12 months and previous YTD
    line(grew, dt.date(2026, 3, 1), 1000, product=p1)
    line(grew, dt.date(2026, 6, 10), 500, product=p2)  # after the start-of-period run
    line(fell, dt.date(2025, 3, 1), 1000, product=p1)
    line(fell, dt.date(2026, 3, 1), 400, product=p1)
    line(small, dt.date(2026, 3, 1), 100, product=p1)
    wallet(grew, 12000)
    wallet(fell, 5000)
    start = run(dt.date(2026, 5, 31))  # the period (June) starts here
    at = timezone.make_aware(dt.datetime(2026, 5, 10, 10))
    for purpose, minutes, who, when in (
        ("development", 60, km_anna, at),
        ("sale", 180, km_anna, at),
        ("development", 600, km_anna, at - dt.timedelta(days=400)),  # before the 12 months
        ("development", 999, km_boris, at),
    ):
        Activity.objects.create(
            client=grew,
            kind="call",
            purpose=purpose,
            duration_minutes=minutes,
            performed_by=who,
            entered_by=who,
            summary="…",
            occurred_at=when,
        )
    r = run(D)
    assert start.pk < r.pk
    anna = DevelopmentMetric.objects.get(run=r, scope="manager", manager=km_anna)
    # grew: 2 orders, 2 SKUs, 2 groups; fell: 1, 1, 1 → averages 1.5
    assert (anna.clients, anna.buying_clients) == (2, 2)
    assert (anna.avg_orders, anna.avg_skus, anna.avg_groups) == (Decimal("1.5"),) * 3
    # G1: (1000 + 400) / 2 orders = 700; G2: 500 / 1
    assert anna.avg_check_by_group == {str(g1.pk): 700.0, str(g2.pk): 500.0}
    # (1500 + 400) / (12000 + 5000) = 0.11176470…; median of 0.125 and 0.08 = 0.1025
    assert anna.share_of_wallet_weighted == Decimal("0.11176471")
    assert anna.share_of_wallet_median == Decimal("0.1025")
    assert (anna.grew_ytd, anna.grew_ytd_base) == (1, 2)  # 1500 > 1000; 400 < 1000
    assert (anna.grew_12m, anna.grew_12m_base) == (1, 2)
    assert anna.revenue_retention == Decimal("0.95")  # (1500 + 400) / (1000 + 1000)
    # Threshold: 5000 + 0.8 × 7000 = 10600. "grew" at the start: 1000 / 12000 < 0.10 → B;
    # at D: 1500 / 12000 = 0.125 → A, a move on the share axis credited to Anna.
    assert (anna.moved_up, anna.moved_by_potential, anna.moved_down) == (1, 0, 0)
    assert anna.development_time_share == Decimal("0.25")  # 60 / (60 + 180)

    base = DevelopmentMetric.objects.get(run=r, scope="base")
    # ABC: 1500, 400, 100 of 2000 → A (0), A (0.75), C (0.95): both A clients have a
    # wallet verified within 12 months, the one C client has none.
    assert (base.coverage_abc_a, base.coverage_rest) == (Decimal(1), Decimal(0))
    assert base.clients == 3
    moscow = DevelopmentMetric.objects.get(run=r, scope="team", team=company["moscow"])
    sales = DevelopmentMetric.objects.get(run=r, scope="team", team=company["sales"])
    assert (moscow.clients, sales.clients) == (3, 3)  # a team counts its subtree
    # Anna's and Boris's minutes: (60 + 999) / (60 + 180 + 999) = 0.8547215…
    assert moscow.development_time_share == Decimal("0.854722")
    segment_a = DevelopmentMetric.objects.get(run=r, scope="segment", segment="A")
    assert (segment_a.clients, segment_a.moved_up) == (1, 1)
