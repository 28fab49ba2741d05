"""The engine's day counts and limits: domain.md's defaults, each a setting.

Read at call time (not import time) so tests and a changed setting take
effect without a restart of the importing module.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings

DEFAULTS: dict[str, object] = {
    # Lifecycle status (domain.md "Metrics").
    "METRIC_LOST_DAYS": 365,
    "METRIC_SLEEPING_GAP_MULTIPLIER": 2,
    "METRIC_SLEEPING_FLOOR_DAYS": 30,
    "METRIC_SLEEPING_FALLBACK_DAYS": 90,
    "METRIC_RECENT_ORDER_DAYS": 90,  # "new" and the order a comeback needs
    "METRIC_REACTIVATED_LOOKBACK_DAYS": 180,
    "METRIC_USUAL_GAP_MIN_DATES": 3,
    # The sales type a usual gap suggests: ≤ first transactional, ≤ second mixed.
    "METRIC_SALES_TYPE_GAP_LIMITS": (31, 61),
    # Lenses.
    "METRIC_ABC_LIMITS": (0.80, 0.95),
    "METRIC_XYZ_LIMITS": (0.10, 0.25),
    # Retention of new clients.
    "METRIC_RETENTION_DAYS": 180,
    "METRIC_RETENTION_POOLED_MONTHS": 12,
    "METRIC_RETENTION_TARGET": 0.67,
    "METRIC_RETENTION_EXCLUDED_SALES_TYPES": ("strategic",),
    # Reactivation.
    "METRIC_REACTIVATION_DAYS": 90,
    "METRIC_REACTIVATION_TARGET": 0.60,
    "METRIC_REACTIVATION_MONTHS": 12,
    # Runs.
    "METRIC_RUNS_KEEP_DAYS": 400,
    "METRIC_LOCK_STALE_SECONDS": 6 * 3600,
    # PostgreSQL memory per sort or hash of the run's statements: the full run
    # groups ~3.4 M documents (10 M lines) in one hash table, which needs about
    # 1.2 GB and spills to disk (twice as slow) with less. It is a ceiling, not
    # an allocation: an incremental run's hash tables stay small.
    "METRIC_PG_WORK_MEM": "1GB",
}


@dataclass(frozen=True)
class MetricSettings:
    lost_days: int
    sleeping_gap_multiplier: float
    sleeping_floor_days: int
    sleeping_fallback_days: int
    recent_order_days: int
    reactivated_lookback_days: int
    usual_gap_min_dates: int
    sales_type_gap_limits: tuple[int, int]
    abc_limits: tuple[float, float]
    xyz_limits: tuple[float, float]
    retention_days: int
    retention_pooled_months: int
    retention_target: float
    retention_excluded_sales_types: tuple[str, ...]
    reactivation_days: int
    reactivation_target: float
    reactivation_months: int
    runs_keep_days: int
    lock_stale_seconds: int
    pg_work_mem: str
    share_band_limits: tuple[float, float, float]


def _get(name: str) -> Any:
    return getattr(settings, name, DEFAULTS[name])


def _pair(name: str) -> tuple[float, float]:
    low, high = (float(x) for x in _get(name))
    return low, high


def metric_settings() -> MetricSettings:
    secondary, main, dominant = (float(x) for x in settings.SHARE_BAND_LIMITS)
    transactional, mixed = _pair("METRIC_SALES_TYPE_GAP_LIMITS")
    return MetricSettings(
        lost_days=int(_get("METRIC_LOST_DAYS")),
        sleeping_gap_multiplier=float(_get("METRIC_SLEEPING_GAP_MULTIPLIER")),
        sleeping_floor_days=int(_get("METRIC_SLEEPING_FLOOR_DAYS")),
        sleeping_fallback_days=int(_get("METRIC_SLEEPING_FALLBACK_DAYS")),
        recent_order_days=int(_get("METRIC_RECENT_ORDER_DAYS")),
        reactivated_lookback_days=int(_get("METRIC_REACTIVATED_LOOKBACK_DAYS")),
        usual_gap_min_dates=int(_get("METRIC_USUAL_GAP_MIN_DATES")),
        sales_type_gap_limits=(int(transactional), int(mixed)),
        abc_limits=_pair("METRIC_ABC_LIMITS"),
        xyz_limits=_pair("METRIC_XYZ_LIMITS"),
        retention_days=int(_get("METRIC_RETENTION_DAYS")),
        retention_pooled_months=int(_get("METRIC_RETENTION_POOLED_MONTHS")),
        retention_target=float(_get("METRIC_RETENTION_TARGET")),
        retention_excluded_sales_types=tuple(
            str(x) for x in _get("METRIC_RETENTION_EXCLUDED_SALES_TYPES")
        ),
        reactivation_days=int(_get("METRIC_REACTIVATION_DAYS")),
        reactivation_target=float(_get("METRIC_REACTIVATION_TARGET")),
        reactivation_months=int(_get("METRIC_REACTIVATION_MONTHS")),
        runs_keep_days=int(_get("METRIC_RUNS_KEEP_DAYS")),
        lock_stale_seconds=int(_get("METRIC_LOCK_STALE_SECONDS")),
        pg_work_mem=str(_get("METRIC_PG_WORK_MEM")),
        share_band_limits=(secondary, main, dominant),
    )
