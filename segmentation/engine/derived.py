"""Tables derived from shipment lines, kept current for the clients whose lines changed.

The engine reads three caches of the lines instead of the lines themselves:
the client × month × product group summary (``MonthlySummary``), each
client's documents with their totals (``ClientDocument``) and each client's
products with the day last bought (``ClientProduct``). A nightly run over
ten million lines then reads a few million narrow rows.

Database triggers mark a client's month stale whenever one of its lines
of that month is inserted, changed or deleted, or a product it bought moves
to another group (``StaleMonth``). Every run starts with ``refresh_stale``:
it takes the marks and rebuilds those months' summary rows and documents
(and those clients' products) from the lines, inside the run's
transaction: an import costs a rebuild of the months it touched, not of
each client's whole history. Taking a mark deletes it, so a line written while the rebuild
reads marks its client again for the next run; a rolled-back run puts its
marks back with the rest of its work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper

from crm.models import Client, Product, ShipmentLine
from segmentation.engine.db import (
    Scope,
    analyze,
    chunks,
    client_scope,
    drop_temp,
    is_postgres,
    table,
    temp_name,
)
from segmentation.engine.documents import Documents, staged_documents
from segmentation.engine.summary import rebuild_staged, replace_rows
from segmentation.models import ClientDocument, ClientProduct, StaleMonth

DOCUMENT_COLUMNS = ("client_id", "doc_number", "doc_date", "total_kopecks", "margin_kopecks")
DOCUMENT_KEY = ("client_id", "doc_number", "doc_date")
PRODUCT_COLUMNS = ("client_id", "product_id", "last_bought_on")
PRODUCT_KEY = ("client_id", "product_id")


def _kopecks(expression: str) -> str:
    """An exact amount in roubles (two decimals) as whole kopecks."""
    if is_postgres():
        return f"CAST(({expression}) * 100 AS bigint)"
    return f"CAST(ROUND(({expression}) * 100) AS INTEGER)"


def _refresh_documents(documents: Documents) -> None:
    select_sql = (
        f"SELECT client_id, doc_number, doc_date, {_kopecks('total')} AS total_kopecks, "
        f"{_kopecks('margin')} AS margin_kopecks FROM {documents.docs}"
    )
    replace_rows(
        table(ClientDocument),
        select_sql,
        DOCUMENT_COLUMNS,
        DOCUMENT_KEY,
        documents.scope,
        day="doc_date",
    )


def _refresh_products(scope: Scope) -> None:
    select_sql = (
        f"SELECT l.client_id AS client_id, l.product_id AS product_id, "
        f"MAX(l.doc_date) AS last_bought_on FROM {table(ShipmentLine)} l "
        f"WHERE l.amount > 0 {scope.clause('l.client_id')} "
        f"GROUP BY l.client_id, l.product_id"
    )
    replace_rows(table(ClientProduct), select_sql, PRODUCT_COLUMNS, PRODUCT_KEY, scope)


def refresh(scope: Scope) -> None:
    """Rebuild the derived rows of the scope (its clients, or its months) from the lines.

    The summary and the documents are rebuilt for the scope's months; the
    products, whose day last bought may lie in any month, for its clients.
    """
    with staged_documents(scope) as documents:
        rebuild_staged(documents)
        _refresh_documents(documents)
    _refresh_products(scope)


Mark = tuple[int, dt.date]


def _take_marks() -> list[Mark]:
    stale = table(StaleMonth)
    with connection.cursor() as cursor:
        if is_postgres():
            cursor.execute(f"DELETE FROM {stale} RETURNING client_id, month")
            return sorted((int(c), _as_date(m)) for c, m in cursor.fetchall())
        # Elsewhere: read, then delete exactly the marks read; a mark written
        # in between stays for the next run.
        cursor.execute(f"SELECT client_id, month FROM {stale}")
        marks = sorted((int(c), _as_date(m)) for c, m in cursor.fetchall())
        cursor.executemany(
            f"DELETE FROM {stale} WHERE client_id = %s AND month = %s",
            [(client, month.isoformat()) for client, month in marks],
        )
        return marks


def _as_date(value: dt.date | str) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def _next_month(month: dt.date) -> dt.date:
    return (month.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


@contextmanager
def _month_scope(marks: list[Mark]) -> Iterator[Scope]:
    """A scope of the marked clients, narrowed to their marked months."""
    name = temp_name("months")
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMPORARY TABLE {name} "
            f"(client_id bigint, month date, next_month date, PRIMARY KEY (client_id, month))"
        )
        for chunk in chunks(marks):
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params = [v for c, m in chunk for v in (c, m.isoformat(), _next_month(m).isoformat())]
            cursor.execute(
                f"INSERT INTO {name} (client_id, month, next_month) VALUES {values}", params
            )
    analyze(name)
    with client_scope(sorted({client for client, _ in marks})) as clients:
        yield Scope(table=clients.table, months=name)
    drop_temp(name)


def refresh_stale() -> int:
    """Rebuild the derived rows of every month marked stale; returns how many clients.

    Runs in the caller's transaction. Without triggers (a database other than
    PostgreSQL or SQLite) every client is rebuilt every time.
    """
    if not triggers_supported():
        mark_all_stale()
    marks = _take_marks()
    clients = len({client for client, _ in marks})
    if not marks:
        return 0
    if 2 * clients >= Client.objects.count():
        # Half the base or more (a first build, a bulk load): reading every
        # line is cheaper than joining a list of months, and unchanged rows stay.
        refresh(Scope())
    else:
        with _month_scope(marks) as scope:
            refresh(scope)
    return clients


def _month_sql(column: str, db: BaseDatabaseWrapper) -> str:
    if db.vendor == "postgresql":
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def _mark_from_lines(condition: str, params: list[Any], db: BaseDatabaseWrapper) -> None:
    stale = db.ops.quote_name(StaleMonth._meta.db_table)
    lines = db.ops.quote_name(ShipmentLine._meta.db_table)
    postgres = db.vendor == "postgresql"
    insert = "INSERT INTO" if postgres else "INSERT OR IGNORE INTO"
    conflict = " ON CONFLICT DO NOTHING" if postgres else ""
    with db.cursor() as cursor:
        cursor.execute(
            f"{insert} {stale} (client_id, month) "
            f"SELECT DISTINCT client_id, {_month_sql('doc_date', db)} FROM {lines} "
            f"WHERE {condition}{conflict}",
            params,
        )


def mark_all_stale(using: BaseDatabaseWrapper | None = None) -> None:
    """Mark every month of every line: the next run rebuilds all derived rows."""
    _mark_from_lines("1 = 1", [], using or connection)


# ---------------------------------------------------------------------------
# Triggers
# ---------------------------------------------------------------------------


def triggers_supported(using: BaseDatabaseWrapper | None = None) -> bool:
    return (using or connection).vendor in {"postgresql", "sqlite"}


def _postgres_triggers(stale: str, lines: str, products: str) -> list[str]:
    mark = (
        f"INSERT INTO {stale} (client_id, month) "
        f"SELECT DISTINCT client_id, CAST(date_trunc('month', doc_date) AS date) FROM {{rows}} "
        f"ON CONFLICT DO NOTHING;"
    )
    statements = [
        f"""
        CREATE OR REPLACE FUNCTION segmentation_lines_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'DELETE' THEN {mark.format(rows="changed_new")} END IF;
            IF TG_OP <> 'INSERT' THEN {mark.format(rows="changed_old")} END IF;
            RETURN NULL;
        END $$
        """,
        f"""
        CREATE OR REPLACE FUNCTION segmentation_products_regrouped() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO {stale} (client_id, month)
            SELECT DISTINCT l.client_id, CAST(date_trunc('month', l.doc_date) AS date)
            FROM {lines} l
            JOIN changed_new n ON n.id = l.product_id
            JOIN changed_old o ON o.id = n.id
            WHERE o.group_id IS DISTINCT FROM n.group_id
            ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$
        """,
    ]
    # A trigger with transition tables takes one event each.
    events = {
        "insert": ("INSERT", "NEW TABLE AS changed_new"),
        "update": ("UPDATE", "OLD TABLE AS changed_old NEW TABLE AS changed_new"),
        "delete": ("DELETE", "OLD TABLE AS changed_old"),
    }
    for name, (event, referencing) in events.items():
        trigger = f"segmentation_lines_{name}"
        statements += [
            f"DROP TRIGGER IF EXISTS {trigger} ON {lines}",
            f"CREATE TRIGGER {trigger} AFTER {event} ON {lines} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION segmentation_lines_changed()",
        ]
    statements += [
        f"DROP TRIGGER IF EXISTS segmentation_products_regrouped ON {products}",
        f"CREATE TRIGGER segmentation_products_regrouped AFTER UPDATE ON {products} "
        f"REFERENCING OLD TABLE AS changed_old NEW TABLE AS changed_new "
        f"FOR EACH STATEMENT EXECUTE FUNCTION segmentation_products_regrouped()",
    ]
    return statements


def _sqlite_triggers(stale: str, lines: str, products: str) -> list[str]:
    def mark(row: str) -> str:
        return (
            f"INSERT OR IGNORE INTO {stale} (client_id, month) "
            f"VALUES ({row}.client_id, date({row}.doc_date, 'start of month'));"
        )

    triggers = {
        "segmentation_lines_insert": f"AFTER INSERT ON {lines} BEGIN {mark('NEW')} END",
        "segmentation_lines_update": (
            f"AFTER UPDATE ON {lines} BEGIN {mark('OLD')} {mark('NEW')} END"
        ),
        "segmentation_lines_delete": f"AFTER DELETE ON {lines} BEGIN {mark('OLD')} END",
        "segmentation_products_regrouped": (
            f"AFTER UPDATE OF group_id ON {products} WHEN OLD.group_id IS NOT NEW.group_id "
            f"BEGIN INSERT OR IGNORE INTO {stale} (client_id, month) "
            f"SELECT DISTINCT client_id, date(doc_date, 'start of month') FROM {lines} "
            f"WHERE product_id = NEW.id; END"
        ),
    }
    statements = []
    for name, body in triggers.items():
        statements += [f"DROP TRIGGER IF EXISTS {name}", f"CREATE TRIGGER {name} {body}"]
    return statements


def install_triggers(using: BaseDatabaseWrapper | None = None) -> None:
    """Create (or re-create) the triggers that mark clients stale; idempotent.

    Called by the migration that made the tables and after every ``migrate``:
    SQLite rebuilds a table to alter it, and the rebuilt table has no triggers.
    """
    db = using or connection
    if not triggers_supported(db):
        return
    quote = db.ops.quote_name
    names = (
        quote(StaleMonth._meta.db_table),
        quote(ShipmentLine._meta.db_table),
        quote(Product._meta.db_table),
    )
    statements = (
        _postgres_triggers(*names) if db.vendor == "postgresql" else _sqlite_triggers(*names)
    )
    with db.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def drop_triggers(using: BaseDatabaseWrapper | None = None) -> None:
    """Remove the triggers (when the migration that made their table is reversed)."""
    db = using or connection
    if not triggers_supported(db):
        return
    lines = db.ops.quote_name(ShipmentLine._meta.db_table)
    products = db.ops.quote_name(Product._meta.db_table)
    postgres = db.vendor == "postgresql"
    with db.cursor() as cursor:
        for name in ("insert", "update", "delete"):
            on = f" ON {lines}" if postgres else ""
            cursor.execute(f"DROP TRIGGER IF EXISTS segmentation_lines_{name}{on}")
        on = f" ON {products}" if postgres else ""
        cursor.execute(f"DROP TRIGGER IF EXISTS segmentation_products_regrouped{on}")
        if postgres:
            cursor.execute("DROP FUNCTION IF EXISTS segmentation_lines_changed()")
            cursor.execute("DROP FUNCTION IF EXISTS segmentation_products_regrouped()")
