"""Share bands, the ABCD matrix, and the ABC and XYZ lenses (domain.md "Segments").

All vectorised over a frame of clients. Money is compared in whole kopecks
and ratios are rounded to 9 places before a limit is applied, so a value
that is exactly on a limit in decimal arithmetic lands on the side the
specification says, not on the side float noise puts it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from fractions import Fraction

import numpy as np
import pandas as pd

from crm.choices import ShareBand
from segmentation.choices import AbcClass, PotentialMode, Segment, XyzClass
from segmentation.engine.db import Kind, Params, client_scope, read_frame, table
from segmentation.models import MonthlySummary, SegmentOverride, SegmentRuleSet

RATIO_PLACES = 9


type Limit = float | pd.Series  # one limit for every row, or one per row


def share_bands(share: pd.Series, limits: tuple[Limit, Limit, Limit]) -> pd.Series:
    """The band of each share, as ``crm.wallet.share_band``; empty without a share.

    A share equal to a limit lands in the upper band. A limit may be a
    Series aligned with ``share`` (per-group limits, one per row).
    """
    secondary, main, dominant = limits
    value = share.round(RATIO_PLACES)
    bands = np.select(
        [value >= dominant, value >= main, value >= secondary, value.notna()],
        [ShareBand.DOMINANT, ShareBand.MAIN, ShareBand.SECONDARY, ShareBand.INDIFFERENCE],
        default="",
    )
    return pd.Series(bands, index=share.index, dtype=object)


def _per_row(group_ids: pd.Series, own: Mapping[int, float], default: float) -> pd.Series:
    """Each row's value: its group's own where the group has one, else ``default``."""
    if not own:
        return pd.Series(default, index=group_ids.index, dtype="float64")
    return group_ids.map(own).astype("float64").fillna(default)


def group_share_bands(
    share: pd.Series,
    group_ids: pd.Series,
    *,
    own_limits: Mapping[int, tuple[float, float, float]],
    default_limits: tuple[float, float, float],
) -> pd.Series:
    """The band of each client × group share, by the group's own limits where it has them."""
    secondary, main, dominant = (
        _per_row(group_ids, {g: limits[i] for g, limits in own_limits.items()}, default)
        for i, default in enumerate(default_limits)
    )
    return share_bands(share, (secondary, main, dominant))


def group_high_share(
    share: pd.Series,
    group_ids: pd.Series,
    *,
    own_thresholds: Mapping[int, float],
    default_threshold: float,
) -> pd.Series:
    """High share in the group: share ≥ the group's threshold (else the rule set's).

    False without a share. Only the group rows carry it: a client's segment
    stays on its overall share and the rule set's overall threshold.
    """
    threshold = _per_row(group_ids, own_thresholds, default_threshold)
    return (share.round(RATIO_PLACES) >= threshold).fillna(False).astype(bool)


def potential_threshold(wallets: pd.Series, rule_set: SegmentRuleSet) -> float | None:
    """The wallet from which potential is high, rounded up to the kopeck.

    Wallets are whole kopecks, so "wallet ≥ exact threshold" and "wallet ≥
    threshold rounded up to a kopeck" pick the same clients; the rounded
    figure is what the run stores and an incremental run reuses.
    """
    value = float(rule_set.potential_value)
    if rule_set.potential_mode == PotentialMode.AMOUNT:
        return value
    rated = wallets.dropna()
    rated = rated[rated > 0]
    if rated.empty:
        return None
    exact = float(np.percentile(rated.to_numpy(), value))  # linear, numpy's default
    return math.ceil(round(exact * 100, 6)) / 100


def assign_segments(
    frame: pd.DataFrame, *, threshold: float | None, share_threshold: float
) -> pd.Series:
    """A/B/C/D for rated clients (a verified wallet above zero), else ``unrated``.

    On the overall share and the rule set's overall ``share_threshold``: the
    per-group thresholds of a rule set only mark the client's group rows.
    """
    rated = frame["wallet"].notna() & (frame["wallet"] > 0) & (threshold is not None)
    high_potential = frame["wallet"] >= (threshold if threshold is not None else np.inf)
    high_share = frame["share_of_wallet"].round(RATIO_PLACES) >= share_threshold
    segments = np.select(
        [
            rated & high_potential & high_share,
            rated & high_potential,
            rated & high_share,
            rated,
        ],
        [Segment.A, Segment.B, Segment.C, Segment.D],
        default=Segment.UNRATED,
    )
    return pd.Series(segments, index=frame.index, dtype=object)


def with_overrides(client_ids: pd.Series, rule_segments: pd.Series) -> pd.Series:
    """The segment in force: a head's override where one is set, else the rules' segment."""
    # Overrides are a head's exceptions, a few rows: read them all at once.
    overrides = dict(SegmentOverride.objects.values_list("client_id", "segment"))
    if not overrides:
        return rule_segments.copy()
    forced = client_ids.map(overrides)
    return forced.where(forced.notna(), rule_segments).astype(object)


