"""Everything a run stored, without ids, for comparing two runs."""

from __future__ import annotations

from segmentation.models import (
    ClientGroupShare,
    ClientMetricSnapshot,
    DevelopmentMetric,
    MetricRun,
    ReactivationConversion,
    RetentionCohort,
)

_IGNORED = {"id", "run", "run_id"}


def _rows(model, run: MetricRun, order: list[str]) -> list[dict]:
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in _IGNORED]
    # An incremental run's results are its base run's rows (MetricRun.rows_run_id).
    rows = model.objects.filter(run_id=run.rows_run_id)
    return list(rows.order_by(*order).values(*names))


def stored(run: MetricRun) -> dict[str, list[dict]]:
    return {
        "snapshots": _rows(ClientMetricSnapshot, run, ["client_id"]),
        "groups": _rows(ClientGroupShare, run, ["client_id", "product_group_id"]),
        "cohorts": _rows(RetentionCohort, run, ["cohort_month"]),
        "reactivation": _rows(ReactivationConversion, run, ["period", "person_id"]),
        "development": _rows(DevelopmentMetric, run, ["scope", "team_id", "manager_id", "segment"]),
    }
