"""Reactivation conversion (domain.md "Reactivation", seed 003: from 60 %).

An attempt is a reactivation task (not cancelled) on a client that the
latest stored run before the task's day showed as sleeping or lost; the
client converts when it orders within METRIC_REACTIVATION_DAYS after the
attempt (the day after it up to that many days later, never after D).
Strategic clients are never in reactivation lists and are left out. Per
month and person each client counts once, by its first attempt there.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
from django.conf import settings

from crm.choices import SalesType, TaskKind, TaskStatus
from crm.models import Task
from segmentation.choices import LifecycleStatus, RunStatus
from segmentation.conf import MetricSettings
from segmentation.engine.db import Kind, Params, chunks, in_clause, read_frame, table
from segmentation.engine.metrics import order_dates
from segmentation.engine.retention import month_end, month_start
from segmentation.models import ClientMetricSnapshot, MetricRun

COLUMNS = ["period", "person_id", "attempted", "converted", "ratio", "mature"]

STATUS_HISTORY_SQL = """
SELECT s.client_id AS client_id, r.as_of AS as_of, s.status AS status
FROM {snapshot} s JOIN {run} r ON r.id = s.run_id
WHERE r.status = %(succeeded)s AND r.as_of < %(last)s
  AND r.id = (
      SELECT MAX(r2.id) FROM {run} r2
      WHERE r2.status = %(succeeded)s AND r2.holds_rows = %(holds)s AND r2.as_of = r.as_of
  )
  {{scope}}
"""
STATUS_SCHEMA: dict[str, Kind] = {"client_id": "int", "as_of": "date", "status": "str"}


def _first_period(as_of: dt.date, months: int) -> dt.date:
    month = month_start(as_of)
    for _ in range(months - 1):
        month = (month - dt.timedelta(days=1)).replace(day=1)
    return month


def _status_history(client_ids: list[int], *, before: dt.date) -> pd.DataFrame:
    sql = STATUS_HISTORY_SQL.format(snapshot=table(ClientMetricSnapshot), run=table(MetricRun))
    frames = []
    for chunk in chunks(client_ids):
        params: Params = {
            "succeeded": RunStatus.SUCCEEDED.value,
            "holds": True,
            "last": before.isoformat(),
        }
        scope = in_clause("s.client_id", chunk, params)
        frames.append(read_frame(sql.format(scope=scope), params, STATUS_SCHEMA))
    return pd.concat(frames, ignore_index=True)


def reactivation_conversions(*, as_of: dt.date, conf: MetricSettings) -> pd.DataFrame:
    first_period = _first_period(as_of, conf.reactivation_months)
    periods = pd.date_range(pd.Timestamp(first_period), pd.Timestamp(month_start(as_of)), freq="MS")
    tasks = pd.DataFrame(
        list(
            Task.objects.filter(
                kind=TaskKind.REACTIVATION,
                client__isnull=False,
                client__merged_into__isnull=True,
            )
            .exclude(status=TaskStatus.CANCELLED)
            .exclude(client__sales_type=SalesType.STRATEGIC)
            .values_list("client_id", "assignee_id", "created_at")
        ),
        columns=["client_id", "person_id", "created_at"],
    )
    if not tasks.empty:
        local = pd.to_datetime(tasks["created_at"], utc=True).dt.tz_convert(settings.TIME_ZONE)
        tasks["attempt_on"] = local.dt.tz_localize(None).dt.normalize()
        tasks = tasks[
            (tasks["attempt_on"] >= pd.Timestamp(first_period))
            & (tasks["attempt_on"] <= pd.Timestamp(as_of))
        ]
    attempts = _qualified_attempts(tasks, as_of=as_of, conf=conf)

    rows = []
    for person_level in (False, True):
        keys = ["period", "person_id"] if person_level else ["period"]
        first = attempts.sort_values("attempt_on").drop_duplicates([*keys, "client_id"])
        grouped = first.groupby(keys).agg(
            attempted=("client_id", "size"), converted=("converted", "sum")
        )
        if not person_level:
            grouped = grouped.reindex(periods, fill_value=0)
            grouped.index.name = "period"
        grouped = grouped.reset_index()
        if not person_level:
            grouped["person_id"] = pd.NA
        rows.append(grouped)
    out = pd.concat(rows, ignore_index=True)
    if out.empty:
        return pd.DataFrame(columns=COLUMNS)
    out["period"] = pd.to_datetime(out["period"])
    out["mature"] = [
        month_end(p.date()) + dt.timedelta(days=conf.reactivation_days) <= as_of
        for p in out["period"]
    ]
    out["ratio"] = out["converted"] / out["attempted"].where(out["attempted"] > 0)
    out["person_id"] = out["person_id"].astype("Int64")
    return out[COLUMNS]


def _qualified_attempts(
    tasks: pd.DataFrame, *, as_of: dt.date, conf: MetricSettings
) -> pd.DataFrame:
    """Attempts on lapsed clients, each with ``period`` and ``converted``."""
    empty = pd.DataFrame(columns=["client_id", "person_id", "attempt_on", "period", "converted"])
    if tasks.empty:
        return empty
    client_ids = sorted(set(tasks["client_id"].astype(int)))
    history = _status_history(client_ids, before=as_of + dt.timedelta(days=1))
    if history.empty:
        return empty
    history = history.sort_values("as_of")
    attempts = pd.merge_asof(
        tasks.sort_values("attempt_on"),
        history.rename(columns={"as_of": "seen_on"}),
        left_on="attempt_on",
        right_on="seen_on",
        by="client_id",
        allow_exact_matches=False,  # the run a person saw is one made before that day
    )
    lapsed = {LifecycleStatus.SLEEPING.value, LifecycleStatus.LOST.value}
    attempts = attempts[attempts["status"].isin(lapsed)].copy()
    if attempts.empty:
        return empty
    dates = order_dates(
        start=attempts["attempt_on"].min().date() + dt.timedelta(days=1),
        as_of=as_of,
        client_ids=sorted(set(attempts["client_id"].astype(int))),
    )
    attempts["attempt_id"] = range(len(attempts))
    joined = attempts.merge(dates, on="client_id", how="inner")
    days_after = (joined["doc_date"] - joined["attempt_on"]).dt.days
    hits = joined[(days_after >= 1) & (days_after <= conf.reactivation_days)]
    attempts["converted"] = attempts["attempt_id"].isin(hits["attempt_id"]).astype("int64")
    attempts["period"] = attempts["attempt_on"].dt.to_period("M").dt.to_timestamp()
    return attempts[["client_id", "person_id", "attempt_on", "period", "converted"]]
