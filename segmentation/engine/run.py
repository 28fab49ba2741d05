"""One run of the engine: compute every result as of D and store it.

Full run: every live client, stored under the run. Incremental run
(``run.client_ids`` set, with a base run of the same D): only those clients
are recomputed, and their rows replace theirs in the base run, in the run's
transaction; the other clients' rows are already there. (Copying 50 000
clients' rows under a new run id took longer than the recompute itself.)
The base-wide cut-off that decides segments — the potential threshold —
and the rule set are the base run's, so an import during the day never
moves other clients' segments or the meaning of a segment; the next full
run recomputes the threshold. The ABC class of a recomputed client is its
place in a ranking of the whole base (others at their base figures), the
class a full run would give it. Retention, reactivation and team metrics
are recomputed over the stored rows after the run commits, so they stay
consistent with the snapshots.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db import connection
from django.db.models import Count

from accounts.models import Team
from crm.models import Client
from segmentation.conf import MetricSettings, metric_settings
from segmentation.engine import metrics, owners, reactivation, retention, segments, status, team
from segmentation.engine.db import Kind, Scope, client_scope, read_frame, table, write_frame
from segmentation.engine.derived import refresh_stale
from segmentation.engine.wallets import latest_verified_wallets
from segmentation.models import (
    ClientGroupShare,
    ClientMetricSnapshot,
    DevelopmentMetric,
    MetricRun,
    ReactivationConversion,
    RetentionCohort,
    SegmentRuleSet,
)

SNAPSHOT_SCHEMA: dict[str, Kind] = {
    "client_id": "int",
    "owner_id": "int",
    "team_id": "float",
    "sales_type": "str",
    "revenue_12m": "float",
    "revenue_prev_12m": "float",
    "revenue_ytd": "float",
    "revenue_prev_ytd": "float",
    "margin_12m": "float",
    "yoy_growth": "float",
    "orders_12m": "int",
    "avg_check_12m": "float",
    "skus_12m": "int",
    "groups_12m": "int",
    "first_order_on": "date",
    "second_order_on": "date",
    "last_order_on": "date",
    "days_since_last_order": "float",
    "usual_gap_days": "float",
    "suggested_sales_type": "str",
    "wallet": "float",
    "wallet_year": "float",
    "wallet_verified_on": "date",
    "share_of_wallet": "float",
    "share_band": "str",
    "status": "str",
    "segment": "str",
    "rule_segment": "str",
    "abc": "str",
    "abc_margin": "str",
    "xyz": "str",
    "xyz_cv": "float",
}
GROUP_SCHEMA: dict[str, Kind] = {
    "client_id": "int",
    "product_group_id": "int",
    "revenue_12m": "float",
    "orders_12m": "int",
    "avg_check_12m": "float",
    "skus_12m": "int",
    "wallet": "float",
    "share_of_wallet": "float",
    "share_band": "str",
    "high_share": "bool",
}


class Timer:
    """Milliseconds per step, kept in the run's counts for whoever tunes the engine."""

    def __init__(self) -> None:
        self.steps: dict[str, int] = {}
        self._last = time.monotonic()

    def mark(self, step: str) -> None:
        now = time.monotonic()
        self.steps[step] = int((now - self._last) * 1000)
        self._last = now


def _stored_frame(model: type[Any], run_id: int, schema: dict[str, Kind]) -> pd.DataFrame:
    columns = ", ".join(f"t.{connection.ops.quote_name(name)}" for name in schema)
    sql = f"SELECT {columns} FROM {table(model)} t WHERE t.run_id = %(run)s"
    return read_frame(sql, {"run": run_id}, schema)


def _start_segments(as_of: dt.date) -> pd.Series | None:
    """The rules' segments in the latest run before D's month: where the period starts."""
    start = (
        MetricRun.objects.holding_rows()
        .filter(as_of__lt=as_of.replace(day=1))
        .order_by("-as_of", "-id")
        .first()
    )
    if start is None:
        return None
    rows = ClientMetricSnapshot.objects.filter(run=start).values_list("client_id", "rule_segment")
    return pd.Series(dict(rows), dtype=object)


def _team_members() -> pd.DataFrame:
    members = list(Team.members.through.objects.values_list("team_id", "user_id"))
    heads = list(Team.objects.filter(head__isnull=False).values_list("id", "head_id"))
    return pd.DataFrame(members + heads, columns=["team_id", "user_id"]).astype("int64")


