"""Retention of new clients (domain.md, seed 003): second purchases over first ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from segmentation.conf import MetricSettings


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return next_month(month) - dt.timedelta(days=1)


def retention_cohorts(frame: pd.DataFrame, *, as_of: dt.date, conf: MetricSettings) -> pd.DataFrame:
    """One row per calendar month from the first cohort to D's month.

    Columns: cohort_month, size, retained, ratio (mature cohorts with
    clients only), mature. Sales types exempted by the settings
    (``strategic``: one deal in a client's life) are left out.
    """
    columns = ["cohort_month", "size", "retained", "ratio", "mature"]
    eligible = frame[
        frame["first_order_on"].notna()
        & ~frame["sales_type"].isin(conf.retention_excluded_sales_types)
    ]
    if eligible.empty:
        return pd.DataFrame(columns=columns)
    first = eligible["first_order_on"]
    second = eligible["second_order_on"]
    retained = second.notna() & ((second - first).dt.days <= conf.retention_days)
    cohort = first.dt.to_period("M").dt.to_timestamp()
    grouped = (
        pd.DataFrame({"cohort": cohort, "retained": retained.astype("int64")})
        .groupby("cohort")
        .agg(size=("retained", "size"), retained=("retained", "sum"))
    )
    months = pd.date_range(grouped.index.min(), pd.Timestamp(month_start(as_of)), freq="MS")
    grouped = grouped.reindex(months, fill_value=0)
    cohort_months = [m.date() for m in grouped.index]
    mature = [month_end(m) + dt.timedelta(days=conf.retention_days) <= as_of for m in cohort_months]
    out = pd.DataFrame(
        {
            "cohort_month": cohort_months,
            "size": grouped["size"].astype("int64").to_numpy(),
            "retained": grouped["retained"].astype("int64").to_numpy(),
            "mature": mature,
        }
    )
    ratio = out["retained"] / out["size"].where(out["size"] > 0)
    out["ratio"] = ratio.where(out["mature"])
    return out[columns]


@dataclass(frozen=True)
class Headline:
    size: int
    retained: int
    months: int

    @property
    def ratio(self) -> float | None:
        return self.retained / self.size if self.size else None


def retention_headline(
    rows: Iterable[tuple[dt.date, int, int, bool]], *, months: int = 12
) -> Headline:
    """Pool the ``months`` most recent mature cohort months: Σ retained / Σ size.

    Takes (cohort_month, size, retained, mature) tuples so the engine and the
    export compute it from the same stored rows.
    """
    mature = sorted((row for row in rows if row[3]), key=lambda row: row[0])[-months:]
    return Headline(
        size=sum(row[1] for row in mature),
        retained=sum(row[2] for row in mature),
        months=len(mature),
    )
