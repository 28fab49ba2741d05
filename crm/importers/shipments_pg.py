"""Shipments on PostgreSQL: COPY the file into a staging table, validate and write set-wise.

The portable path (writing_shipments) parses every cell in Python, which
costs tens of microseconds per line. Here the rows are streamed once into a
temporary table with COPY, and SQL does the per-line work:

- cells that need Python's rules (dates, INN checksums) are checked once per
  distinct value, which is a few thousand values for a million lines;
- numbers and lengths are checked by SQL with rules stricter than Python's;
  every row SQL doubts is parsed again by the portable row parser, which
  gives the same messages as the portable path (and accepts the rare row
  SQL was only too strict about);
- clients and products are resolved per distinct key, documents compared
  with the database by a per-document line count and hash sum, and the
  lines written with one DELETE and one INSERT … SELECT.

Memory stays bounded: nothing per line is kept in Python.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from crm.duplicates import import_duplicate_warnings
from crm.models import Client, Product, ShipmentLine

from .parsing import CellError, RowError, _RowParser, parse_date, parse_inn
from .reading import RawRow, ReadResult
from .runs import ImportContext, Plan
from .specs import get_spec

# The columns staged, in this order; a column missing from the file stays ''.
COLUMNS = (
    "doc_number",
    "date",
    "client_external_id",
    "inn",
    "client_name",
    "sku",
    "sku_name",
    "product_group",
    "qty",
    "amount",
    "cost",
    "manager_email",
)
_FETCH = 5000


def applies(context: ImportContext, result: ReadResult) -> bool:
    """CSV files on PostgreSQL, unless switched off (the tests run both paths)."""
    enabled = getattr(settings, "IMPORT_FAST_PATH", True)
    return enabled and connection.vendor == "postgresql" and result.format == "csv"


class _Tables:
    """Names of this run's temporary tables; dropped when the run ends."""

    def __init__(self, run_id: int | None) -> None:
        suffix = str(run_id or 0)
        self.stage = f"import_stage_{suffix}"
        self.typed = f"import_typed_{suffix}"
        self.dates = f"import_dates_{suffix}"
        self.inns = f"import_inns_{suffix}"
        self.clients = f"import_clients_{suffix}"
        self.problems = f"import_problems_{suffix}"
        self.products = f"import_products_{suffix}"
        self.docs = f"import_docs_{suffix}"
        self.bad_docs = f"import_bad_docs_{suffix}"

    def all(self) -> list[str]:
        return [v for k, v in vars(self).items() if not k.startswith("_")]

    def drop(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS " + ", ".join(self.all()))


class _CsvFeed(io.TextIOBase):
    """The staged rows as CSV text, produced as COPY reads it."""

    def __init__(self, rows: Iterator[list[str]]) -> None:
        self.rows = rows
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, lineterminator="\n")
        self.pending = ""

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> str:
        want = 1 << 16 if size is None or size < 0 else size
        while len(self.pending) < want:
            batch = list(_take(self.rows, 2000))
            if not batch:
                break
            self.writer.writerows(batch)
            self.pending += self.buffer.getvalue()
            self.buffer.seek(0)
            self.buffer.truncate()
        chunk, self.pending = self.pending[:want], self.pending[want:]
        return chunk


def _take(rows: Iterator[list[str]], count: int) -> Iterator[list[str]]:
    for _ in range(count):
        row = next(rows, None)
        if row is None:
            return
        yield row


def _staged_rows(result: ReadResult) -> Iterator[list[str]]:
    for raw in result.iter_rows():
        values = raw.values
        yield [str(raw.row), *(str(values.get(c, "")).strip() for c in COLUMNS)]


_SPACES = " \u00a0\u202f\u2009\u2007"


def _normalized(column: str) -> str:
    """SQL: a number's text as Python's parser reads it (no spaces, a dot), or NULL if mixed."""
    text = f"replace(translate(replace(s.{column}, '\u2212', '-'), '{_SPACES}', ''), ',', '.')"
    return f"CASE WHEN s.{column} LIKE '%,%' AND s.{column} LIKE '%.%' THEN NULL ELSE {text} END"


