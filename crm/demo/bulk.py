"""Writing many rows fast: COPY on PostgreSQL, bulk_create elsewhere.

On PostgreSQL the shipment lines go in with COPY from a CSV buffer that numpy
formats itself; on SQLite (small demos only) they go in with ``bulk_create``.
Rows with history get one "+" history row each, attributed to the demo
administrator.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, models, reset_queries
from simple_history.utils import bulk_create_with_history

from accounts.models import User
from crm.demo.options import CHANGE_REASON, ROWS_PER_BATCH, ByteMatrix, IntArray


def _is_postgres() -> bool:
    return "postgresql" in connection.settings_dict["ENGINE"]


# ---------------------------------------------------------------------------
# Fixed-width ASCII formatting of numbers for COPY
# ---------------------------------------------------------------------------
# Shipment lines are formatted as a byte matrix, one row per line, where
# unused leading digit positions hold NUL bytes; removing the NULs from the
# whole buffer at the end gives ordinary CSV. This is ~20x faster than
# formatting 10 M rows with Python strings.


def _ascii_int(values: npt.NDArray[np.integer[Any]], min_digits: int = 1) -> ByteMatrix:
    """Right-aligned digits of non-negative integers; unused leading places are NUL.

    The matrix is as wide as the largest value needs, and filled a column
    at a time with one vectorised divmod each.
    """
    largest = int(values.max()) if len(values) else 0
    width = max(min_digits, len(str(largest)))
    out = np.empty((len(values), width), dtype=np.uint8)
    rest = values.copy()
    for place in range(width):  # place 0 is the units
        rest, digit = np.divmod(rest, 10)
        column = digit.astype(np.uint8) + 48
        if place >= min_digits:
            column[values < 10**place] = 0
        out[:, width - 1 - place] = column
    return out


def _ascii_decimal(scaled: IntArray, decimals: int) -> ByteMatrix:
    """A signed decimal given as an integer count of its smallest unit."""
    factor = 10**decimals
    magnitude = np.abs(scaled)
    sign = np.where(scaled < 0, ord("-"), 0).astype(np.uint8)[:, None]
    dot = np.full((len(scaled), 1), ord("."), dtype=np.uint8)
    return np.hstack(
        [
            sign,
            _ascii_int(magnitude // factor),
            dot,
            _ascii_int(magnitude % factor, decimals),
        ]
    )


def _compact(matrix: ByteMatrix) -> bytes:
    """The matrix's bytes without the NUL padding: plain CSV text."""
    flat = matrix.ravel()
    return flat[flat != 0].tobytes()


def _byte_table(texts: Sequence[str]) -> ByteMatrix:
    """UTF-8 texts as NUL-padded rows of a matrix, for fancy indexing."""
    encoded = [t.encode() for t in texts]
    width = max((len(e) for e in encoded), default=1) or 1
    table = np.zeros((len(encoded), width), dtype=np.uint8)
    for row, data in enumerate(encoded):
        table[row, : len(data)] = np.frombuffer(data, dtype=np.uint8)
    return table


def _column(byte: str, rows: int) -> ByteMatrix:
    return np.full((rows, 1), ord(byte), dtype=np.uint8)


# ---------------------------------------------------------------------------
# Writing rows: COPY on PostgreSQL, bulk_create elsewhere
# ---------------------------------------------------------------------------


def _copy_sql(table: str, columns: Sequence[str]) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(c) for c in columns)
    return f"COPY {quote(table)} ({names}) FROM STDIN WITH (FORMAT csv)"


def _raw_copy(raw: Any, sql: str, data: bytes) -> None:
    """COPY bytes through a driver cursor: psycopg2 or psycopg 3."""
    if hasattr(raw, "copy_expert"):
        raw.copy_expert(sql, io.BytesIO(data))
    else:
        with raw.copy(sql) as copy:
            copy.write(data)


def _copy(table: str, columns: Sequence[str], data: bytes) -> None:
    """COPY CSV bytes into a table through the connection's raw cursor."""
    with connection.cursor() as cursor:
        _raw_copy(cursor.cursor, _copy_sql(table, columns), data)


