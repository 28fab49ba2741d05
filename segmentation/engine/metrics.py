"""Per-client metrics of domain.md "Metrics", set-wise.

The run's documents are staged once (``segmentation.engine.documents``);
per-client sums and order dates read them, two statements read the lines
of the last 12 months for the product-group figures, and pandas derives
the rest column by column. No statement reads a line after D. With
``client_ids`` every statement joins a temporary table of the ids, so it
runs through the (client, date) index for those clients only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm.models import Client, Product, ShipmentLine
from segmentation.engine.db import Kind, Params, chunks, client_scope, read_frame, table
from segmentation.engine.documents import (
    Documents,
    is_order_sql,
    nonorder_join,
    scaled_sum,
    staged_documents,
    unscaled,
)

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


# Statements over the staged documents (segmentation.engine.documents): a
# document's lines all share its date, so "documents dated ≤ D" reads exactly
# the lines dated ≤ D.
CLIENT_SQL = """
WITH per AS (
    SELECT client_id,
        SUM(CASE WHEN doc_date >= %(year_start)s THEN total ELSE 0 END) AS revenue_12m,
        SUM(CASE WHEN doc_date >= %(prev_start)s AND doc_date <= %(prev_end)s
                 THEN total ELSE 0 END) AS revenue_prev_12m,
        SUM(CASE WHEN doc_date >= %(ytd_start)s THEN total ELSE 0 END) AS revenue_ytd,
        SUM(CASE WHEN doc_date >= %(prev_ytd_start)s AND doc_date <= %(prev_ytd_end)s
                 THEN total ELSE 0 END) AS revenue_prev_ytd,
        SUM(CASE WHEN doc_date >= %(year_start)s THEN margin ELSE 0 END) AS margin_12m,
        SUM(CASE WHEN total > 0 AND doc_date >= %(year_start)s THEN 1 ELSE 0 END) AS orders_12m,
        MIN(CASE WHEN total > 0 THEN doc_date END) AS first_order_on,
        MAX(CASE WHEN total > 0 THEN doc_date END) AS last_order_on
    FROM {docs} WHERE doc_date <= %(as_of)s
    GROUP BY client_id
), sec AS (
    SELECT d.client_id AS client_id, MIN(d.doc_date) AS second_order_on
    FROM {docs} d JOIN per ON per.client_id = d.client_id
    WHERE d.doc_date <= %(as_of)s AND d.total > 0 AND d.doc_date > per.first_order_on
    GROUP BY d.client_id
)
SELECT per.client_id, per.revenue_12m, per.revenue_prev_12m, per.revenue_ytd,
       per.revenue_prev_ytd, per.margin_12m, per.orders_12m, per.first_order_on,
       sec.second_order_on, per.last_order_on
FROM per LEFT JOIN sec ON sec.client_id = per.client_id
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

STAGED_ORDER_DATES_SQL = """
SELECT client_id, doc_date FROM {docs}
WHERE total > 0 AND doc_date >= %(start)s AND doc_date <= %(as_of)s
GROUP BY client_id, doc_date
"""

# The same from the lines, for callers without staged documents (reactivation).
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

# A group's part of a document is an order of the group when it has a positive
# line and the document is an order (not a staged non-order).
GROUP_SQL = """
SELECT x.client_id AS client_id, x.group_id AS group_id, {revenue_12m} AS revenue_12m,
       SUM(CASE WHEN x.has_positive = 1 AND {is_order} THEN 1 ELSE 0 END) AS orders_12m,
       SUM(x.has_positive) AS positive_docs
FROM (
    SELECT l.client_id AS client_id, l.doc_number AS doc_number, l.doc_date AS doc_date,
           p.group_id AS group_id, {revenue} AS revenue,
           MAX(CASE WHEN l.amount > 0 THEN 1 ELSE 0 END) AS has_positive
    FROM {line} l JOIN {product} p ON p.id = l.product_id
    WHERE l.doc_date >= %(year_start)s AND l.doc_date <= %(as_of)s {scope}
    GROUP BY l.client_id, l.doc_number, l.doc_date, p.group_id
) x
{nonorders}
GROUP BY x.client_id, x.group_id
"""
GROUP_SCHEMA: dict[str, Kind] = {
    "client_id": "int",
    "group_id": "int",
    "revenue_12m": "float",
    "orders_12m": "int",
    "positive_docs": "int",
}

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
    ordered = dates.sort_values(["client_id", "doc_date"])
    gaps = ordered.groupby("client_id")["doc_date"].diff().dt.days
    ordered = ordered.assign(gap=gaps)
    counts = ordered.groupby("client_id")["doc_date"].count()
    medians = ordered.dropna(subset=["gap"]).groupby("client_id")["gap"].median()
    eligible = counts[counts >= min_dates].index
    return medians.reindex(eligible).astype("float64")


def line_metrics(
    *, as_of: dt.date, client_ids: Sequence[int] | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(per-client sums, per client × group figures, order dates of the last 730 days)."""
    with client_scope(client_ids) as scope, staged_documents(scope) as documents:
        return staged_line_metrics(documents, as_of=as_of)


def staged_line_metrics(
    documents: Documents, *, as_of: dt.date
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """``line_metrics`` over documents already staged for the run's scope."""
    windows = Windows(as_of)
    params = windows.params()
    docs = documents.docs
    per_client = read_frame(CLIENT_SQL.format(docs=docs), dict(params), CLIENT_SCHEMA)
    scope = documents.scope.clause("l.client_id")
    group_sql = GROUP_SQL.format(
        line=table(ShipmentLine),
        product=table(Product),
        scope=scope,
        is_order=is_order_sql(documents, "x"),
        nonorders=nonorder_join(documents, "x"),
        revenue=scaled_sum("l.amount"),
        revenue_12m=unscaled("SUM(x.revenue)"),
    )
    groups = read_frame(group_sql, dict(params), GROUP_SCHEMA)
    sku_sql = SKU_SQL.format(line=table(ShipmentLine), product=table(Product), scope=scope)
    skus = read_frame(sku_sql, dict(params), SKU_SCHEMA)
    groups = groups.merge(skus, on=["client_id", "group_id"], how="outer")
    groups[["revenue_12m"]] = groups[["revenue_12m"]].fillna(0.0)
    for column in ("orders_12m", "positive_docs", "skus_12m"):
        groups[column] = groups[column].fillna(0).astype("int64")
    dates = read_frame(
        STAGED_ORDER_DATES_SQL.format(docs=docs),
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