def _number_pattern(integer_digits: int, places: int) -> str:
    """Plain numbers only; stricter than the portable parser on purpose (it rules on the rest)."""
    return rf"^[+-]?[0-9]{{1,{integer_digits}}}(\.[0-9]{{1,{places}}})?$"


def prepare_shipments_pg(context: ImportContext, result: ReadResult) -> Plan:
    from .writing_shipments import _resolve_clients, _Scan

    tables = _Tables(context.run_id)
    context.cleanups.append(tables.drop)
    plan = Plan()
    spec = get_spec("shipments")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE {tables.stage} (row_no integer, "
            + ", ".join(f"{c} text" for c in COLUMNS)
            + ")"
        )
        feed = _CsvFeed(_staged_rows(result))
        not_null = ", ".join(COLUMNS)
        cursor.copy_expert(
            f"COPY {tables.stage} FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL ({not_null}))",
            feed,
            1 << 16,
        )
        cursor.execute(f"ANALYZE {tables.stage}")
        cursor.execute(f"SELECT count(*) FROM {tables.stage}")
        plan.rows_read = cursor.fetchone()[0]
        _map_distinct(cursor, tables.stage, "date", tables.dates, "date", _parsed_date)
        _map_distinct(cursor, tables.stage, "inn", tables.inns, "text", _parsed_inn)
        _build_typed(cursor, tables, spec)
    bad_docs = _check_doubtful_rows(tables, result, plan)
    names = _client_names(tables)
    scan = _Scan(names=names)
    resolved, new_clients, problems = _resolve_clients(context, scan)
    _report_problem_rows(tables, result, problems, plan)
    if plan.errors and not context.skip_invalid:
        return plan
    with connection.cursor() as cursor:
        _store_keys(cursor, tables.clients, resolved)
        _store_bad_docs(cursor, tables, bad_docs, problems)
        counts = _compare_documents(cursor, tables, context.skip_invalid)
    plan.created, plan.updated, plan.unchanged = counts
    plan.warnings = import_duplicate_warnings(
        {id(c): c for c in new_clients.values()}.values(), scope=context.scope
    )
    plan.write = lambda: _write(context, tables, new_clients)
    return plan


def _parsed_date(text: str) -> date | None:
    try:
        return parse_date(text) if text else None
    except CellError:
        return None


def _parsed_inn(text: str) -> str | None:
    try:
        return parse_inn(text) if text else None
    except CellError:
        return None


def _map_distinct(
    cursor: Any, stage: str, column: str, table: str, sql_type: str, parse: Any
) -> None:
    """Check each distinct value of a column once, in Python; keep the good ones in ``table``."""
    cursor.execute(f"CREATE TEMP TABLE {table} (raw text PRIMARY KEY, value {sql_type})")
    cursor.execute(f"SELECT DISTINCT {column} FROM {stage} WHERE {column} <> ''")
    good = []
    for (raw,) in cursor.fetchall():
        value = parse(raw)
        if value is not None:
            good.append((raw, value))
    _copy_rows(cursor, table, ("raw", "value"), good)


def _copy_rows(
    cursor: Any, table: str, columns: Iterable[str], rows: list[tuple[Any, ...]]
) -> None:
    if not rows:
        return
    buffer = io.StringIO()
    # Quoted: '' stays an empty string; None is left bare, which COPY reads as NULL.
    writer = csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_NOTNULL)
    writer.writerows(rows)
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", buffer)


