"""Work lists read from the latest run: hand-made data, expected rows worked out here.

The rules use a fixed potential threshold of 1 000 000 (wallet ≥ 1 M is high
potential) and the default share threshold of 10 %, so each client's
segment can be read off its wallet and revenue:
A = wallet 2 M, revenue ≥ 200 k; B = wallet 2 M, revenue < 200 k;
C = wallet 100 k, revenue ≥ 10 k; D = wallet 100 k, revenue < 10 k.
Service standards are the defaults: A 14 days, B 21, C 45, D 90.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from crm.models import Activity, ClientGrant, Contact
from segmentation import selectors
from segmentation.models import DevelopmentMetric
from segmentation.services import segment_rule_set_save
from tests.factories import ClientFactory, ContactFactory
from tests.segmentation._data import D, day, line, run, wallet

pytestmark = pytest.mark.django_db

MAY_31 = dt.date(2026, 5, 31)


def touch(client: Any, on: dt.date, *, contact: Contact | None = None, kind: str = "call"):
    noon = timezone.make_aware(dt.datetime.combine(on, dt.time(12)))
    return Activity.objects.create(
        client=client,
        contact=contact,
        kind=kind,
        occurred_at=noon,
        performed_by=client.owner,
        entered_by=client.owner,
        summary="touch",
    )


def rated(owner: Any, segment: str, *, name: str, revenue: int | None = None, **kw) -> Any:
    """A client that lands in ``segment`` with one order ten days before D."""
    client = ClientFactory(owner=owner, name=name, **kw)
    big = segment in ("A", "B")
    wallet(client, 2_000_000 if big else 100_000)
    default = {"A": 300_000, "B": 10_000, "C": 50_000, "D": 1_000}[segment]
    line(client, day(-10), revenue or default)
    return client


def names(rows) -> list[str]:
    return [row.client.name for row in rows]


# ---------------------------------------------------------------- overdue touches


@pytest.fixture
def overdue_data(company, amount_rules, km_anna, km_boris, outsider):
    c = {
        "a_fresh": rated(km_anna, "A", name="A touched 14 days ago"),
        "a_stale": rated(km_anna, "A", name="A touched 15 days ago"),
        "b_never": rated(km_boris, "B", name="B never touched"),
        "c_fresh": rated(km_anna, "C", name="C touched 10 days ago"),
        "d_stale": rated(km_anna, "D", name="D touched 100 days ago"),
        "unrated": ClientFactory(owner=km_anna, name="Unrated, never touched"),
        "foreign": rated(outsider, "D", name="Outsider's D, never touched"),
    }
    touch(c["a_fresh"], day(-14))
    touch(c["a_stale"], day(-15), kind="email")
    touch(c["a_stale"], day(+1))  # after "today": not a touch yet
    touch(c["c_fresh"], day(-10), kind="visit")
    touch(c["d_stale"], day(-100), kind="letter")
    result = run(D)
    return c, result


def test_overdue_touches_compares_the_last_touch_with_the_segment_standard(
    overdue_data, km_anna, head_gleb, outsider, admin_olga
):
    _clients, _run = overdue_data
    # Gleb heads Anna and Boris. Never touched first, then the oldest touch:
    # B (never; norm 21), D (100 days > 90), A (15 days > 14). A at 14 days
    # and C at 10 days (norm 45) keep their standard; unrated has no standard.
    rows = list(selectors.overdue_touches(head_gleb, D))
    assert names(rows) == ["B never touched", "D touched 100 days ago", "A touched 15 days ago"]
    assert [row.max_days_between_touches for row in rows] == [21, 90, 14]
    assert rows[0].last_touch_at is None and selectors.touch_due_on(rows[0]) is None
    assert timezone.localdate(rows[2].last_touch_at) == day(-15)
    assert selectors.touch_due_on(rows[2]) == day(-1)
    assert selectors.touch_due_on(rows[1]) == day(-10)
    # Anna sees her own only; the outsider only theirs; the admin all four.
    assert names(selectors.overdue_touches(km_anna, D)) == [
        "D touched 100 days ago",
        "A touched 15 days ago",
    ]
    assert names(selectors.overdue_touches(outsider, D)) == ["Outsider's D, never touched"]
    assert len(selectors.overdue_touches(admin_olga, D)) == 4
    # A day later the A client touched 14 days ago is overdue too.
    assert "A touched 14 days ago" in names(selectors.overdue_touches(km_anna, D + dt.timedelta(1)))


def test_a_changed_standard_applies_at_once_and_orders_count_when_set(
    overdue_data, km_anna, head_vera, settings
):
    rules = selectors.SegmentRuleSet.objects.active()
    segments = {**rules.segments, "A": {**rules.segments["A"], "max_days_between_touches": 20}}
    segment_rule_set_save(changes={"segments": segments}, acting_user=head_vera, comment="A: 20")
    assert names(selectors.overdue_touches(km_anna, D)) == ["D touched 100 days ago"]
    # The D client ordered 10 days ago: with orders counting as touches it is not overdue.
    settings.SEGMENT_ORDER_COUNTS_AS_TOUCH = True
    assert names(selectors.overdue_touches(km_anna, D)) == []


def test_no_run_means_empty_work_lists(company, km_anna):
    ClientFactory(owner=km_anna)
    assert list(selectors.overdue_touches(km_anna, D)) == []
    assert list(selectors.sleeping_and_lost(km_anna)) == []
    assert list(selectors.unrated_clients(km_anna)) == []
    assert list(selectors.segment_movements(km_anna)) == []
    assert selectors.key_accounts_cooling(km_anna, D) == []


# ---------------------------------------------------------------- sleeping and lost


def test_sleeping_and_lost_most_recently_lapsed_first_never_strategic(
    company, km_anna, km_boris, outsider, head_gleb
):
    sleeping = ClientFactory(owner=km_anna, name="Sleeping 100 days")
    line(sleeping, day(-100), 500)  # one order: no usual gap, 100 > 90 → sleeping
    consultative = ClientFactory(owner=km_boris, name="Consultative 120", sales_type="consultative")
    line(consultative, day(-120), 500)
    lost = ClientFactory(owner=km_anna, name="Lost 400 days")
    line(lost, day(-400), 500)  # > 365 → lost
    strategic = ClientFactory(owner=km_anna, name="Strategic", sales_type="strategic")
    line(strategic, day(-200), 500)  # sleeping, but never in reactivation lists
    active = ClientFactory(owner=km_anna, name="Active")
    line(active, day(-10), 500)
    foreign = ClientFactory(owner=outsider, name="Outsider's sleeping")
    line(foreign, day(-150), 500)
    run(D)
    rows = list(selectors.sleeping_and_lost(head_gleb))
    assert names(rows) == ["Sleeping 100 days", "Consultative 120", "Lost 400 days"]
    assert [r.status for r in rows] == ["sleeping", "sleeping", "lost"]
    assert [r.days_since_last_order for r in rows] == [100, 120, 400]
    assert [selectors.REACTIVATOR_ROLE[r.sales_type] for r in rows] == [
        "developer",
        "km",
        "developer",
    ]
    assert names(selectors.sleeping_and_lost(km_anna)) == ["Sleeping 100 days", "Lost 400 days"]
    assert names(selectors.sleeping_and_lost(outsider)) == ["Outsider's sleeping"]


# ---------------------------------------------------------------- unrated


def test_unrated_clients_biggest_buyers_first_with_pending_estimates(
    company, km_anna, outsider, amount_rules
):
    big = ClientFactory(owner=km_anna, name="Unrated 5000")
    line(big, day(-10), 5000)
    small = ClientFactory(owner=km_anna, name="Unrated 100, draft wallet")
    line(small, day(-20), 100)
    wallet(small, 300_000, status="draft")
    ClientFactory(owner=km_anna, name="Prospect")
    rated(km_anna, "C", name="Rated C")
    foreign = ClientFactory(owner=outsider, name="Outsider's unrated")
    line(foreign, day(-5), 9000)
    run(D)
    rows = list(selectors.unrated_clients(km_anna))
    assert names(rows) == ["Unrated 5000", "Unrated 100, draft wallet", "Prospect"]
    assert [r.revenue_12m for r in rows] == [Decimal(5000), Decimal(100), Decimal(0)]
    assert [r.has_draft_wallet for r in rows] == [False, True, False]
    assert names(selectors.unrated_clients(outsider)) == ["Outsider's unrated"]


# ---------------------------------------------------------------- segment movements


@pytest.fixture
def movement_data(company, amount_rules, km_anna, km_boris, outsider):
    """Runs as of 31 May (the start of June) and 30 June, with moves in between."""
    c = {}
    c["up"] = ClientFactory(owner=km_anna, name="B → A by share")
    wallet(c["up"], 2_000_000)
    line(c["up"], dt.date(2026, 1, 10), 10_000)
    c["potential"] = ClientFactory(owner=km_anna, name="D → B by a new wallet")
    wallet(c["potential"], 100_000)
    line(c["potential"], dt.date(2026, 2, 10), 1_000)
    c["down"] = ClientFactory(owner=km_boris, name="A → B: revenue left the window")
    wallet(c["down"], 2_000_000)
    line(c["down"], dt.date(2025, 6, 15), 300_000)  # in [2025-06-01, …], not in [2025-07-01, …]
    c["rated"] = ClientFactory(owner=km_anna, name="unrated → C")
    line(c["rated"], dt.date(2026, 2, 10), 50_000)
    c["stays"] = ClientFactory(owner=km_anna, name="A stays A")
    wallet(c["stays"], 2_000_000)
    line(c["stays"], dt.date(2026, 3, 1), 300_000)
    c["foreign"] = ClientFactory(owner=outsider, name="Outsider's B → A")
    wallet(c["foreign"], 2_000_000)
    line(c["foreign"], dt.date(2026, 1, 10), 10_000)
    start = run(MAY_31)
    # June: the share of "up" rises; a bigger wallet is verified for "potential";
    # "rated" gets its first verified wallet; "up" is handed to Boris.
    line(c["up"], dt.date(2026, 6, 10), 300_000)
    line(c["foreign"], dt.date(2026, 6, 10), 300_000)
    wallet(
        c["potential"],
        2_000_000,
        reviewed_at=timezone.make_aware(dt.datetime(2026, 6, 5, 12)),
    )
    wallet(c["rated"], 100_000)
    c["up"].owner = km_boris
    c["up"].save()
    end = run(D)
    return c, start, end


def test_segment_movements_between_the_start_of_the_month_and_the_latest_run(
    movement_data, head_gleb, km_anna, km_boris, outsider, admin_olga
):
    _clients, start, end = movement_data
    assert start.as_of == MAY_31
    rows = {row.client.name: row for row in selectors.segment_movements(head_gleb)}
    assert {name: (r.from_segment, r.segment, r.move) for name, r in rows.items()} == {
        "B → A by share": ("B", "A", "up"),
        "D → B by a new wallet": ("D", "B", "potential"),
        "A → B: revenue left the window": ("A", "B", "down"),
        "unrated → C": ("unrated", "C", "rated"),
    }
    up = rows["B → A by share"]
    assert (up.owner, up.from_owner_id) == (
        km_boris,
        km_anna.pk,
    )  # the owner at the end is credited
    assert (up.from_as_of, up.to_as_of) == (MAY_31, D)
    # Anna no longer sees the client she handed over; the outsider sees only theirs.
    assert "B → A by share" not in {r.client.name for r in selectors.segment_movements(km_anna)}
    assert [r.client.name for r in selectors.segment_movements(outsider)] == ["Outsider's B → A"]
    # The credited moves are exactly the engine's "moved up" of the base.
    everyone = list(selectors.segment_movements(admin_olga))
    base = DevelopmentMetric.objects.get(run=end, scope="base")
    assert base.moved_up == sum(1 for r in everyone if r.move == "up") == 2
    assert base.moved_by_potential == sum(1 for r in everyone if r.move == "potential") == 1
    assert base.moved_down == sum(1 for r in everyone if r.move == "down") == 1
    # Since 1 July there is no earlier run to compare with but the latest itself.
    assert list(selectors.segment_movements(head_gleb, dt.date(2026, 7, 1))) == []


# ---------------------------------------------------------------- cooling key accounts


@pytest.fixture
def cooling_data(company, amount_rules, km_anna, km_boris, kam_oleg, outsider):
    c = {}

    def key(name: str, revenue: int, *, owner=km_anna, previous: int = 0) -> Any:
        client = rated(owner, "A", name=name, revenue=revenue)
        if previous:
            line(client, day(-400), previous)  # revenue_prev_12m
        c[name] = client
        return client

    def contacts(client: Any, *specs: tuple[str, str]) -> list[Any]:
        return [ContactFactory(client=client, level=lv, department=dp) for lv, dp in specs]

    everything = key("All three signals", 250_000, previous=400_000)
    (one,) = contacts(everything, ("top", "Board"))
    touch(everything, day(-30), contact=one)  # 30 > 14: overdue; one contact: single-threaded

    falling = key("Falling", 250_000, previous=400_000)
    for contact in contacts(falling, ("top", "Board"), ("operational", "Purchasing")):
        touch(falling, day(-3), contact=contact)

    untouched = key("Never touched", 300_000, owner=km_boris)
    ClientGrant.objects.create(client=untouched, user=kam_oleg, reason="kam", level="edit")

    single = key("One contact", 310_000)
    (only,) = contacts(single, ("middle", "Sales"))
    touch(single, day(-5), contact=only)
    touch(single, day(-20), contact=only)

    same_level = key("Same level", 320_000)
    for contact in contacts(same_level, ("operational", "Purchasing"), ("operational", "Stock")):
        touch(same_level, day(-2), contact=contact)

    healthy = key("Healthy", 500_000, previous=400_000)
    for contact in contacts(healthy, ("top", "Board"), ("middle", "Purchasing")):
        touch(healthy, day(-2), contact=contact)

    unknown = key("Contacts not described", 330_000)
    for contact in contacts(unknown, ("", ""), ("", "")):
        touch(unknown, day(-2), contact=contact)

    old_thread = key("Single contact long ago", 340_000)
    (early,) = contacts(old_thread, ("top", "Board"))
    touch(old_thread, day(-100), contact=early)  # outside 90 days: only "overdue"
    second, third = contacts(old_thread, ("top", "Board"), ("middle", "Stock"))
    touch(old_thread, day(-1), contact=second)
    touch(old_thread, day(-1), contact=third)

    b_client = rated(km_anna, "B", name="B, never touched")  # not a key account
    foreign = key("Outsider's never touched", 300_000, owner=outsider)
    run(D)
    return c | {"b": b_client, "foreign": foreign}


def test_cooling_key_accounts_with_their_reasons_and_kams(
    cooling_data, head_gleb, kam_oleg, outsider, km_anna
):
    rows = selectors.key_accounts_cooling(head_gleb, D)
    # Most signals first, then the biggest revenue.
    assert [(r.client.name, r.reasons) for r in rows] == [
        ("All three signals", ("revenue_falling", "touch_overdue", "single_threaded")),
        ("Same level", ("single_threaded",)),
        ("One contact", ("single_threaded",)),
        ("Never touched", ("touch_overdue",)),
        ("Falling", ("revenue_falling",)),
    ]
    never = rows[3]
    assert never.kams == (kam_oleg,)
    assert never.snapshot.last_touch_at is None
    # Oleg sees his key account through the grant; the outsider only their own.
    assert [r.client.name for r in selectors.key_accounts_cooling(kam_oleg, D)] == ["Never touched"]
    assert [r.client.name for r in selectors.key_accounts_cooling(outsider, D)] == [
        "Outsider's never touched"
    ]
    assert "Never touched" not in {
        r.client.name for r in selectors.key_accounts_cooling(km_anna, D)
    }


# ---------------------------------------------------------------- query counts


def test_each_work_list_costs_a_bounded_number_of_queries(
    cooling_data, head_gleb, django_assert_max_num_queries
):
    # Warm the per-user caches (roles) so the counts are the lists' own.
    list(selectors.overdue_touches(head_gleb, D))
    for build, limit in (
        (lambda: list(selectors.overdue_touches(head_gleb, D)), 5),
        (lambda: list(selectors.sleeping_and_lost(head_gleb)), 4),
        (lambda: list(selectors.unrated_clients(head_gleb)), 4),
        (lambda: list(selectors.segment_movements(head_gleb)), 5),
        (lambda: selectors.key_accounts_cooling(head_gleb, D), 7),
    ):
        with django_assert_max_num_queries(limit):
            rows = build()
        for row in rows:  # the fields the pages show need no further query
            getattr(row, "client", None) and str(row.client.name)
            getattr(row, "owner", None) and str(row.owner)
