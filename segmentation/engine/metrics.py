"""Per-client metrics of domain.md "Metrics", set-wise.

The statements read the tables derived from the lines
(``segmentation.engine.derived``): per-client sums and order dates the
clients' documents, the product-group figures the monthly summary (plus the
lines of the window's part-months) and each product's last day bought.
pandas derives the rest column by column. No statement counts a line after
D. With a scope of ids every statement joins a temporary table of them, so
it runs through the (client, …) indexes for those clients only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm.models import Client, Product, ShipmentLine
from segmentation.engine.db import (
    Kind,
    Params,
    Scope,
    chunks,
    client_scope,
    read_frame,
    table,
)
from segmentation.engine.documents import scaled_sum, unscaled
from segmentation.models import ClientDocument, ClientProduct, MonthlySummary

DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Windows:
    """The date windows of one as-of date D, inclusive at both ends."""

    as_of: dt.date

    @property
    def year_start(self) -> dt.date:  # D−364
        return self.as_of - 364 * DAY

    @property
    def prev_start(self) -> dt.date:  # D−729
        return self.as_of - 729 * DAY

    @property
    def prev_end(self) -> dt.date:  # D−365
        return self.as_of - 365 * DAY

    @property
    def ytd_start(self) -> dt.date:
        return self.as_of.replace(month=1, day=1)

    @property
    def prev_ytd_start(self) -> dt.date:
        return self.ytd_start.replace(year=self.as_of.year - 1)

    @property
    def prev_ytd_end(self) -> dt.date:
        """The same day a year earlier; 29 February becomes the 28th."""
        try:
            return self.as_of.replace(year=self.as_of.year - 1)
        except ValueError:
            return self.as_of.replace(year=self.as_of.year - 1, day=28)

    @property
    def first_month(self) -> dt.date:
        """The first month wholly inside the 12-month window."""
        start = self.year_start
        if start.day == 1:
            return start
        return (start.replace(day=1) + 32 * DAY).replace(day=1)

    @property
    def last_month(self) -> dt.date:
        """The last month wholly inside the 12-month window (D's own when D ends it)."""
        this_month = self.as_of.replace(day=1)
        if (self.as_of + DAY).day == 1:
            return this_month
        return (this_month - DAY).replace(day=1)

    def part_months(self) -> list[tuple[dt.date, dt.date]]:
        """The window's days outside its whole months: at most one stretch at each end."""
        stretches = []
        if self.year_start < self.first_month:
            stretches.append((self.year_start, self.first_month - DAY))
        after_last = (self.last_month + 32 * DAY).replace(day=1)
        if after_last <= self.as_of:
            stretches.append((after_last, self.as_of))
        return stretches

    def params(self) -> Params:
        return {
            "as_of": self.as_of.isoformat(),
            "year_start": self.year_start.isoformat(),
            "prev_start": self.prev_start.isoformat(),
            "prev_end": self.prev_end.isoformat(),
            "ytd_start": self.ytd_start.isoformat(),
            "prev_ytd_start": self.prev_ytd_start.isoformat(),
            "prev_ytd_end": self.prev_ytd_end.isoformat(),
        }


def _scoped(
    sql: str, params: Params, schema: dict[str, Kind], client_ids: Sequence[int] | None
) -> pd.DataFrame:
    """Run a statement with ``{scope}`` for all clients or for a temp table of ids."""
    with client_scope(client_ids) as scope:
        return read_frame(sql.format(scope=scope.clause("l.client_id")), dict(params), schema)


# Statements over the derived tables (segmentation.engine.derived), which the
# run has just brought up to date. Money is in kopecks there.
CLIENT_SQL = """
SELECT per.client_id, per.revenue_12m, per.revenue_prev_12m, per.revenue_ytd,
       per.revenue_prev_ytd, per.margin_12m, per.orders_12m, per.first_order_on,
       (SELECT MIN(d.doc_date) FROM {documents} d
        WHERE d.client_id = per.client_id AND d.total_kopecks > 0
          AND d.doc_date > per.first_order_on AND d.doc_date <= %(as_of)s) AS second_order_on,
       per.last_order_on
FROM (
    SELECT d.client_id AS client_id,
        SUM(CASE WHEN d.doc_date >= %(year_start)s THEN d.total_kopecks ELSE 0 END)
            AS revenue_12m,
        SUM(CASE WHEN d.doc_date >= %(prev_start)s AND d.doc_date <= %(prev_end)s
                 THEN d.total_kopecks ELSE 0 END) AS revenue_prev_12m,
        SUM(CASE WHEN d.doc_date >= %(ytd_start)s THEN d.total_kopecks ELSE 0 END)
            AS revenue_ytd,
        SUM(CASE WHEN d.doc_date >= %(prev_ytd_start)s AND d.doc_date <= %(prev_ytd_end)s
                 THEN d.total_kopecks ELSE 0 END) AS revenue_prev_ytd,
        SUM(CASE WHEN d.doc_date >= %(year_start)s THEN d.margin_kopecks ELSE 0 END)
            AS margin_12m,
        SUM(CASE WHEN d.total_kopecks > 0 AND d.doc_date >= %(year_start)s THEN 1 ELSE 0 END)
            AS orders_12m,
        MIN(CASE WHEN d.total_kopecks > 0 THEN d.doc_date END) AS first_order_on,
        MAX(CASE WHEN d.total_kopecks > 0 THEN d.doc_date END) AS last_order_on
    FROM {documents} d WHERE d.doc_date <= %(as_of)s {scope}
    GROUP BY d.client_id
) per
"""
CLIENT_SCHEMA: dict[str, Kind] = {
    "client_id": "int",
    "revenue_12m": "float",
    "revenue_prev_12m": "float",
    "revenue_ytd": "float",
    "revenue_prev_ytd": "float",
    "margin_12m": "float",
    "orders_12m": "int",
    "first_order_on": "date",
    "second_order_on": "date",
    "last_order_on": "date",
}
KOPECK_COLUMNS = (
    "revenue_12m",
    "revenue_prev_12m",
    "revenue_ytd",
    "revenue_prev_ytd",
    "margin_12m",
)

DERIVED_ORDER_DATES_SQL = """
SELECT d.client_id AS client_id, d.doc_date AS doc_date FROM {documents} d
WHERE d.total_kopecks > 0 AND d.doc_date >= %(start)s AND d.doc_date <= %(as_of)s {scope}
GROUP BY d.client_id, d.doc_date
"""

# The same from the lines, for callers without the derived tables (reactivation).
ORDER_DATES_SQL = """
SELECT d.client_id AS client_id, d.doc_date AS doc_date
FROM (
    SELECT l.client_id AS client_id, l.doc_date AS doc_date, SUM(l.amount) AS total
    FROM {line} l
    WHERE l.doc_date >= %(start)s AND l.doc_date <= %(as_of)s {{scope}}
    GROUP BY l.client_id, l.doc_number, l.doc_date
) d
WHERE d.total > 0
GROUP BY d.client_id, d.doc_date
"""
ORDER_DATES_SCHEMA: dict[str, Kind] = {"client_id": "int", "doc_date": "date"}

# The 12-month group figures: the summary's months wholly inside the window…
GROUP_MONTHS_SQL = """
SELECT s.client_id AS client_id, s.product_group_id AS group_id,
       SUM(s.revenue) AS revenue_12m, SUM(s.orders) AS orders_12m
FROM {summary} s
WHERE s.month >= %(first_month)s AND s.month <= %(last_month)s {scope}
GROUP BY s.client_id, s.product_group_id
"""
# … and the lines of the window's part-months, reached through their documents.
# A group's part of a document is an order of the group when it has a positive
# line and the document's total is positive.
GROUP_DAYS_SQL = """
SELECT x.client_id AS client_id, x.group_id AS group_id, {revenue_12m} AS revenue_12m,
       SUM(CASE WHEN x.has_positive = 1 AND x.is_order = 1 THEN 1 ELSE 0 END) AS orders_12m
FROM (
    SELECT l.client_id AS client_id, l.doc_number AS doc_number, l.doc_date AS doc_date,
           p.group_id AS group_id, {revenue} AS revenue,
           MAX(CASE WHEN l.amount > 0 THEN 1 ELSE 0 END) AS has_positive,
           MAX(CASE WHEN d.total_kopecks > 0 THEN 1 ELSE 0 END) AS is_order
    FROM {documents} d
    JOIN {line} l ON l.client_id = d.client_id AND l.doc_date = d.doc_date
                 AND l.doc_number = d.doc_number
    JOIN {product} p ON p.id = l.product_id
    WHERE ({days}) {scope}
    GROUP BY l.client_id, l.doc_number, l.doc_date, p.group_id
) x
GROUP BY x.client_id, x.group_id
"""
GROUP_SCHEMA: dict[str, Kind] = {
    "client_id": "int",
    "group_id": "int",
    "revenue_12m": "float",
    "orders_12m": "int",
}

# Products bought in the window: the day last bought is in it. A client who
# bought a product after D as well is counted from the lines (SKU_SQL).
DERIVED_SKU_SQL = """
SELECT c.client_id AS client_id, p.group_id AS group_id, COUNT(*) AS skus_12m
FROM {client_product} c JOIN {product} p ON p.id = c.product_id
WHERE c.last_bought_on >= %(year_start)s AND c.last_bought_on <= %(as_of)s {scope}
GROUP BY c.client_id, p.group_id
"""
BOUGHT_LATER_SQL = """
SELECT DISTINCT c.client_id FROM {client_product} c
WHERE c.last_bought_on > %(as_of)s {scope}
"""

SKU_SQL = """
SELECT l.client_id AS client_id, p.group_id AS group_id, COUNT(DISTINCT l.product_id) AS skus_12m
FROM {line} l JOIN {product} p ON p.id = l.product_id
WHERE l.amount > 0 AND l.doc_date >= %(year_start)s AND l.doc_date <= %(as_of)s {scope}
GROUP BY l.client_id, p.group_id
"""
SKU_SCHEMA: dict[str, Kind] = {"client_id": "int", "group_id": "int", "skus_12m": "int"}


def _sql(template: str) -> str:
    return template.format(line=table(ShipmentLine), product=table(Product))


def client_frame(*, client_ids: Sequence[int] | None) -> pd.DataFrame:
    """The clients a run covers: every live card (a merged card lives on in its survivor)."""
    clients = Client.objects.filter(merged_into__isnull=True)
    fields = ("id", "external_id", "sales_type", "owner_id")
    if client_ids is None:
        rows = list(clients.values_list(*fields))
    else:
        rows = []
        for chunk in chunks(sorted(set(client_ids))):
            rows.extend(clients.filter(pk__in=chunk).values_list(*fields))
    frame = pd.DataFrame(rows, columns=["client_id", "external_id", "sales_type", "owner_id"])
    return frame.astype(
        {"client_id": "int64", "external_id": object, "sales_type": object, "owner_id": "int64"}
    )


def order_dates(
    *, start: dt.date, as_of: dt.date, client_ids: Sequence[int] | None
) -> pd.DataFrame:
    """Distinct dates of orders (documents with a positive total) in [start, as_of]."""
    params: Params = {"start": start.isoformat(), "as_of": as_of.isoformat()}
    return _scoped(_sql(ORDER_DATES_SQL), params, ORDER_DATES_SCHEMA, client_ids)


def usual_gap_days(dates: pd.DataFrame, *, min_dates: int) -> pd.Series:
    """Median gap between consecutive distinct order dates, per client.

    Only clients with at least ``min_dates`` distinct dates get a value.
    """
    if dates.empty:
        return pd.Series(dtype="float64")
    clients = dates["client_id"].to_numpy(dtype="int64")
    days = dates["doc_date"].to_numpy(dtype="datetime64[D]").astype("int64")
    # One sort of a single int64 key (client, then day) instead of pandas'
    # two-key sort: millions of dates in a nightly run.
    order = np.argsort(clients * 1_000_000 + (days - days.min()), kind="stable")
    clients, days = clients[order], days[order]
    same_client = clients[1:] == clients[:-1]
    gaps = pd.Series(np.diff(days)[same_client].astype("float64"))
    medians = gaps.groupby(clients[1:][same_client]).median()
    counts = pd.Series(clients).value_counts()
    eligible = counts[counts >= min_dates].index
    return medians.reindex(eligible).astype("float64")


def line_metrics(
    *, as_of: dt.date, client_ids: Sequence[int] | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per-client sums, per client × group figures, order dates of the last 730 days).

    Brings the derived tables up to date first (see ``derived_line_metrics``).
    """
    from segmentation.engine.derived import refresh_stale

    refresh_stale()
    with client_scope(client_ids) as scope:
        return derived_line_metrics(scope, as_of=as_of)


def _group_figures(scope: Scope, windows: Windows) -> pd.DataFrame:
    """Revenue and orders of the 12-month window per client and product group."""
    params: Params = {
        "first_month": windows.first_month.isoformat(),
        "last_month": windows.last_month.isoformat(),
    }
    months_sql = GROUP_MONTHS_SQL.format(
        summary=table(MonthlySummary), scope=scope.clause("s.client_id")
    )
    parts = [read_frame(months_sql, params, GROUP_SCHEMA)]
    stretches = windows.part_months()
    if stretches:
        days = []
        params = {}
        for number, (first, last) in enumerate(stretches):
            days.append(f"(d.doc_date >= %(first_{number})s AND d.doc_date <= %(last_{number})s)")
            params[f"first_{number}"], params[f"last_{number}"] = (
                first.isoformat(),
                last.isoformat(),
            )
        days_sql = GROUP_DAYS_SQL.format(
            documents=table(ClientDocument),
            line=table(ShipmentLine),
            product=table(Product),
            days=" OR ".join(days),
            scope=scope.clause("d.client_id"),
            revenue=scaled_sum("l.amount"),
            revenue_12m=unscaled("SUM(x.revenue)"),
        )
        parts.append(read_frame(days_sql, params, GROUP_SCHEMA))
    figures = pd.concat(parts, ignore_index=True)
    return figures.groupby(["client_id", "group_id"], as_index=False, sort=False)[
        ["revenue_12m", "orders_12m"]
    ].sum()


def _sku_counts(scope: Scope, windows: Windows) -> pd.DataFrame:
    """Distinct products bought (a positive line) in the window, per client and group."""
    params = windows.params()
    names = {"client_product": table(ClientProduct), "product": table(Product)}
    skus = read_frame(
        DERIVED_SKU_SQL.format(**names, scope=scope.clause("c.client_id")), dict(params), SKU_SCHEMA
    )
    later = read_frame(
        BOUGHT_LATER_SQL.format(**names, scope=scope.clause("c.client_id")),
        dict(params),
        {"client_id": "int"},
    )["client_id"].tolist()
    if not later:
        return skus
    # Bought after D as well: the day last bought says nothing about the window.
    with client_scope(later) as bought_later:
        sku_sql = SKU_SQL.format(
            line=table(ShipmentLine),
            product=names["product"],
            scope=bought_later.clause("l.client_id"),
        )
        exact = read_frame(sku_sql, dict(params), SKU_SCHEMA)
    skus = skus[~skus["client_id"].isin(later)]
    return pd.concat([skus, exact], ignore_index=True)


def derived_line_metrics(
    scope: Scope, *, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``line_metrics`` of the scope, read from derived tables already up to date.

    Per-client sums and order dates come from the clients' documents; the
    group figures from the summary's whole months plus the lines of the
    window's part-months; the products bought from each product's last day.
    """
    windows = Windows(as_of)
    params = windows.params()
    documents = table(ClientDocument)
    per_client = read_frame(
        CLIENT_SQL.format(documents=documents, scope=scope.clause("d.client_id")),
        dict(params),
        CLIENT_SCHEMA,
    )
    for column in KOPECK_COLUMNS:
        per_client[column] = per_client[column] / 100
    groups = _group_figures(scope, windows).merge(
        _sku_counts(scope, windows), on=["client_id", "group_id"], how="outer"
    )
    groups["revenue_12m"] = groups["revenue_12m"].fillna(0.0)
    for column in ("orders_12m", "skus_12m"):
        groups[column] = groups[column].fillna(0).astype("int64")
    dates = read_frame(
        DERIVED_ORDER_DATES_SQL.format(documents=documents, scope=scope.clause("d.client_id")),
        {"start": windows.prev_start.isoformat(), "as_of": as_of.isoformat()},
        ORDER_DATES_SCHEMA,
    )
    return per_client, groups, dates


def per_client_metrics(
    clients: pd.DataFrame,
    per_client: pd.DataFrame,
    groups: pd.DataFrame,
    dates: pd.DataFrame,
    *,
    as_of: dt.date,
    min_dates: int,
) -> pd.DataFrame:
    """Every client of ``clients`` with its sums and the metrics derived from them."""
    frame = clients.merge(per_client, on="client_id", how="left")
    for column in ("revenue_12m", "revenue_prev_12m", "revenue_ytd", "revenue_prev_ytd"):
        frame[column] = frame[column].fillna(0.0)
    frame["margin_12m"] = frame["margin_12m"].fillna(0.0)
    frame["orders_12m"] = frame["orders_12m"].fillna(0).astype("int64")

    prev = frame["revenue_prev_12m"]
    frame["yoy_growth"] = np.where(
        prev > 0, (frame["revenue_12m"] - prev) / prev.where(prev > 0), np.nan
    )
    orders = frame["orders_12m"]
    frame["avg_check_12m"] = np.where(
        orders > 0, frame["revenue_12m"] / orders.where(orders > 0), np.nan
    )

    by_client = (
        groups.assign(bought=(groups["skus_12m"] > 0).astype("int64"))
        .groupby("client_id")
        .agg(skus_12m=("skus_12m", "sum"), groups_12m=("bought", "sum"))
    )
    frame = frame.merge(by_client, left_on="client_id", right_index=True, how="left")
    frame["skus_12m"] = frame["skus_12m"].fillna(0).astype("int64")
    frame["groups_12m"] = frame["groups_12m"].fillna(0).astype("int64")

    d = pd.Timestamp(as_of)
    frame["days_since_last_order"] = (d - frame["last_order_on"]).dt.days.astype("Int64")
    gap = usual_gap_days(dates, min_dates=min_dates)
    frame["usual_gap_days"] = frame["client_id"].map(gap).astype("float64")
    return frame