def _build_typed(cursor: Any, tables: _Tables, spec: Any) -> None:
    """One row per staged row: typed values, and whether SQL vouches for the whole row.

    Each number is normalised and matched once (the lateral subquery is kept
    apart from the outer query by OFFSET 0, so the planner does not copy its
    expressions into every place that uses them).
    """
    length = {c.name: c.max_length for c in spec.columns if c.max_length}
    lengths = " AND ".join(f"char_length(s.{name}) <= {limit}" for name, limit in length.items())
    qty_re, money_re = _number_pattern(13, 3), _number_pattern(14, 2)
    cursor.execute(
        f"""
        CREATE TEMP TABLE {tables.typed} AS
        SELECT s.row_no, s.doc_number, d.value AS doc_date, s.client_external_id AS code,
               coalesce(i.value, '') AS inn, s.client_name, s.sku, s.sku_name,
               s.product_group AS grp,
               CASE WHEN n.qty_ok THEN n.qty::numeric END AS qty,
               CASE WHEN n.amount_ok THEN n.amount::numeric END AS amount,
               CASE WHEN n.cost_ok AND n.cost <> '' THEN n.cost::numeric END AS cost,
               s.manager_email AS manager,
               (s.doc_number <> '' AND d.value IS NOT NULL
                AND (s.inn = '' OR i.value IS NOT NULL)
                AND (s.client_external_id <> '' OR s.inn <> '')
                AND s.sku <> '' AND s.product_group <> ''
                AND n.qty_ok AND n.amount_ok AND (s.cost = '' OR n.cost_ok)
                AND {lengths}) AS ok
        FROM {tables.stage} s
        CROSS JOIN LATERAL (
            SELECT v.qty, v.amount, v.cost,
                   coalesce(v.qty ~ '{qty_re}', false) AS qty_ok,
                   coalesce(v.amount ~ '{money_re}', false) AS amount_ok,
                   coalesce(v.cost ~ '{money_re}', false) AS cost_ok
            FROM (SELECT {_normalized("qty")} AS qty, {_normalized("amount")} AS amount,
                         {_normalized("cost")} AS cost OFFSET 0) v
            OFFSET 0
        ) n
        LEFT JOIN {tables.dates} d ON d.raw = s.date
        LEFT JOIN {tables.inns} i ON i.raw = s.inn
        """
    )
    cursor.execute(f"CREATE INDEX ON {tables.typed} (row_no)")
    cursor.execute(f"ANALYZE {tables.typed}")


def _check_doubtful_rows(tables: _Tables, result: ReadResult, plan: Plan) -> set[tuple[str, date]]:
    """Parse the rows SQL did not vouch for with the portable parser: its messages, its verdict.

    Returns the documents that have a bad line.
    """
    parser = _RowParser(result, get_spec("shipments"))
    bad_docs: set[tuple[str, date]] = set()
    fixed: list[tuple[Any, ...]] = []
    columns = ", ".join(f"s.{c}" for c in COLUMNS)
    with transaction.atomic(), connection.connection.cursor(name="doubtful") as rows:
        rows.itersize = _FETCH
        rows.execute(
            f"SELECT s.row_no, {columns} FROM {tables.stage} s "
            f"JOIN {tables.typed} t ON t.row_no = s.row_no WHERE NOT t.ok ORDER BY s.row_no"
        )
        for record in rows:
            present = {
                c: v for c, v in zip(COLUMNS, record[1:], strict=True) if c in result.columns
            }
            parsed, errors = parser.parse(RawRow(record[0], present))
            if parsed is None:
                plan.errors.extend(errors)
                partial = parser.partial
                if partial.get("doc_number") and partial.get("date"):
                    bad_docs.add((partial["doc_number"], partial["date"]))
                continue
            v = parsed.values
            fixed.append(
                (record[0], v["date"], v.get("inn") or "", v["qty"], v["amount"], v.get("cost"))
            )
    if fixed:
        with connection.cursor() as cursor:
            cursor.executemany(
                f"UPDATE {tables.typed} SET doc_date = %s, inn = %s, qty = %s, amount = %s, "
                f"cost = %s, ok = true WHERE row_no = %s",
                [(*f[1:], f[0]) for f in fixed],
            )
    return bad_docs


