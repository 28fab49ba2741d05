"""Documents staged once per run: each (client, document number, date) with its total.

A document is an order when its total is positive (domain.md "Metrics").
The run groups the lines by document once, into a temporary table, instead
of carrying every document's total through a window in each statement:
per-client sums and order dates read the staged documents, and the
statements that need a product group's orders (the monthly summary, the
12-month group figures) count a group's positive part of a document unless
the document is one of the few *non-orders* (total ≤ 0, i.e. returns),
which a second, small temporary table lists.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection

from crm.models import ShipmentLine
from segmentation.engine.db import Scope, analyze, drop_temp, is_postgres, table, temp_name


@dataclass(frozen=True)
class Documents:
    """Names of the temporary tables: ``docs`` (client_id, doc_number, doc_date,
    total, margin) over every line of the scope, whatever its date, and
    ``nonorders`` (client_id, doc_number, doc_date) of the documents with a
    total ≤ 0."""

    docs: str
    nonorders: str
    scope: Scope


def scaled_sum(expression: str, places: int = 2) -> str:
    """``SUM`` of a decimal expression with ``places`` decimals, exact on both databases.

    PostgreSQL sums whole units of the last place (kopecks) as ``bigint``: the
    per-group state is a small fixed-size integer instead of a growing
    ``numeric`` accumulator, which keeps millions of groups in one hash table
    without spilling to disk. The result is a ``bigint`` in those units; see
    ``unscaled``. SQLite sums the value as it always did.
    """
    if is_postgres():
        return f"CAST(SUM(CAST(({expression}) * {10**places} AS bigint)) AS bigint)"
    return f"SUM({expression})"


def unscaled(expression: str, places: int = 2) -> str:
    """A ``scaled_sum`` (or a sum of them) back in its own unit: exact ``numeric``."""
    if is_postgres():
        return f"CAST({expression} AS numeric) / {10**places}"  # not bigint's integer division
    return expression


def _create_sql(docs: str, scope: Scope) -> str:
    join, where = scope.lines_filter("l.client_id", "l.doc_date")
    return f"""
        CREATE TEMPORARY TABLE {docs} AS
        SELECT l.client_id AS client_id, l.doc_number AS doc_number, l.doc_date AS doc_date,
               {unscaled(scaled_sum("l.amount"))} AS total,
               {unscaled(scaled_sum("CASE WHEN l.cost IS NULL THEN 0 ELSE l.amount - l.cost END"))}
                   AS margin
        FROM {table(ShipmentLine)} l {join}
        WHERE 1 = 1 {where}
        GROUP BY l.client_id, l.doc_number, l.doc_date
    """


@contextmanager
def staged_documents(scope: Scope) -> Iterator[Documents]:
    """Stage the scope's documents for the duration of the block."""
    docs, nonorders = temp_name("docs"), temp_name("nonorders")
    with connection.cursor() as cursor:
        cursor.execute(_create_sql(docs, scope))
        cursor.execute(
            f"CREATE TEMPORARY TABLE {nonorders} AS "
            f"SELECT client_id, doc_number, doc_date FROM {docs} WHERE total <= 0"
        )
    analyze(docs)
    analyze(nonorders)
    yield Documents(docs=docs, nonorders=nonorders, scope=scope)
    drop_temp(docs, nonorders)


def is_order_sql(documents: Documents, alias: str) -> str:
    """SQL true when the document of row ``alias`` is an order (``alias`` joined as below)."""
    return f"{alias}_n.client_id IS NULL"


def nonorder_join(documents: Documents, alias: str) -> str:
    """``LEFT JOIN`` of the non-orders to a grouped row ``alias`` with document columns."""
    return (
        f"LEFT JOIN {documents.nonorders} {alias}_n ON {alias}_n.client_id = {alias}.client_id "
        f"AND {alias}_n.doc_number = {alias}.doc_number AND {alias}_n.doc_date = {alias}.doc_date"
    )