def abc_classes(
    values: pd.Series, tie_keys: pd.Series, ids: pd.Series, limits: tuple[float, float]
) -> pd.Series:
    """ABC by a money column: clients above zero, largest first (ties by external id).

    A client is A while the cumulative share of the clients before it is
    below the first limit, B below the second, else C. The sums are exact
    (kopecks as integers): int64 while they fit, Python integers beyond.
    """
    kopecks = (values.fillna(0.0) * 100).round().astype("int64").to_numpy()
    positive = np.flatnonzero(kopecks > 0)
    result = pd.Series("", index=values.index, dtype=object)
    if not len(positive):
        return result
    amounts = kopecks[positive]
    order = _largest_first(amounts, tie_keys.iloc[positive], ids.to_numpy()[positive])
    amounts = amounts[order]
    a_limit, b_limit = (Fraction(str(limit)) for limit in limits)
    scale = max(a_limit.numerator, a_limit.denominator, b_limit.numerator, b_limit.denominator)
    if int(amounts.sum(dtype=object)) * scale >= 2**62:
        amounts = amounts.astype(object)  # beyond int64: Python ints, exact and unbounded
    total = amounts.sum()
    before = np.cumsum(amounts) - amounts
    is_a = before * a_limit.denominator < a_limit.numerator * total
    is_b = before * b_limit.denominator < b_limit.numerator * total
    classes = np.where(is_a, AbcClass.A, np.where(is_b, AbcClass.B, AbcClass.C))
    result.iloc[positive[order]] = classes
    return result


def _largest_first(amounts: np.ndarray, tie_keys: pd.Series, ids: np.ndarray) -> np.ndarray:
    """Positions ordered by amount, largest first; equal amounts by tie key, then by id.

    Sorting 50 000 strings costs more than the rest of the ranking, and only
    equal amounts need their keys: those few are ordered apart.
    """
    order = np.lexsort((ids, -amounts))
    ranked = amounts[order]
    same = ranked[1:] == ranked[:-1]
    tied = np.zeros(len(order), dtype=bool)
    tied[1:] |= same
    tied[:-1] |= same
    if tied.any():
        # Tied positions form blocks, already in order of amount; reorder within them.
        at = np.flatnonzero(tied)
        members = order[at]
        keys = tie_keys.iloc[members].fillna("").astype(str).to_numpy()
        within = sorted(
            range(len(members)), key=lambda j: (-amounts[members[j]], keys[j], ids[members[j]])
        )
        order[at] = members[within]
    return order


def xyz_months(as_of: dt.date) -> list[dt.date]:
    """The 12 full calendar months before D's month, oldest first."""
    months = []
    year, month = as_of.year, as_of.month
    for _ in range(12):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        months.append(dt.date(year, month, 1))
    return months[::-1]


XYZ_SQL = """
SELECT s.client_id AS client_id, s.month AS month, SUM(s.revenue) AS revenue
FROM {summary} s
WHERE s.month >= %(first)s AND s.month <= %(last)s {{scope}}
GROUP BY s.client_id, s.month
"""
XYZ_SCHEMA: dict[str, Kind] = {"client_id": "int", "month": "date", "revenue": "float"}


def monthly_revenue(*, as_of: dt.date, client_ids: Sequence[int] | None) -> pd.DataFrame:
    """Client × month revenue over the XYZ months, from the monthly summary."""
    months = xyz_months(as_of)
    sql = XYZ_SQL.format(summary=table(MonthlySummary))
    params: Params = {"first": months[0].isoformat(), "last": months[-1].isoformat()}
    with client_scope(client_ids) as scope:
        return read_frame(sql.format(scope=scope.clause("s.client_id")), params, XYZ_SCHEMA)


def xyz_classes(
    client_ids: pd.Series, monthly: pd.DataFrame, *, as_of: dt.date, limits: tuple[float, float]
) -> tuple[pd.Series, pd.Series]:
    """(class, coefficient of variation) per client, months without revenue counting as 0."""
    months = pd.to_datetime(pd.Series(xyz_months(as_of)))
    table_ = monthly.pivot_table(
        index="client_id", columns="month", values="revenue", aggfunc="sum", fill_value=0.0
    )
    table_ = table_.reindex(index=client_ids.to_numpy(), columns=months.to_numpy(), fill_value=0.0)
    values = table_.to_numpy(dtype="float64")
    mean = values.mean(axis=1)
    std = values.std(axis=1)  # population standard deviation (ddof=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        cv = np.where(mean > 0, std / np.where(mean > 0, mean, 1.0), np.nan)
    cv_series = pd.Series(cv, index=client_ids.index).round(RATIO_PLACES)
    x_limit, y_limit = limits
    classes = np.select(
        [cv_series <= x_limit, cv_series <= y_limit, cv_series.notna()],
        [XyzClass.X, XyzClass.Y, XyzClass.Z],
        default="",
    )
    return pd.Series(classes, index=client_ids.index, dtype=object), cv_series
