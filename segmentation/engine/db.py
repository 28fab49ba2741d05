"""Moving result sets between the database and pandas, on PostgreSQL and SQLite.

PostgreSQL gets COPY in both directions: architecture.md measured COPY … TO
STDOUT into ``read_csv`` at a quarter of ``fetchall``'s memory (numerics
arrive as text, not Python Decimals), and COPY FROM STDIN writes snapshot
rows without an INSERT per batch. Every other database (and PostgreSQL
when ``use_copy=False``, which the tests exercise) takes the portable path.
"""

from __future__ import annotations

import io
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

import pandas as pd
from django.db import connection, models

Kind = Literal["int", "float", "date", "str", "bool"]
Params = dict[str, Any]

# Tests switch COPY off to run the portable path on PostgreSQL as well.
USE_COPY = True
IN_CHUNK = 500  # ids per ``IN (…)``: well under SQLite's limit on parameters
_NULL = "\\N"


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def table(model: type[models.Model]) -> str:
    return str(connection.ops.quote_name(model._meta.db_table))


def month_start_sql(column: str) -> str:
    """SQL for the first day of the month of a date column."""
    if is_postgres():
        return f"CAST(date_trunc('month', {column}) AS date)"
    return f"date({column}, 'start of month')"


def chunks[T](items: Sequence[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def in_clause(column: str, ids: Sequence[int], params: Params) -> str:
    """``AND column IN (%(c0)s, …)``, adding the ids to ``params``."""
    names = []
    for position, value in enumerate(ids):
        name = f"in_{position}"
        params[name] = int(value)
        names.append(f"%({name})s")
    return f" AND {column} IN ({', '.join(names)})"


_names = itertools.count(1)


def temp_name(stem: str) -> str:
    """A fresh name for a temporary table of this connection."""
    return f"seg_{stem}_{next(_names)}"


def drop_temp(*names: str) -> None:
    """Drop temporary tables after the work succeeded.

    Never called on the way out of an error: in PostgreSQL's aborted
    transaction it would fail and hide the error; the rollback (or the end
    of the session) drops them, and the next run takes fresh names.
    """
    with connection.cursor() as cursor:
        for name in names:
            cursor.execute(f"DROP TABLE IF EXISTS {name}")


def analyze(name: str) -> None:
    """Give PostgreSQL's planner the row count of a fresh temporary table."""
    if is_postgres():
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {name}")


@dataclass(frozen=True)
class Scope:
    """The clients a statement covers: all (``table`` None) or a temp table of ids.

    Statements join the table (``client_id IN (SELECT …)``) instead of
    carrying an ``IN`` list, so PostgreSQL reaches the clients' lines
    through the (client, date) index with one plan for any number of ids.
    ``months`` narrows the lines further to some months of those clients: a
    temp table of (client_id, month, next_month), the months whose lines
    changed.
    """

    table: str | None = None
    months: str | None = None

    @property
    def everyone(self) -> bool:
        return self.table is None

    def clause(self, column: str) -> str:
        if self.table is None:
            return ""
        return f" AND {column} IN (SELECT client_id FROM {self.table})"

    def lines_filter(self, client: str, day: str) -> tuple[str, str]:
        """(``JOIN``, ``WHERE`` condition) that keep the scope's rows dated by ``day``.

        Narrowed to months, the rows are joined to the months: PostgreSQL then
        reads each month through the (client, date) index, where an ``EXISTS``
        becomes a hash semi-join over every line. The months never overlap, so
        the join repeats no row.
        """
        if self.months is None:
            return "", self.clause(client)
        join = (
            f" JOIN {self.months} m ON m.client_id = {client} "
            f"AND {day} >= m.month AND {day} < m.next_month"
        )
        return join, ""

    def delete_sql(self, target: str, day: str | None) -> str:
        """``DELETE`` of the scope's rows of ``target`` (``day``: its date column, when
        the scope is narrowed to months), ready for further ``AND`` conditions."""
        client = f"{target}.client_id"
        if self.months is None or day is None:
            return f"DELETE FROM {target} WHERE 1 = 1 {self.clause(client)}"
        in_month = f"{target}.{day} >= m.month AND {target}.{day} < m.next_month"
        if is_postgres():
            return (
                f"DELETE FROM {target} USING {self.months} m "
                f"WHERE m.client_id = {client} AND {in_month}"
            )
        return (
            f"DELETE FROM {target} WHERE EXISTS (SELECT 1 FROM {self.months} m "
            f"WHERE m.client_id = {client} AND {in_month})"
        )


@contextmanager
def client_scope(client_ids: Sequence[int] | None) -> Iterator[Scope]:
    """A ``Scope`` for the given ids (every client when None), dropped afterwards."""
    if client_ids is None:
        yield Scope()
        return
    name = temp_name("ids")
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMPORARY TABLE {name} (client_id bigint PRIMARY KEY)")
        for chunk in chunks(sorted({int(i) for i in client_ids})):
            values = ", ".join(["(%s)"] * len(chunk))
            cursor.execute(f"INSERT INTO {name} (client_id) VALUES {values}", chunk)
    analyze(name)
    yield Scope(name)
    drop_temp(name)


def read_frame(
    sql: str,
    params: Params,
    schema: Mapping[str, Kind],
    *,
    use_copy: bool | None = None,
) -> pd.DataFrame:
    """Run ``sql`` and return its rows as a frame typed by ``schema``.

    Dates come back as ``datetime64``, counts as ``int64``, money and ratios
    as ``float64``, so both paths give identical frames.
    """
    if use_copy is None:
        use_copy = USE_COPY and is_postgres()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        if use_copy and hasattr(raw, "copy_expert") and hasattr(raw, "mogrify"):
            query = raw.mogrify(sql, params).decode()
            buffer = io.BytesIO()
            raw.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", buffer)
            buffer.seek(0)
            # Numbers are parsed by read_csv's C parser: through strings, pandas
            # took seconds per million rows.
            dtypes = {
                name: ("float64" if kind in ("int", "float") else str)
                for name, kind in schema.items()
            }
            frame = pd.read_csv(buffer, dtype=dtypes, keep_default_na=False, na_values=[""])
        else:
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            frame = pd.DataFrame(cursor.fetchall(), columns=names)
    return _typed(frame, schema)


def _typed(frame: pd.DataFrame, schema: Mapping[str, Kind]) -> pd.DataFrame:
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    for name, kind in schema.items():
        column = frame[name] if name in frame.columns else pd.Series([None] * len(frame))
        column = column.reset_index(drop=True)
        if kind == "date":
            out[name] = pd.to_datetime(column.astype("string"), format="%Y-%m-%d")
        elif kind == "int":
            out[name] = _numbers(column).fillna(0).astype("int64")
        elif kind == "float":
            out[name] = _numbers(column).astype("float64")
        elif kind == "bool":
            out[name] = column.astype("string").str.lower().isin(["t", "true", "1"])
        else:
            out[name] = column.astype("string").fillna("").astype(object)
    return out


def _numbers(column: pd.Series) -> pd.Series:
    if pd.api.types.is_float_dtype(column) or pd.api.types.is_integer_dtype(column):
        return column
    return pd.to_numeric(column.astype("string"))


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def _field_for(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    for field in model._meta.concrete_fields:
        if field.attname == name or field.name == name:
            return field
    raise KeyError(name)


def _prepared(model: type[models.Model], frame: pd.DataFrame) -> pd.DataFrame:
    """Columns as the database takes them: rounded decimals, nullable ints, ISO dates."""
    out = pd.DataFrame(index=frame.index)
    for name in frame.columns:
        field = _field_for(model, name)
        column = frame[name]
        if isinstance(field, models.DecimalField):
            values = pd.to_numeric(column).astype("float64")
            # +0.0 turns a rounded -0.0 into 0.0, so reruns print the same text.
            out[field.attname] = values.round(field.decimal_places or 0) + 0.0
        elif isinstance(field, models.DateField):
            out[field.attname] = pd.to_datetime(column).dt.strftime("%Y-%m-%d")
        elif isinstance(field, models.BooleanField):
            out[field.attname] = column.astype(bool)
        elif isinstance(field, models.JSONField):
            out[field.attname] = column.map(lambda v: json.dumps(v, sort_keys=True))
        elif isinstance(field, models.IntegerField | models.ForeignKey):
            out[field.attname] = pd.to_numeric(column).astype("Int64")
        else:
            out[field.attname] = column.fillna("").astype(str)
    return out


def write_frame(
    model: type[models.Model], frame: pd.DataFrame, *, use_copy: bool | None = None
) -> int:
    """Insert the frame's rows (columns named as fields) into the model's table."""
    if frame.empty:
        return 0
    if use_copy is None:
        use_copy = USE_COPY and is_postgres()
    prepared = _prepared(model, frame)
    columns = list(prepared.columns)
    if use_copy:
        quote = connection.ops.quote_name
        buffer = io.StringIO()
        prepared.to_csv(buffer, index=False, header=False, na_rep=_NULL, float_format=None)
        names = ", ".join(quote(str(_field_for(model, c).column)) for c in columns)
        sql = f"COPY {table(model)} ({names}) FROM STDIN WITH (FORMAT csv, NULL '{_NULL}')"
        with connection.cursor() as cursor:
            raw = cursor.cursor
            data = io.BytesIO(buffer.getvalue().encode())
            if hasattr(raw, "copy_expert"):
                raw.copy_expert(sql, data)
            else:  # psycopg 3
                with raw.copy(sql) as copy:
                    copy.write(data.getvalue())
        return len(prepared)
    decimal_fields = {
        f.attname for f in model._meta.concrete_fields if isinstance(f, models.DecimalField)
    }
    json_fields = {
        f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField)
    }
    objects = []
    for record in prepared.astype(object).where(prepared.notna(), None).to_dict("records"):
        for name in decimal_fields.intersection(record):
            if record[name] is not None:
                record[name] = Decimal(repr(float(record[name])))
        for name in json_fields.intersection(record):
            record[name] = json.loads(record[name])
        objects.append(model(**record))
    model._default_manager.bulk_create(objects, batch_size=500)
    return len(objects)
