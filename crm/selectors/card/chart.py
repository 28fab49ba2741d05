"""The client card: revenue chart."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Sum
from django.db.models.functions import TruncMonth
from django.utils.formats import date_format

from crm.models import Client, ShipmentLine

# The chart covers this many calendar months, the current one included.
CHART_MONTHS = 24


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ChartSeries:
    group_id: int
    name: str
    values: list[Decimal]

    @property
    def total(self) -> Decimal:
        return sum(self.values, Decimal(0))


@dataclass(frozen=True)
class RevenueChart:
    """Revenue per calendar month, stacked by product group; returns lower it."""

    months: list[dt.date]
    series: list[ChartSeries]

    @property
    def totals(self) -> list[Decimal]:
        return [
            sum((s.values[i] for s in self.series), Decimal(0)) for i in range(len(self.months))
        ]

    @property
    def total(self) -> Decimal:
        return sum(self.totals, Decimal(0))

    @property
    def rows(self) -> list[tuple[dt.date, list[Decimal], Decimal]]:
        """The table form: one row per month, one cell per group, and the month total."""
        totals = self.totals
        return [
            (month, [s.values[i] for s in self.series], totals[i])
            for i, month in enumerate(self.months)
        ]

    def chart_data(self) -> dict[str, Any]:
        """The series as Chart.js reads them (amounts as decimal strings)."""
        return {
            "labels": [date_format(m, "YEAR_MONTH_FORMAT") for m in self.months],
            "datasets": [
                {"label": s.name, "data": [str(v) for v in s.values]} for s in self.series
            ],
        }


def client_revenue_chart(*, client: Client, today: dt.date) -> RevenueChart:
    """The last CHART_MONTHS calendar months up to ``today``: one query, summed in SQL
    by month × product group through the (client, date) index."""
    last = _month_start(today)
    first = _add_months(last, -(CHART_MONTHS - 1))
    months = [_add_months(first, i) for i in range(CHART_MONTHS)]
    rows = (
        ShipmentLine.objects.filter(client=client, doc_date__gte=first, doc_date__lte=today)
        .annotate(month=TruncMonth("doc_date"))
        .values("month", "product__group_id", "product__group__name")
        .annotate(revenue=Sum("amount"))
        .order_by()
    )
    position = {m: i for i, m in enumerate(months)}
    names: dict[int, str] = {}
    values: dict[int, list[Decimal]] = {}
    for row in rows:
        month = row["month"]
        if isinstance(month, dt.datetime):
            month = month.date()
        group_id = row["product__group_id"]
        names[group_id] = row["product__group__name"]
        cells = values.setdefault(group_id, [Decimal(0)] * CHART_MONTHS)
        cells[position[_month_start(month)]] += row["revenue"] or Decimal(0)
    series = [ChartSeries(group_id, names[g], cells) for g, cells in values.items()]
    series.sort(key=lambda s: (-s.total, s.name, s.group_id))
    return RevenueChart(months=months, series=series)
