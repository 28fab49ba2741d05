"""Golden tests of wallets, share of wallet, the ABCD matrix and the ABC / XYZ lenses.

D = 2026-06-30; the XYZ months are 2025-06 … 2026-05.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pandas as pd
import pytest
from django.utils import timezone

from crm.wallet import share_band
from segmentation.models import ClientGroupShare
from segmentation.services import segment_rule_set_save
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory
from tests.segmentation._data import day, line, run, snap, wallet

pytestmark = pytest.mark.django_db


def at(year: int, month: int, day_: int = 15) -> dt.datetime:
    return timezone.make_aware(dt.datetime(year, month, day_, 12))


def test_only_the_latest_verified_wallet_of_the_latest_year_up_to_d_counts():
    client = ClientFactory()
    line(client, day(-10), 300)
    wallet(client, 1000, year=2025)
    wallet(client, 2000, year=2026, reviewed_at=at(2026, 3))  # verified last in 2026
    wallet(client, 1500, year=2026, reviewed_at=at(2026, 1))
    wallet(client, 9000, year=2027)  # a later year than D's
    wallet(client, 50000, year=2026, status="draft")
    wallet(client, 60000, year=2026, status="rejected")
    s = snap(run(), client)
    assert (s.wallet, s.wallet_year) == (Decimal(2000), 2026)
    assert s.share_of_wallet == Decimal("0.15")  # 300 / 2000
    assert s.wallet_verified_on == dt.date(2026, 3, 15)


def test_an_earlier_year_counts_when_d_s_year_has_no_verified_wallet():
    client = ClientFactory()
    line(client, day(-10), 300)
    wallet(client, 3000, year=2024)
    wallet(client, 4000, year=2026, status="draft")
    s = snap(run(), client)
    assert (s.wallet, s.share_of_wallet, s.segment) == (Decimal(3000), Decimal("0.1"), "A")


def test_without_a_verified_wallet_a_client_is_unrated():
    draft_only, nothing, zero = ClientFactory(), ClientFactory(), ClientFactory()
    for client in (draft_only, nothing, zero):
        line(client, day(-10), 300)
    wallet(draft_only, 5000, status="draft")
    wallet(zero, 0)  # a zero wallet gives no share, as on the card
    r = run()
    for client in (draft_only, nothing, zero):
        s = snap(r, client)
        assert (s.segment, s.share_of_wallet, s.share_band) == ("unrated", None, "")
    assert r.counts["rated"] == 0


@pytest.mark.parametrize(
    ("wallet_amount", "band"),
    [
        (100001, "indifference"),  # 1000 / 100001 < 0.01
        (100000, "secondary"),  # 1000 / 100000 = 0.01
        (10001, "secondary"),  # < 0.10
        (10000, "main"),  # = 0.10
        (2001, "main"),  # < 0.50
        (2000, "dominant"),  # = 0.50
    ],
)
def test_share_band_limits_are_inclusive_from_below(wallet_amount, band):
    client = ClientFactory()
    line(client, day(-10), 1000)
    wallet(client, wallet_amount)
    s = snap(run(), client)
    assert s.share_band == band
    assert share_band(Decimal(1000) / Decimal(wallet_amount)) == band  # same as the card


def test_group_share_uses_the_group_wallet_and_group_revenue():
    g1, g2 = ProductGroupFactory(name="Pipes"), ProductGroupFactory(name="Valves")
    p1, p2 = ProductFactory(group=g1), ProductFactory(group=g2)
    client = ClientFactory()
    line(client, day(-10), 600, product=p1, doc="O-1")
    line(client, day(-10), 400, product=p2, doc="O-1")
    line(client, day(-20), 400, product=p1, doc="O-2")
    line(client, day(-20), -100, product=p2, doc="O-2")  # a returned line of g2 in an order
    wallet(client, 4000, group=g1)
    wallet(client, 9000, group=g1, status="draft")
    r = run()
    pipes = ClientGroupShare.objects.get(run=r, client=client, product_group=g1)
    assert (pipes.revenue_12m, pipes.orders_12m) == (Decimal(1000), 2)
    assert pipes.avg_check_12m == Decimal(500)  # 1000 / 2 orders with a positive g1 line
    assert pipes.wallet == Decimal(4000)
    assert (pipes.share_of_wallet, pipes.share_band) == (Decimal("0.25"), "main")  # 1000/4000
    valves = ClientGroupShare.objects.get(run=r, client=client, product_group=g2)
    # 400 − 100; only O-1 has a positive line of g2
    assert (valves.revenue_12m, valves.orders_12m, valves.avg_check_12m) == (300, 1, 300)
    assert valves.wallet is None and valves.share_band == ""


def _rated_clients(wallets: list[int], revenue: int = 1) -> list:
    clients = []
    for amount in wallets:
        client = ClientFactory()
        line(client, day(-10), revenue)
        wallet(client, amount)
        clients.append(client)
    return clients


def test_potential_threshold_is_the_80th_percentile_with_linear_interpolation():
    clients = _rated_clients([100, 200, 300, 400, 500])
    ClientFactory()  # unrated clients do not enter the percentile
    r = run()
    # position 0.8 × (5 − 1) = 3.2 → 400 + 0.2 × (500 − 400) = 420
    assert r.potential_threshold == Decimal(420)
    segments = [snap(r, c).segment for c in clients]
    # revenue 1 is below 10 % of every wallet: high potential → B, low → D
    assert segments == ["D", "D", "D", "D", "B"]
    assert r.counts["segments"] == {"B": 1, "D": 4, "unrated": 1}


def test_clients_on_a_tied_threshold_are_all_high_potential():
    clients = _rated_clients([100, 500, 500, 500, 500])
    r = run()
    assert r.potential_threshold == Decimal(500)  # 500 + 0.2 × (500 − 500)
    assert [snap(r, c).segment for c in clients] == ["D", "B", "B", "B", "B"]


def test_a_threshold_between_kopecks_is_rounded_up():
    clients = _rated_clients([10000, 10001, 10002, 10003, 10004, 10005])
    r = run()
    # position 0.8 × 5 = 4 → exactly 10004: no rounding needed
    assert r.potential_threshold == Decimal(10004)
    more = _rated_clients([Decimal("100.01"), Decimal("100.02")])
    r = run()
    # 8 wallets, sorted: 100.01, 100.02, 10000 … 10005; position 0.8 × 7 = 5.6
    # → 10003 + 0.6 × 1 = 10003.6
    assert r.potential_threshold == Decimal("10003.60")
    assert [snap(r, c).segment for c in clients + more] == ["D"] * 4 + ["B"] * 2 + ["D"] * 2


def test_the_abcd_matrix_of_potential_and_share():
    key = _with(revenue=100, wallet_amount=1000)  # share 100/1000 = 0.10 ≥ 0.10 → A
    developing = _with(revenue=99, wallet_amount=1000)  # 0.099 < 0.10 → B
    maintained = _with(revenue=10, wallet_amount=100)  # 0.10, low potential → C
    occasional = _with(revenue=9, wallet_amount=100)  # 0.09, low potential → D
    also_developing = _with(revenue=1, wallet_amount=1000)
    r = run()
    # wallets 100, 100, 1000, 1000, 1000: position 0.8 × 4 = 3.2 → 1000
    assert r.potential_threshold == Decimal(1000)
    segments = [snap(r, c).segment for c in (key, developing, maintained, occasional)]
    assert segments == ["A", "B", "C", "D"]
    assert snap(r, also_developing).segment == "B"
    assert r.counts["segments"] == {"A": 1, "B": 2, "C": 1, "D": 1}


def _with(*, revenue: int, wallet_amount: int):
    client = ClientFactory()
    line(client, day(-10), revenue)
    wallet(client, wallet_amount)
    return client


def test_an_absolute_potential_threshold_from_a_new_rule_version(head_vera):
    big, small = _with(revenue=1, wallet_amount=5000), _with(revenue=1, wallet_amount=4999)
    rules = segment_rule_set_save(
        changes={"potential_mode": "amount", "potential_value": Decimal(5000)},
        acting_user=head_vera,
        comment="absolute",
    )
    r = run()
    assert r.rule_set == rules and rules.version == 2
    assert r.potential_threshold == Decimal(5000)
    assert (snap(r, big).segment, snap(r, small).segment) == ("B", "D")


def test_abc_by_revenue_with_ties_by_external_id():
    first = ClientFactory(external_id="K-9")
    tie_b = ClientFactory(external_id="K-2")
    tie_a = ClientFactory(external_id="K-1")
    tail = ClientFactory(external_id="K-0")
    nothing = ClientFactory(external_id="K-00")
    negative = ClientFactory(external_id="K-000")
    line(first, day(-1), 600)
    line(tie_b, day(-1), 200)
    line(tie_a, day(-1), 150)
    line(tie_a, day(-2), 50)  # 200 as well: ties with K-2, and K-1 sorts first
    line(tail, day(-1), 50)
    line(negative, day(-1), -10)
    r = run()
    # total 1050; shares of the clients before each one:
    # K-9: 0 → A; K-1: 600/1050 = 0.571 → A; K-2: 800/1050 = 0.762 → A;
    # K-0: 1000/1050 = 0.952 → C (not below 0.95)
    assert [snap(r, c).abc for c in (first, tie_a, tie_b, tail)] == ["A", "A", "A", "C"]
    assert snap(r, nothing).abc == "" and snap(r, negative).abc == ""


def test_abc_boundaries_are_strictly_below_80_and_95_percent():
    clients = [ClientFactory(external_id=f"E-{n}") for n in range(4)]
    for client, amount in zip(clients, (600, 200, 150, 50), strict=True):
        line(client, day(-1), amount)
    r = run()
    # before-shares: 0, 0.6, 0.8 (not below 0.80 → B), 0.95 (not below 0.95 → C)
    assert [snap(r, c).abc for c in clients] == ["A", "A", "B", "C"]


def test_abc_tie_order_decides_the_class_on_a_boundary():
    clients = {ext: ClientFactory(external_id=ext) for ext in ("T-1", "T-2", "T-3")}
    line(clients["T-3"], day(-1), 600)
    line(clients["T-1"], day(-1), 200)
    line(clients["T-2"], day(-1), 200)
    r = run()
    # T-3 first; then T-1 (0.6 before → A) and T-2 (0.8 before → B)
    assert [snap(r, clients[e]).abc for e in ("T-3", "T-1", "T-2")] == ["A", "A", "B"]


def test_abc_sums_stay_exact_beyond_64_bit_integers():
    from segmentation.engine.segments import abc_classes

    # 10^18 kopecks in all: the boundary products overflow int64, so the
    # ranking falls back to Python integers; 0.8 of the total is not below 0.8.
    amounts = pd.Series([1e15, 8e15, 1e15, 0.0])
    keys = pd.Series(["B", "A", "A", "Z"], dtype=object)
    ids = pd.Series([3, 2, 1, 4])
    assert abc_classes(amounts, keys, ids, (0.8, 0.95)).tolist() == ["B", "A", "B", ""]
    # The two equal amounts: external id "A" (id 1) before "B" (id 3) —
    # 0.8 before the first, 0.9 before the second; 0.90 as the B limit tells them apart.
    assert abc_classes(amounts, keys, ids, (0.8, 0.9)).tolist() == ["C", "A", "B", ""]


def _monthly(client, amounts: list[int]) -> None:
    """One line in the middle of each XYZ month, 2025-06 … 2026-05 (0 = no line)."""
    for index, amount in enumerate(amounts):
        year, month = (2025, 6 + index) if index < 7 else (2026, index - 6)
        if amount:
            line(client, dt.date(year, month, 15), amount)


def test_xyz_by_the_coefficient_of_variation_with_inclusive_limits():
    steady = ClientFactory()
    x_edge, y_edge, z_edge = ClientFactory(), ClientFactory(), ClientFactory()
    _monthly(steady, [100] * 12)  # cv 0 → X
    _monthly(x_edge, [90, 110] * 6)  # mean 100, σ 10 → cv 0.10 → X
    _monthly(y_edge, [75, 125] * 6)  # σ 25 → cv 0.25 → Y
    _monthly(z_edge, [74, 126] * 6)  # σ 26 → cv 0.26 → Z
    r = run()
    assert [snap(r, c).xyz for c in (steady, x_edge, y_edge, z_edge)] == ["X", "X", "Y", "Z"]
    assert snap(r, y_edge).xyz_cv == Decimal("0.25")


def test_xyz_counts_months_without_revenue_as_zero():
    gap_month = ClientFactory()
    _monthly(gap_month, [100] * 11 + [0])
    line(gap_month, dt.date(2026, 6, 1), 10000)  # D's own month is not a full month
    line(gap_month, dt.date(2025, 5, 31), 10000)  # before the 12 months
    r = run()
    # values 100 × 11 and 0: mean 1100/12, σ = sqrt(11·100²/12 − mean²); cv = σ / mean
    mean = 1100 / 12
    cv = math.sqrt(11 * 100**2 / 12 - mean**2) / mean  # = 1/√11 ≈ 0.3015
    s = snap(r, gap_month)
    assert s.xyz == "Z"
    assert s.xyz_cv == Decimal(str(round(cv, 6)))


def test_xyz_has_no_class_when_the_mean_is_not_positive():
    returns_only, silent = ClientFactory(), ClientFactory()
    _monthly(returns_only, [-100] + [0] * 11)
    r = run()
    assert snap(r, returns_only).xyz == "" and snap(r, silent).xyz == ""
