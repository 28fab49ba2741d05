"""Rebuilding ``MonthlySummary`` from shipment lines, set-wise.

The inner query groups the lines by document and product group (one hash
aggregate, no sort); the outer one adds the groups up per month. A group's
part of a document counts as an order when it has a positive line and the
document is not one of the staged non-orders (total ≤ 0): no window over
every document is needed.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from crm.models import Product, ShipmentLine
from segmentation.engine.db import (
    Scope,
    analyze,
    client_scope,
    drop_temp,
    month_start_sql,
    table,
    temp_name,
)
from segmentation.engine.documents import (
    Documents,
    is_order_sql,
    nonorder_join,
    scaled_sum,
    staged_documents,
    unscaled,
)
from segmentation.models import MonthlySummary

COLUMNS = ("client_id", "month", "product_group_id", "revenue", "lines", "qty", "orders")
KEY = ("client_id", "month", "product_group_id")


def _select_sql(documents: Documents) -> str:
    line, product = table(ShipmentLine), table(Product)
    month = month_start_sql("x.doc_date")
    join, where = documents.scope.lines_filter("l.client_id", "l.doc_date")
    return f"""
        SELECT x.client_id AS client_id, {month} AS month, x.group_id AS product_group_id,
               {unscaled("SUM(x.revenue)")} AS revenue, SUM(x.lines) AS lines,
               {unscaled("SUM(x.qty)", 3)} AS qty,
               SUM(CASE WHEN x.has_positive = 1 AND {is_order_sql(documents, "x")}
                        THEN 1 ELSE 0 END) AS orders
        FROM (
            SELECT l.client_id AS client_id, l.doc_number AS doc_number,
                   l.doc_date AS doc_date, p.group_id AS group_id,
                   {scaled_sum("l.amount")} AS revenue, COUNT(*) AS lines,
                   {scaled_sum("l.qty", 3)} AS qty,
                   MAX(CASE WHEN l.amount > 0 THEN 1 ELSE 0 END) AS has_positive
            FROM {line} l JOIN {product} p ON p.id = l.product_id {join}
            WHERE 1 = 1 {where}
            GROUP BY l.client_id, l.doc_number, l.doc_date, p.group_id
        ) x
        {nonorder_join(documents, "x")}
        GROUP BY x.client_id, {month}, x.group_id
    """


def _same(left: str, right: str, columns: tuple[str, ...]) -> str:
    return " AND ".join(f"{left}.{c} = {right}.{c}" for c in columns)


def replace_rows(
    target: str,
    select_sql: str,
    columns: tuple[str, ...],
    key: tuple[str, ...],
    scope: Scope,
    day: str | None = None,
) -> int:
    """Make ``target``'s rows of the scope those ``select_sql`` gives; returns their number.

    ``day`` names the target's date column when the scope is narrowed to
    months; without it the scope is the clients'.

    The fresh rows go to a temporary table first; then only the rows that
    changed are deleted and only the missing ones inserted. From one night
    to the next almost every row is unchanged, and an incremental run's
    clients mostly gained a month or a document: rewriting every row would
    cost an index entry per row and key.
    """
    fresh = temp_name("fresh")
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {fresh} AS {select_sql}")
        analyze(fresh)
        cursor.execute(
            f"{scope.delete_sql(target, day)} "
            f"AND NOT EXISTS (SELECT 1 FROM {fresh} n WHERE {_same('n', target, columns)})"
        )
        cursor.execute(
            f"INSERT INTO {target} ({names}) SELECT {names} FROM {fresh} n "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} s WHERE {_same('s', 'n', key)}) "
            f"ORDER BY {', '.join(key)}"
        )
        cursor.execute(f"SELECT COUNT(*) FROM {fresh}")
        rows = int(cursor.fetchone()[0])
    drop_temp(fresh)
    return rows


def rebuild_staged(documents: Documents) -> int:
    """Make the summary rows of the staged scope what the lines say; returns their number."""
    return replace_rows(
        table(MonthlySummary), _select_sql(documents), COLUMNS, KEY, documents.scope, day="month"
    )


def monthly_summary_rebuild(*, client_ids: Sequence[int] | None = None) -> int:
    """Replace the summary rows of the given clients (all clients when None).

    Returns the number of rows written. Runs inside the caller's transaction.
    """
    if client_ids is not None and not client_ids:
        return 0
    with client_scope(client_ids) as scope, staged_documents(scope) as documents:
        return rebuild_staged(documents)
