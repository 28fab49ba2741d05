"""Client list exports: CSV (UTF-8 with a BOM, for Excel) and XLSX (openpyxl write-only).

The columns are those the user shows on the list, after the client's name.
Text cells that a spreadsheet would read as a formula (= + - @, and tab or
carriage return, which some spreadsheets strip first) get an apostrophe in
front; numbers stay numbers, so a negative growth can still be summed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO, Any

from django.db.models import QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext
from openpyxl import Workbook

from accounts.models import User
from crm.models import Client
from crm.selectors.client_list import Column, ListRow, columns_of, iter_rows, raw_value
from segmentation.models import MetricRun

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"


def safe_text(value: str) -> str:
    """A text cell that a spreadsheet shows and never runs."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def header(columns: Sequence[Column]) -> list[str]:
    return [gettext("Name"), *(str(column.label) for column in columns)]


def cells(row: ListRow, columns: Sequence[Column]) -> list[Any]:
    """A row as typed values: text neutralised, numbers and dates as they are."""
    values: list[Any] = [row.client.name, *(raw_value(row, column.key) for column in columns)]
    return [safe_text(value) if isinstance(value, str) else value for value in values]


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return "0" if text in ("-0", "") else text
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_chunks(rows: Iterable[ListRow], columns: Sequence[Column]) -> Iterator[str]:
    """The CSV file as text chunks, to stream: a BOM, a header, then every row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(CSV_BOM)
    writer.writerow(header(columns))
    for number, row in enumerate(rows, start=1):
        writer.writerow([_csv_text(value) for value in cells(row, columns)])
        if number % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def write_xlsx(rows: Iterable[ListRow], columns: Sequence[Column]) -> IO[bytes]:
    """The workbook in a temporary file (in memory while small), rewound for reading."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=gettext("Clients"))
    sheet.append(header(columns))
    for row in rows:
        sheet.append(cells(row, columns))
    out = tempfile.SpooledTemporaryFile(max_size=16 * 1024 * 1024)  # noqa: SIM115
    workbook.save(out)
    out.seek(0)
    return out


def export_response(
    clients: QuerySet[Client], *, run: MetricRun | None, user: User, fmt: str
) -> HttpResponseBase:
    """A download of the clients with the user's columns (the page and the API share it)."""
    columns = columns_of(user=user)
    stamp = timezone.localtime().strftime("%Y-%m-%d-%H%M")
    rows = iter_rows(clients, run=run, columns=columns)
    if fmt == "xlsx":
        return FileResponse(
            write_xlsx(rows, columns),
            as_attachment=True,
            filename=f"clients-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        csv_chunks(rows, columns), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="clients-{stamp}.csv"'
    return response