def _client_names(tables: _Tables) -> dict[tuple[str, str], str]:
    """Each client key of the good rows with the first name the file gives it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT f.code, f.inn, coalesce(t.client_name, '') FROM ("
            f"  SELECT code, inn, min(row_no) FILTER (WHERE client_name <> '') AS named"
            f"  FROM {tables.typed} WHERE ok GROUP BY code, inn"
            f") f LEFT JOIN {tables.typed} t ON t.row_no = f.named"
        )
        return {(code, inn): name for code, inn, name in cursor.fetchall()}


def _report_problem_rows(
    tables: _Tables, result: ReadResult, problems: dict[tuple[str, str], Any], plan: Plan
) -> None:
    """An error on every row of a client that cannot be used, as the portable path reports."""
    if not problems:
        return
    keys = list(problems)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE {tables.problems} (code text, inn text, idx integer)")
        _copy_rows(
            cursor, tables.problems, ("code", "inn", "idx"), [(*k, i) for i, k in enumerate(keys)]
        )
    with transaction.atomic(), connection.connection.cursor(name="problem_rows") as rows:
        rows.itersize = _FETCH
        rows.execute(
            f"SELECT t.row_no, p.idx FROM {tables.typed} t JOIN {tables.problems} p "
            f"ON p.code = t.code AND p.inn = t.inn WHERE t.ok ORDER BY t.row_no"
        )
        for row_no, idx in rows:
            code, inn = keys[idx]
            column = "client_external_id" if code else "inn"
            header = result.columns.get(column, column)
            plan.errors.append(RowError(row_no, column, code or inn, problems[keys[idx]], header))


def _store_keys(cursor: Any, table: str, resolved: dict[tuple[str, str], int]) -> None:
    cursor.execute(f"CREATE TEMP TABLE {table} (code text, inn text, client_id bigint)")
    _copy_rows(cursor, table, ("code", "inn", "client_id"), [(*k, v) for k, v in resolved.items()])
    cursor.execute(f"CREATE INDEX ON {table} (code, inn)")
    cursor.execute(f"ANALYZE {table}")


def _store_bad_docs(
    cursor: Any, tables: _Tables, bad_docs: set[tuple[str, date]], problems: dict[Any, Any]
) -> None:
    """Documents left out when the user imports only the valid rows."""
    cursor.execute(f"CREATE TEMP TABLE {tables.bad_docs} (doc_number text, doc_date date)")
    _copy_rows(cursor, tables.bad_docs, ("doc_number", "doc_date"), list(bad_docs))
    if problems:
        cursor.execute(
            f"INSERT INTO {tables.bad_docs} SELECT DISTINCT t.doc_number, t.doc_date "
            f"FROM {tables.typed} t JOIN {tables.problems} p ON p.code = t.code AND p.inn = t.inn "
            f"WHERE t.ok"
        )


_LINE_HASH = (
    "hashtextextended(concat_ws('|', {client}, {sku}, trim_scale({qty}), trim_scale({amount}), "
    "coalesce(trim_scale({cost})::text, '-'), {manager}), 0)::numeric"
)


def _compare_documents(cursor: Any, tables: _Tables, skip_invalid: bool) -> tuple[int, int, int]:
    """Which documents of the file to write: new ones, and stored ones whose lines differ.

    A document is compared by its line count and the sum of its lines' hashes
    (client, SKU, quantity, amount, cost, manager), so the order of lines in
    the file does not matter. Returns created, updated and unchanged counts.
    """
    file_hash = _LINE_HASH.format(
        client="coalesce(c.client_id, -1)",
        sku="t.sku",
        qty="t.qty",
        amount="t.amount",
        cost="t.cost",
        manager="t.manager",
    )
    stored_hash = _LINE_HASH.format(
        client="l.client_id",
        sku="p.sku",
        qty="l.qty",
        amount="l.amount",
        cost="l.cost",
        manager="l.manager_email",
    )
    line = ShipmentLine._meta.db_table
    product = Product._meta.db_table
    cursor.execute(
        f"""
        CREATE TEMP TABLE {tables.docs} AS
        SELECT t.doc_number, t.doc_date, count(*) AS lines, sum({file_hash}) AS hash,
               false AS stored, false AS same
        FROM {tables.typed} t LEFT JOIN {tables.clients} c ON c.code = t.code AND c.inn = t.inn
        WHERE t.ok
        GROUP BY t.doc_number, t.doc_date
        """
    )
    if skip_invalid:
        cursor.execute(
            f"DELETE FROM {tables.docs} d USING {tables.bad_docs} b "
            f"WHERE d.doc_number = b.doc_number AND d.doc_date = b.doc_date"
        )
    cursor.execute(f"CREATE INDEX ON {tables.docs} (doc_number, doc_date)")
    cursor.execute(f"ANALYZE {tables.docs}")
    cursor.execute(
        f"""
        UPDATE {tables.docs} d SET stored = true, same = (d.lines = s.lines AND d.hash = s.hash)
        FROM (
            SELECT l.doc_number, l.doc_date, count(*) AS lines, sum({stored_hash}) AS hash
            FROM {line} l JOIN {product} p ON p.id = l.product_id
            JOIN {tables.docs} f ON f.doc_number = l.doc_number AND f.doc_date = l.doc_date
            GROUP BY l.doc_number, l.doc_date
        ) s
        WHERE s.doc_number = d.doc_number AND s.doc_date = d.doc_date
        """
    )
    cursor.execute(
        f"SELECT count(*) FILTER (WHERE NOT stored), count(*) FILTER (WHERE stored AND NOT same), "
        f"count(*) FILTER (WHERE same) FROM {tables.docs}"
    )
    created, updated, unchanged = cursor.fetchone()
    return created, updated, unchanged


def _write(
    context: ImportContext, tables: _Tables, new_clients: dict[tuple[str, str], Client]
) -> None:
    from .writing_shipments import _create_clients, _save_products, _Scan

    with connection.cursor() as cursor:
        created = _create_clients(context, new_clients)
        _copy_rows(
            cursor,
            tables.clients,
            ("code", "inn", "client_id"),
            [(*k, v) for k, v in created.items()],
        )
        # Products of the documents written: the last line of a SKU names and groups it.
        cursor.execute(
            f"SELECT t.sku, t.sku_name, t.grp FROM {tables.typed} t JOIN ("
            f"  SELECT t.sku, max(t.row_no) AS last FROM {tables.typed} t"
            f"  JOIN {tables.docs} d ON d.doc_number = t.doc_number AND d.doc_date = t.doc_date"
            f"  WHERE t.ok AND NOT d.same GROUP BY t.sku"
            f") m ON t.row_no = m.last"
        )
        scan = _Scan(products={sku: (name, group) for sku, name, group in cursor.fetchall()})
        products = _save_products(scan)
        cursor.execute(
            f"CREATE TEMP TABLE {tables.products} (sku text PRIMARY KEY, product_id bigint)"
        )
        _copy_rows(cursor, tables.products, ("sku", "product_id"), list(products.items()))
        cursor.execute(f"ANALYZE {tables.products}")
        cursor.execute(f"ANALYZE {tables.clients}")
        line = ShipmentLine._meta.db_table
        # Whose metrics change: the clients of the lines replaced and of the lines written.
        cursor.execute(
            f"SELECT DISTINCT l.client_id FROM {line} l JOIN {tables.docs} d "
            f"ON l.doc_number = d.doc_number AND l.doc_date = d.doc_date "
            f"WHERE d.stored AND NOT d.same"
        )
        context.touched.update(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"SELECT DISTINCT c.client_id FROM {tables.typed} t "
            f"JOIN {tables.docs} d ON d.doc_number = t.doc_number AND d.doc_date = t.doc_date "
            f"JOIN {tables.clients} c ON c.code = t.code AND c.inn = t.inn "
            f"WHERE t.ok AND NOT d.same"
        )
        context.touched.update(row[0] for row in cursor.fetchall())
        cursor.execute(
            f"DELETE FROM {line} l USING {tables.docs} d WHERE d.stored AND NOT d.same "
            f"AND l.doc_number = d.doc_number AND l.doc_date = d.doc_date"
        )
        cursor.execute(
            f"""
            INSERT INTO {line} (doc_number, doc_date, client_id, product_id, qty, amount, cost,
                                manager_email, import_run_id)
            SELECT t.doc_number, t.doc_date, c.client_id, p.product_id, t.qty, t.amount, t.cost,
                   t.manager, %s
            FROM {tables.typed} t
            JOIN {tables.docs} d ON d.doc_number = t.doc_number AND d.doc_date = t.doc_date
            JOIN {tables.clients} c ON c.code = t.code AND c.inn = t.inn
            JOIN {tables.products} p ON p.sku = t.sku
            WHERE t.ok AND NOT d.same
            """,
            [context.run_id],
        )
