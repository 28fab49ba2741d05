"""Rebuilding ``MonthlySummary`` from shipment lines with one INSERT … SELECT.

The inner query groups lines by document and product group and carries the
document's total through a window over the grouped rows, so one scan of the
lines knows both a group's part of a document and whether the document as a
whole is an order (total > 0) or a return (total ≤ 0).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection

from crm.models import Product, ShipmentLine
from segmentation.engine.db import chunks, in_clause, month_start_sql, table
from segmentation.models import MonthlySummary


def _insert_sql(scope: str) -> str:
    summary, line, product = table(MonthlySummary), table(ShipmentLine), table(Product)
    month = month_start_sql("x.doc_date")
    return f"""
        INSERT INTO {summary} (client_id, month, product_group_id, revenue, lines, qty, orders)
        SELECT x.client_id, {month}, x.group_id, SUM(x.revenue), SUM(x.lines), SUM(x.qty),
               SUM(CASE WHEN x.has_positive = 1 AND x.doc_total > 0 THEN 1 ELSE 0 END)
        FROM (
            SELECT l.client_id AS client_id, l.doc_date AS doc_date, p.group_id AS group_id,
                   SUM(l.amount) AS revenue, COUNT(*) AS lines, SUM(l.qty) AS qty,
                   MAX(CASE WHEN l.amount > 0 THEN 1 ELSE 0 END) AS has_positive,
                   SUM(SUM(l.amount)) OVER (
                       PARTITION BY l.client_id, l.doc_number, l.doc_date
                   ) AS doc_total
            FROM {line} l JOIN {product} p ON p.id = l.product_id
            WHERE 1 = 1 {scope}
            GROUP BY l.client_id, l.doc_number, l.doc_date, p.group_id
        ) x
        GROUP BY x.client_id, {month}, x.group_id
    """


def monthly_summary_rebuild(*, client_ids: Sequence[int] | None = None) -> int:
    """Replace the summary rows of the given clients (all clients when None).

    Returns the number of rows written. Runs inside the caller's transaction.
    """
    summary = table(MonthlySummary)
    written = 0
    with connection.cursor() as cursor:
        if client_ids is None:
            cursor.execute(f"DELETE FROM {summary}")
            cursor.execute(_insert_sql(""), {})
            return max(cursor.rowcount, 0)
        for chunk in chunks(sorted(set(client_ids))):
            params: dict[str, int] = {}
            scope = in_clause("client_id", chunk, params)
            cursor.execute(f"DELETE FROM {summary} WHERE 1 = 1 {scope}", params)
            params = {}
            cursor.execute(_insert_sql(in_clause("l.client_id", chunk, params)), params)
            written += max(cursor.rowcount, 0)
    return written