class _CopyWriter:
    """COPY chunks in a background thread while the caller builds the next one.

    The thread uses the raw driver cursor of this thread's connection (so the
    rows join the same transaction), and never at the same time as the
    caller: ``write`` waits for the previous chunk first. At most two chunks
    exist at once, which keeps memory bounded. The driver releases the GIL
    while PostgreSQL works, so numpy generation and the server overlap.
    """

    def __init__(self, table: str, columns: Sequence[str]) -> None:
        self.sql = _copy_sql(table, columns)
        self.pending: Future[None] | None = None

    def __enter__(self) -> _CopyWriter:
        self.cursor = connection.cursor()
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="seed-demo-copy")
        return self

    def write(self, data: bytes) -> None:
        self.wait()
        self.pending = self.pool.submit(_raw_copy, self.cursor.cursor, self.sql, data)

    def wait(self) -> None:
        if self.pending is not None:
            pending, self.pending = self.pending, None
            pending.result()  # re-raises the COPY's error here

    def __exit__(self, *exc_info: object) -> None:
        try:
            if exc_info[0] is None:
                self.wait()
            elif self.pending is not None:
                self.pending.exception()  # let it finish; the first error wins
        finally:
            self.pool.shutdown(wait=True)
            self.cursor.close()


@contextmanager
def _bulk_load(model: type[models.Model]) -> Iterator[None]:
    """On PostgreSQL, fill ``model``'s table without its secondary indexes and
    foreign keys, then rebuild each in one pass.

    Django creates foreign keys DEFERRABLE INITIALLY DEFERRED, so every row
    COPY writes would queue a check that runs at COMMIT: gigabytes of queue
    and minutes of checks for 10 M lines. Re-adding a constraint validates
    all rows with one join instead. DDL is transactional: if anything fails,
    the schema is rolled back with the data. The table must be empty.
    """
    table = model._meta.db_table
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        # Run the checks already queued now: ALTER TABLE refuses pending ones.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f' ORDER BY conname",
            [quote(table)],
        )
        foreign_keys = cursor.fetchall()
        cursor.execute(
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS ("
            "  SELECT 1 FROM pg_constraint k"
            "  WHERE k.conrelid = i.indrelid AND k.conindid = i.indexrelid"
            ") ORDER BY c.relname",
            [quote(table)],
        )
        indexes = cursor.fetchall()
        for name, _ in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} DROP CONSTRAINT {quote(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {quote(name)}")
    yield
    with connection.cursor() as cursor:
        for _, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(name)} {definition}")
        cursor.execute(f"ANALYZE {quote(table)}")


def _column_name(model: type[models.Model], name: str) -> str:
    """The database column of a field given by name or attname (``client_id``)."""
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return str(field.column)


def _insert_rows(
    model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Write plain rows (no history) of ``model``: COPY on PostgreSQL, else bulk_create."""
    count = 0
    postgres = _is_postgres()
    db_columns = [_column_name(model, c) for c in columns]
    for batch in _batched(rows, 50_000 if postgres else ROWS_PER_BATCH):
        if postgres:
            buffer = io.StringIO()
            # QUOTE_NOTNULL: "" stays an empty string, None becomes NULL.
            csv.writer(buffer, quoting=csv.QUOTE_NOTNULL, lineterminator="\n").writerows(batch)
            _copy(model._meta.db_table, db_columns, buffer.getvalue().encode())
        else:
            model._default_manager.bulk_create(
                [model(**dict(zip(columns, row, strict=True))) for row in batch],
                batch_size=1000,
            )
        count += len(batch)
        reset_queries()
    return count


def _create_with_history(
    model: type[models.Model], objects: Iterable[Any], admin: User
) -> list[Any]:
    """bulk_create with one "+" history row per object, dated as the object's
    ``_history_date`` and attributed to the demo administrator."""
    created: list[Any] = []
    for batch in _batched(objects, ROWS_PER_BATCH):
        created.extend(
            bulk_create_with_history(
                batch,
                model,
                batch_size=1000,
                default_user=admin,
                default_change_reason=CHANGE_REASON,
            )
        )
        reset_queries()  # DEBUG keeps every statement; these are large
    return created


def _batched(rows: Iterable[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
