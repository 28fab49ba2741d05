"""The revenue chart's table (the card's figures for screen readers and print), in Python.

Twenty-four months of up to a dozen product groups are hundreds of cells;
through the template engine's loops and filters they cost more than the
rest of the card's overview.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from crm.selectors.card.chart import RevenueChart
from crm.templatetags.money import money

register = template.Library()


def _money_cells(amounts: Iterable[Decimal]) -> SafeString:
    return format_html_join("", '<td class="num">{}</td>', ((money(a),) for a in amounts))


@register.simple_tag
def revenue_chart_rows(chart: RevenueChart) -> SafeString:
    """A ``<tr>`` per month: the month, an amount per product group, the month's total."""
    return format_html_join(
        "\n",
        '<tr><th scope="row">{}</th>{}<td class="num">{}</td></tr>',
        (
            (date_format(month, "YEAR_MONTH_FORMAT"), _money_cells(cells), money(total))
            for month, cells, total in chart.rows
        ),
    )


@register.simple_tag
def revenue_chart_totals(chart: RevenueChart) -> SafeString:
    """The totals' cells: one per product group, then the grand total."""
    return _money_cells([*(series.total for series in chart.series), chart.total])
