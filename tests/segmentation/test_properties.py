"""Properties over generated data: segments add up, share is revenue over wallet,
a rerun changes nothing, and revenue matches a direct sum of the generated lines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from segmentation.models import ClientMetricSnapshot
from tests.factories import ClientFactory
from tests.segmentation._compare import stored
from tests.segmentation._data import D, day, line, run, wallet

pytestmark = pytest.mark.django_db

line_st = st.tuples(
    st.integers(min_value=-800, max_value=20),  # day offset from D (after D is ignored)
    st.integers(min_value=-500, max_value=3000),  # amount, returns included
    st.integers(min_value=0, max_value=3),  # document number: shared numbers happen
)
client_st = st.fixed_dictionaries(
    {
        "lines": st.lists(line_st, max_size=8),
        "wallet": st.one_of(st.none(), st.integers(min_value=0, max_value=200_000)),
        "status": st.sampled_from(["verified", "draft", "rejected"]),
        "year": st.sampled_from([D.year - 1, D.year, D.year + 1]),
    }
)
dataset_st = st.lists(client_st, min_size=1, max_size=6)

PROPERTY_SETTINGS = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def build(dataset) -> list[tuple[Any, dict]]:
    built: list[tuple[Any, dict]] = []
    for spec in dataset:
        client: Any = ClientFactory()
        for offset, amount, doc in spec["lines"]:
            line(client, day(offset), amount, doc=f"P-{client.pk}-{doc}")
        if spec["wallet"] is not None:
            wallet(client, spec["wallet"], status=spec["status"], year=spec["year"])
        built.append((client, spec))
    return built


def has_usable_wallet(spec: dict) -> bool:
    return (
        spec["wallet"] is not None
        and spec["wallet"] > 0
        and spec["status"] == "verified"
        and spec["year"] <= D.year
    )


@PROPERTY_SETTINGS
@given(dataset=dataset_st)
def test_segment_counts_add_up_to_the_rated_clients(dataset):
    with transaction.atomic():
        built = build(dataset)
        r = run()
        rated = sum(has_usable_wallet(spec) for _, spec in built)
        segments = r.counts["segments"]
        assert sum(segments.get(key, 0) for key in "ABCD") == rated == r.counts["rated"]
        assert segments.get("unrated", 0) == len(built) - rated
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(dataset=dataset_st)
def test_share_is_revenue_over_wallet_and_revenue_is_the_sum_of_lines(dataset):
    with transaction.atomic():
        built = build(dataset)
        r = run()
        start = D - dt.timedelta(days=364)
        for client, spec in built:
            s = ClientMetricSnapshot.objects.get(run=r, client=client)
            expected = sum(
                Decimal(amount) for offset, amount, _ in spec["lines"] if start <= day(offset) <= D
            )
            assert s.revenue_12m == expected
            if has_usable_wallet(spec):
                # stored to 8 places: equal up to the last stored digit
                exact = s.revenue_12m / Decimal(spec["wallet"])
                assert abs(s.share_of_wallet - exact) <= Decimal("1E-8")
                assert s.wallet == Decimal(spec["wallet"])
            else:
                assert s.share_of_wallet is None and s.segment == "unrated"
        transaction.set_rollback(True)


@PROPERTY_SETTINGS
@given(dataset=dataset_st)
def test_rerunning_changes_nothing(dataset):
    with transaction.atomic():
        build(dataset)
        first, second = run(), run()
        assert stored(first) == stored(second)
        transaction.set_rollback(True)