def compute_clients(
    *,
    as_of: dt.date,
    client_ids: list[int] | None,
    conf: MetricSettings,
    rule_set: SegmentRuleSet,
    id_scope: Scope | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(client frame, group frame) of the clients in scope, before segments and ABC.

    ``id_scope`` is the run's scope of the same clients, with the derived
    tables already brought up to date; without it both happen here.
    ``rule_set`` gives the group rows' own share thresholds and band limits.
    """
    clients = metrics.client_frame(client_ids=client_ids)
    scope = None if client_ids is None else clients["client_id"].tolist()
    if id_scope is None:
        per_client, groups, dates = metrics.line_metrics(as_of=as_of, client_ids=scope)
    else:
        per_client, groups, dates = metrics.derived_line_metrics(id_scope, as_of=as_of)
    frame = metrics.per_client_metrics(
        clients, per_client, groups, dates, as_of=as_of, min_dates=conf.usual_gap_min_dates
    )
    frame["owner_id"] = owners.owners_at(clients, as_of=as_of, client_ids=scope).to_numpy()
    frame["team_id"] = owners.team_of_users(frame["owner_id"]).astype("float64")

    wallets = latest_verified_wallets(as_of=as_of, client_ids=scope)
    overall = wallets[wallets["group_id"] == 0].drop(columns="group_id")
    frame = frame.merge(overall, on="client_id", how="left")
    usable = frame["wallet"] > 0
    frame["share_of_wallet"] = (frame["revenue_12m"] / frame["wallet"].where(usable)).where(usable)
    frame["share_band"] = segments.share_bands(frame["share_of_wallet"], conf.share_band_limits)

    lapsed = status.lapsed_recently(
        as_of=as_of, lookback_days=conf.reactivated_lookback_days, client_ids=scope
    )
    frame["status"] = status.lifecycle_status(frame, as_of=as_of, lapsed=lapsed, conf=conf)
    frame["suggested_sales_type"] = status.suggested_sales_type(
        frame["usual_gap_days"], conf.sales_type_gap_limits
    )
    monthly = segments.monthly_revenue(as_of=as_of, client_ids=scope)
    frame["xyz"], frame["xyz_cv"] = segments.xyz_classes(
        frame["client_id"], monthly, as_of=as_of, limits=conf.xyz_limits
    )

    group_wallets = wallets[wallets["group_id"] > 0][["client_id", "group_id", "wallet"]]
    group_rows = groups.merge(group_wallets, on=["client_id", "group_id"], how="outer")
    group_rows = group_rows[group_rows["client_id"].isin(frame["client_id"])].copy()
    for column in ("orders_12m", "skus_12m"):
        group_rows[column] = group_rows[column].fillna(0).astype("int64")
    group_rows["revenue_12m"] = group_rows["revenue_12m"].fillna(0.0)
    orders = group_rows["orders_12m"]
    group_rows["avg_check_12m"] = group_rows["revenue_12m"] / orders.where(orders > 0)
    usable = group_rows["wallet"] > 0
    group_rows["share_of_wallet"] = (
        group_rows["revenue_12m"] / group_rows["wallet"].where(usable)
    ).where(usable)
    # A group's own limits and threshold (the rule set's) apply to its rows only;
    # the client's band and segment above stay on the overall share and limits.
    group_rows["share_band"] = segments.group_share_bands(
        group_rows["share_of_wallet"],
        group_rows["group_id"],
        own_limits={
            group: (float(secondary), float(main), float(dominant))
            for group, (secondary, main, dominant) in rule_set.group_band_limits().items()
        },
        default_limits=conf.share_band_limits,
    )
    group_rows["high_share"] = segments.group_high_share(
        group_rows["share_of_wallet"],
        group_rows["group_id"],
        own_thresholds={g: float(t) for g, t in rule_set.group_share_thresholds().items()},
        default_threshold=float(rule_set.share_threshold),
    )
    group_rows = group_rows.rename(columns={"group_id": "product_group_id"})
    return frame, group_rows[list(GROUP_SCHEMA)]


def execute(run: MetricRun, *, base: MetricRun | None) -> dict[str, Any]:
    """Compute and store everything for ``run``; returns the run's counts."""
    conf = metric_settings()
    timer = Timer()
    as_of = run.as_of
    client_ids = None if base is None else [int(i) for i in run.client_ids or []]
    assert run.rule_set is not None

    if connection.vendor == "postgresql":
        # The grouped scans over all lines spill to disk with the default 4 MB
        # (architecture.md); LOCAL ends with the run's transaction.
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('work_mem', %s, true)", [conf.pg_work_mem])
            if client_ids is not None:
                # A few clients' rows are reached through the (client, …) indexes;
                # with the default random_page_cost the planner prefers to scan a
                # whole table (2 M summary rows) for a thousand clients' rows.
                cursor.execute("SELECT set_config('random_page_cost', '1.1', true)")
    refreshed = refresh_stale()
    timer.mark("derived")
    with client_scope(client_ids) as scope:
        frame, group_rows = compute_clients(
            as_of=as_of,
            client_ids=client_ids,
            conf=conf,
            rule_set=run.rule_set,
            id_scope=scope,
        )
        timer.mark("metrics")
        _assign_segments_and_abc(run, frame, base=base, conf=conf)
        timer.mark("segments")
        # A full run stores its rows under its own id; an incremental run
        # replaces its clients' rows in the base run (``MetricRun.rows_run_id``).
        holder = run if base is None else base
        replaced = _drop_replaced_rows(base, scope) if base is not None else None
        snapshot = frame[list(SNAPSHOT_SCHEMA)].copy()
        snapshot.insert(0, "run_id", holder.pk)
        write_frame(ClientMetricSnapshot, snapshot)
        groups_out = group_rows.copy()
        groups_out.insert(0, "run_id", holder.pk)
        write_frame(ClientGroupShare, groups_out)
    if base is None:
        _sample_run_columns()
    timer.mark("write")

    if base is None:
        retention_counts: dict[str, Any] | None = write_aggregates(
            run, frame, group_rows, conf=conf
        )
        run_counts = _frame_counts(frame)
    else:
        # What users wait for after an import is their clients' rows; the
        # base-wide aggregates stay the base run's until ``refresh_aggregates``
        # (queued once this run commits) recomputes them over the stored rows.
        retention_counts = (base.counts or {}).get("retention")
        assert replaced is not None
        run_counts = _counts_after_update(base, replaced=replaced, fresh=frame)
    timer.mark("aggregates")
    return {
        **run_counts,
        "recomputed": len(frame),
        "refreshed_clients": refreshed,
        "retention": retention_counts,
        "timings_ms": timer.steps,
    }


def _assign_segments_and_abc(
    run: MetricRun, frame: pd.DataFrame, *, base: MetricRun | None, conf: MetricSettings
) -> None:
    """Add the segment and the ABC classes to ``frame``; set the run's potential threshold."""
    assert run.rule_set is not None
    if base is None:
        threshold = segments.potential_threshold(frame["wallet"], run.rule_set)
        others = pd.DataFrame(columns=["client_id", "revenue_12m", "margin_12m", "external_id"])
    else:
        threshold = None if base.potential_threshold is None else float(base.potential_threshold)
        others = _ranking_of_others(base, recomputed=frame["client_id"])
    run.potential_threshold = None if threshold is None else Decimal(f"{threshold:.2f}")
    # The overall segment is on the overall share and the overall share threshold;
    # per-group thresholds only mark the group rows (``high_share``).
    frame["rule_segment"] = segments.assign_segments(
        frame, threshold=threshold, share_threshold=float(run.rule_set.share_threshold)
    )
    frame["segment"] = segments.with_overrides(frame["client_id"], frame["rule_segment"])

    # ABC ranks the whole base; only this run's clients take their class from it.
    ranked = ["client_id", "revenue_12m", "margin_12m", "external_id"]
    fresh_ids = frame["client_id"].tolist()
    external = pd.Series(
        dict(Client.objects.filter(pk__in=fresh_ids).values_list("id", "external_id"))
        if base is not None
        else dict(Client.objects.values_list("id", "external_id")),
        dtype=object,
    )
    own = frame[["client_id", "revenue_12m", "margin_12m"]].assign(
        external_id=frame["client_id"].map(external).fillna("")
    )
    ranking = pd.concat([own, others[ranked]], ignore_index=True) if len(others) else own
    fresh = ranking["client_id"].isin(frame["client_id"]).to_numpy()
    for column, values in (("abc", "revenue_12m"), ("abc_margin", "margin_12m")):
        classes = segments.abc_classes(
            ranking[values], ranking["external_id"], ranking["client_id"], conf.abc_limits
        )
        frame[column] = classes[fresh].to_numpy()


# What a run's counts count (``_frame_counts``), as stored in its snapshot rows.
COUNTED_COLUMNS: dict[str, Kind] = {
    "segment": "str",
    "status": "str",
    "abc": "str",
    "xyz": "str",
}


def _drop_replaced_rows(base: MetricRun, scope: Scope) -> pd.DataFrame:
    """Delete the base run's rows that an incremental run replaces or leaves out.

    Those of the clients it recomputes (their new rows follow), and those of
    clients merged into another since the base run (a run covers live
    clients only). Other clients' rows stay as they are: they are the rows
    the run would have copied. Returns the deleted snapshots' counted columns.
    """
    merged = f"SELECT id FROM {table(Client)} WHERE merged_into_id IS NOT NULL"
    groups = (f"SELECT client_id FROM {scope.table}", merged)
    where = " OR ".join(f"client_id IN ({clients})" for clients in groups)
    columns = ", ".join(f"t.{name}" for name in COUNTED_COLUMNS)
    replaced = read_frame(
        f"SELECT {columns} FROM {table(ClientMetricSnapshot)} t "
        f"WHERE t.run_id = %(run)s AND ({where})",
        {"run": base.pk},
        COUNTED_COLUMNS,
    )
    with connection.cursor() as cursor:
        for model in (ClientMetricSnapshot, ClientGroupShare):
            for clients in groups:
                cursor.execute(
                    f"DELETE FROM {table(model)} "
                    f"WHERE run_id = %(run)s AND client_id IN ({clients})",
                    {"run": base.pk},
                )
    return replaced


def _counts_after_update(
    base: MetricRun, *, replaced: pd.DataFrame, fresh: pd.DataFrame
) -> dict[str, Any]:
    """The base run's counts with ``replaced`` rows taken out and ``fresh`` ones put in.

    Counting the 50 000 stored rows again took longer than this whole step.
    A base run without counts (written before they were kept) is counted.
    """
    before = base.counts or {}
    keys = ("segments", "statuses", "abc", "xyz")
    if "clients" not in before or any(not isinstance(before.get(k), dict) for k in keys):
        return _stored_counts(base)
    result: dict[str, Any] = {"clients": int(before["clients"]) - len(replaced) + len(fresh)}
    for key, column in zip(keys, COUNTED_COLUMNS, strict=True):
        counts = dict(before[key])
        for value, n in _counts(replaced[column].fillna("")).items():
            counts[value] = counts.get(value, 0) - n
        for value, n in _counts(fresh[column]).items():
            counts[value] = counts.get(value, 0) + n
        result[key] = {value: n for value, n in sorted(counts.items()) if n}
    result["rated"] = result["clients"] - result["segments"].get("unrated", 0)
    return result


def _sample_run_columns() -> None:
    """Tell PostgreSQL's planner that the new run has rows, before pages read them.

    Until the next ANALYZE the new run id lies beyond the column's histogram
    and is estimated at one row: the planner then reads a page's 50 snapshots
    through the (run, owner) index, filtering all 50 000 rows of the run,
    instead of the (run, client) index (measured: 48 ms against 0.2 ms). A
    small sample of the two key columns is enough and takes a few dozen
    milliseconds; autovacuum's full ANALYZE comes later. The new statistics
    commit with the run (ANALYZE counts the transaction's own rows).
    """
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        # LOCAL: only this transaction's ANALYZE samples this little.
        cursor.execute("SET LOCAL default_statistics_target = 10")
        for model in (ClientMetricSnapshot, ClientGroupShare):
            cursor.execute(f"ANALYZE {table(model)} (run_id, client_id)")


def write_aggregates(
    run: MetricRun, combined: pd.DataFrame, combined_groups: pd.DataFrame, *, conf: MetricSettings
) -> dict[str, Any]:
    """Retention cohorts, reactivation conversion and team metrics of the run's rows."""
    as_of = run.as_of
    cohorts = retention.retention_cohorts(combined, as_of=as_of, conf=conf)
    write_frame(RetentionCohort, cohorts.assign(run_id=run.pk))
    conversions = reactivation.reactivation_conversions(as_of=as_of, conf=conf)
    write_frame(ReactivationConversion, conversions.assign(run_id=run.pk))
    development = team.development_metrics(
        combined,
        combined_groups.rename(columns={"product_group_id": "group_id"}),
        as_of=as_of,
        start_segments=_start_segments(as_of),
        team_members=_team_members(),
    )
    _write_development(run, development)
    headline = retention.retention_headline(
        cohorts[["cohort_month", "size", "retained", "mature"]].itertuples(index=False, name=None),
        months=conf.retention_pooled_months,
    )
    return {
        "size": headline.size,
        "retained": headline.retained,
        "months": headline.months,
        "ratio": headline.ratio,
    }


AGGREGATE_MODELS: tuple[type[Any], ...] = (
    RetentionCohort,
    ReactivationConversion,
    DevelopmentMetric,
)


def refresh_aggregates(run: MetricRun) -> dict[str, Any]:
    """Recompute an incremental run's aggregates over the rows it stored."""
    conf = metric_settings()
    combined = _stored_frame(ClientMetricSnapshot, run.pk, SNAPSHOT_SCHEMA)
    groups = _stored_frame(ClientGroupShare, run.pk, GROUP_SCHEMA)
    for model in AGGREGATE_MODELS:
        model.objects.filter(run=run).delete()
    return write_aggregates(run, combined, groups, conf=conf)


def _ranking_of_others(base: MetricRun, *, recomputed: pd.Series) -> pd.DataFrame:
    """The base run's figures of live clients this run does not recompute, for ABC."""
    sql = (
        f"SELECT s.client_id, s.revenue_12m, s.margin_12m, c.external_id "
        f"FROM {table(ClientMetricSnapshot)} s JOIN {table(Client)} c ON c.id = s.client_id "
        f"WHERE s.run_id = %(base)s AND c.merged_into_id IS NULL"
    )
    schema: dict[str, Kind] = {
        "client_id": "int",
        "revenue_12m": "float",
        "margin_12m": "float",
        "external_id": "str",
    }
    others = read_frame(sql, {"base": base.pk}, schema)
    others["external_id"] = others["external_id"].fillna("")
    return others[~others["client_id"].isin(recomputed)].reset_index(drop=True)


def _frame_counts(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "clients": len(frame),
        "rated": int((frame["segment"] != "unrated").sum()),
        "segments": _counts(frame["segment"]),
        "statuses": _counts(frame["status"]),
        "abc": _counts(frame["abc"]),
        "xyz": _counts(frame["xyz"]),
    }


def _stored_counts(run: MetricRun) -> dict[str, Any]:
    """The same counts as ``_frame_counts``, read from the run's stored rows."""
    rows = ClientMetricSnapshot.objects.filter(run=run)
    result: dict[str, Any] = {"clients": rows.count()}
    for key, field in (
        ("segments", "segment"),
        ("statuses", "status"),
        ("abc", "abc"),
        ("xyz", "xyz"),
    ):
        pairs = rows.exclude(**{field: ""}).values_list(field).annotate(n=Count("id"))
        result[key] = {str(value): int(n) for value, n in sorted(pairs)}
    result["rated"] = result["clients"] - result["segments"].get("unrated", 0)
    return result


def _counts(values: pd.Series) -> dict[str, int]:
    counts = values[values != ""].value_counts()
    return {str(k): int(v) for k, v in sorted(counts.items())}


def _write_development(run: MetricRun, rows: pd.DataFrame) -> None:
    objects = []
    for record in rows.to_dict("records"):
        values: dict[str, Any] = {k: (None if _missing(v) else v) for k, v in record.items()}
        objects.append(
            DevelopmentMetric(
                run=run,
                scope=values["scope"],
                team_id=values.get("team_id"),
                manager_id=values.get("manager_id"),
                segment=values.get("segment") or "",
                clients=values["clients"],
                buying_clients=values["buying_clients"],
                avg_orders=_decimal(values["avg_orders"], 4),
                avg_skus=_decimal(values["avg_skus"], 4),
                avg_groups=_decimal(values["avg_groups"], 4),
                avg_check_by_group=values["avg_check_by_group"],
                share_of_wallet_weighted=_decimal(values["share_of_wallet_weighted"], 8),
                share_of_wallet_median=_decimal(values["share_of_wallet_median"], 8),
                grew_ytd=values["grew_ytd"],
                grew_ytd_base=values["grew_ytd_base"],
                grew_12m=values["grew_12m"],
                grew_12m_base=values["grew_12m_base"],
                revenue_retention=_decimal(values["revenue_retention"], 8),
                moved_up=values["moved_up"],
                moved_by_potential=values["moved_by_potential"],
                moved_down=values["moved_down"],
                development_time_share=_decimal(values["development_time_share"], 6),
                coverage_abc_a=_decimal(values["coverage_abc_a"], 6),
                coverage_rest=_decimal(values["coverage_rest"], 6),
                satisfaction_answers=values["satisfaction_answers"],
                satisfied=values["satisfied"],
                satisfaction_ratio=_decimal(values["satisfaction_ratio"], 6),
                nps_answers=values["nps_answers"],
                nps_promoters=values["nps_promoters"],
                nps_detractors=values["nps_detractors"],
                nps=_decimal(values["nps"], 4),
            )
        )
    DevelopmentMetric.objects.bulk_create(objects, batch_size=500)


def _missing(value: Any) -> bool:
    if isinstance(value, dict):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _decimal(value: Any, places: int) -> Decimal | None:
    if value is None:
        return None
    return Decimal(repr(round(float(value), places) + 0.0))
