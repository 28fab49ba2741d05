"""The lifecycle status of domain.md "Metrics": first matching rule wins."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from crm.choices import SalesType
from segmentation.choices import LifecycleStatus, RunStatus
from segmentation.conf import MetricSettings
from segmentation.engine.db import Kind, Params, chunks, in_clause, read_frame, table
from segmentation.models import ClientMetricSnapshot, MetricRun

# Runs whose statuses count: the latest successful run of each as-of date, so
# a corrected rerun of a day replaces what the first attempt said.
PRIOR_STATUS_SQL = """
SELECT DISTINCT s.client_id AS client_id
FROM {snapshot} s JOIN {run} r ON r.id = s.run_id
WHERE r.status = %(succeeded)s AND r.as_of >= %(first)s AND r.as_of <= %(last)s
  AND s.status IN (%(sleeping)s, %(lost)s)
  AND r.id = (
      SELECT MAX(r2.id) FROM {run} r2
      WHERE r2.status = %(succeeded)s AND r2.holds_rows = %(holds)s AND r2.as_of = r.as_of
  )
  {{scope}}
"""
PRIOR_SCHEMA: dict[str, Kind] = {"client_id": "int"}


def lapsed_recently(
    *, as_of: dt.date, lookback_days: int, client_ids: Sequence[int] | None
) -> set[int]:
    """Clients that a stored run as of [D−lookback, D−1] showed as sleeping or lost."""
    sql = PRIOR_STATUS_SQL.format(snapshot=table(ClientMetricSnapshot), run=table(MetricRun))
    params: Params = {
        "succeeded": RunStatus.SUCCEEDED.value,
        "holds": True,
        "first": (as_of - dt.timedelta(days=lookback_days)).isoformat(),
        "last": (as_of - dt.timedelta(days=1)).isoformat(),
        "sleeping": LifecycleStatus.SLEEPING.value,
        "lost": LifecycleStatus.LOST.value,
    }
    if client_ids is None:
        frame = read_frame(sql.format(scope=""), params, PRIOR_SCHEMA)
        return set(frame["client_id"].tolist())
    found: set[int] = set()
    for chunk in chunks(sorted(set(client_ids))):
        chunk_params = dict(params)
        scope = in_clause("s.client_id", chunk, chunk_params)
        frame = read_frame(sql.format(scope=scope), chunk_params, PRIOR_SCHEMA)
        found.update(frame["client_id"].tolist())
    return found


def lifecycle_status(
    frame: pd.DataFrame, *, as_of: dt.date, lapsed: set[int], conf: MetricSettings
) -> pd.Series:
    """prospect, lost, sleeping, reactivated, new, active — in that order."""
    days = frame["days_since_last_order"].astype("float64")
    gap = frame["usual_gap_days"]
    sleeping_limit = np.where(
        gap.notna(),
        np.maximum(conf.sleeping_gap_multiplier * gap.fillna(0), conf.sleeping_floor_days),
        conf.sleeping_fallback_days,
    )
    recent_start = pd.Timestamp(as_of - dt.timedelta(days=conf.recent_order_days - 1))
    recent_order = frame["last_order_on"] >= recent_start
    statuses = np.select(
        [
            frame["first_order_on"].isna(),
            days > conf.lost_days,
            days > sleeping_limit,
            frame["client_id"].isin(lapsed) & recent_order,
            frame["first_order_on"] >= recent_start,
        ],
        [
            LifecycleStatus.PROSPECT,
            LifecycleStatus.LOST,
            LifecycleStatus.SLEEPING,
            LifecycleStatus.REACTIVATED,
            LifecycleStatus.NEW,
        ],
        default=LifecycleStatus.ACTIVE,
    )
    return pd.Series(statuses, index=frame.index, dtype=object)


def suggested_sales_type(gap: pd.Series, limits: tuple[int, int] = (31, 61)) -> pd.Series:
    """The sales type the usual gap suggests (domain.md "Sales types"); empty without one."""
    transactional, mixed = limits
    values = np.select(
        [gap <= transactional, gap <= mixed, gap.notna()],
        [SalesType.TRANSACTIONAL, SalesType.MIXED, SalesType.CONSULTATIVE],
        default="",
    )
    return pd.Series(values, index=gap.index, dtype=object)
