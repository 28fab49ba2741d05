"""Tables of the metric engine: rules, runs, summaries and per-run results."""

from segmentation.models.aggregates import (
    DevelopmentMetric,
    ReactivationConversion,
    RetentionCohort,
)
from segmentation.models.overrides import SegmentOverride
from segmentation.models.rules import SegmentRuleSet
from segmentation.models.runs import MetricLock, MetricRun
from segmentation.models.snapshots import ClientGroupShare, ClientMetricSnapshot
from segmentation.models.summary import ClientDocument, ClientProduct, MonthlySummary, StaleMonth

__all__ = [
    "ClientDocument",
    "ClientGroupShare",
    "ClientMetricSnapshot",
    "ClientProduct",
    "DevelopmentMetric",
    "MetricLock",
    "MetricRun",
    "MonthlySummary",
    "ReactivationConversion",
    "RetentionCohort",
    "SegmentOverride",
    "SegmentRuleSet",
    "StaleMonth",
]
