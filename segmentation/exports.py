"""CSV files of a stored run: client metrics and retention cohorts.

UTF-8, comma-separated, a header row, ISO dates, dot decimals without
thousands separators, ratios as fractions, an empty cell for an empty
value. Only text cells (codes, INN, names) are neutralised against formula
injection: a negative growth stays a number a spreadsheet can sum.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet

from crm.models import Client
from segmentation.conf import metric_settings
from segmentation.engine.retention import retention_headline
from segmentation.models import ClientMetricSnapshot, MetricRun, RetentionCohort

METRIC_COLUMNS = [
    "external_id",
    "inn",
    "name",
    "revenue_12m",
    "revenue_prev_12m",
    "yoy_growth",
    "orders_12m",
    "avg_check_12m",
    "skus_12m",
    "groups_12m",
    "first_order_on",
    "last_order_on",
    "days_since_last_order",
    "usual_gap_days",
    "wallet",
    "share_of_wallet",
    "share_band",
    "status",
    "segment",
    "abc",
    "xyz",
]
RETENTION_COLUMNS = ["cohort_month", "size", "retained", "ratio", "mature"]
HEADLINE_LABEL = "last-12-mature"
# Characters a spreadsheet reads as the start of a formula (and tab/CR, which
# some spreadsheets strip before looking).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """A text cell that a spreadsheet will show, never run."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def number_cell(value: Decimal | int | float | None) -> str:
    """Plain digits with a dot: no exponent, no thousands separator, no trailing zeros."""
    if value is None:
        return ""
    if isinstance(value, int):
        return str(value)
    number = value if isinstance(value, Decimal) else Decimal(repr(value))
    text = format(number.normalize(), "f")
    return "0" if text in {"-0", ""} else text


def money_cell(value: Decimal | None) -> str:
    return "" if value is None else format(value.quantize(Decimal("0.01")), "f")


def date_cell(value: dt.date | None) -> str:
    return "" if value is None else value.isoformat()


def metric_rows(run: MetricRun, clients: QuerySet[Client] | None = None) -> Iterable[list[str]]:
    """The export's rows; ``clients`` (a user's scope) limits them, None gives every client."""
    snapshots = ClientMetricSnapshot.objects.filter(run=run)
    if clients is not None:
        snapshots = snapshots.filter(client__in=clients.values("pk"))
    snapshots = snapshots.select_related("client").order_by("client__external_id", "client_id")
    for s in snapshots.iterator(chunk_size=2000):
        yield [
            text_cell(s.client.external_id),
            text_cell(s.client.inn),
            text_cell(s.client.name),
            money_cell(s.revenue_12m),
            money_cell(s.revenue_prev_12m),
            number_cell(s.yoy_growth),
            number_cell(s.orders_12m),
            money_cell(s.avg_check_12m),
            number_cell(s.skus_12m),
            number_cell(s.groups_12m),
            date_cell(s.first_order_on),
            date_cell(s.last_order_on),
            number_cell(s.days_since_last_order),
            number_cell(s.usual_gap_days),
            money_cell(s.wallet),
            number_cell(s.share_of_wallet),
            s.share_band,
            s.status,
            s.segment,
            s.abc,
            s.xyz,
        ]


def write_metrics_csv(run: MetricRun, out: IO[str]) -> int:
    """Write the run's client metrics; returns the number of clients written."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(METRIC_COLUMNS)
    count = 0
    for row in metric_rows(run):
        writer.writerow(row)
        count += 1
    return count


def write_retention_csv(run: MetricRun, out: IO[str]) -> int:
    """One row per cohort month, then the pooled figure of the recent mature months."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RETENTION_COLUMNS)
    cohorts = list(RetentionCohort.objects.filter(run=run).order_by("cohort_month"))
    for cohort in cohorts:
        writer.writerow(
            [
                cohort.cohort_month.strftime("%Y-%m"),
                cohort.size,
                cohort.retained,
                number_cell(cohort.ratio),
                _flag(cohort.mature),
            ]
        )
    headline = retention_headline(
        ((c.cohort_month, c.size, c.retained, c.mature) for c in cohorts),
        months=metric_settings().retention_pooled_months,
    )
    ratio: Any = None if headline.ratio is None else round(Decimal(headline.ratio), 6)
    writer.writerow(
        [HEADLINE_LABEL, headline.size, headline.retained, number_cell(ratio), _flag(True)]
    )
    return len(cohorts)


def _flag(value: bool) -> str:
    return "true" if value else "false"
