"""Turn an uploaded CSV or XLSX file into raw rows keyed by canonical column.

Nothing here touches the database. The file is refused with a message the
user can act on when it is not a readable table; otherwise the header is
found (1C puts a title and a period above it), the columns are mapped, and
the data rows are streamed one by one with their row numbers as a
spreadsheet shows them, so a large file is never held as a table in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import PurePath
from typing import Any, BinaryIO

from django.conf import settings
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _

from .source import FileData, contains, head_of, open_binary, size_of, slices
from .specs import FileSpec, get_spec, normalize_header

Cell = str | date
Message = str | Promise
Records = Iterator[tuple[int, list[Cell]]]

HEADER_SEARCH_ROWS = 10
LINE_LIMIT = 1 << 20  # characters in one line of a CSV file
XLSX_LIMIT_DEFAULT = 200 * 1024 * 1024
DELIMITERS = (";", ",", "\t")
_SAMPLE_CHARS = 64 * 1024
_TEXT_EXTENSIONS = {"", ".csv", ".txt", ".tsv"}
_XLSX_EXTENSIONS = {".xlsx", ".xlsm"}
# Characters a Russian accountant's CSV is made of, beyond ASCII and Cyrillic.
_CP1251_EXTRA = set("«»№—–„“”‘’…\xa0•°±§")


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``message`` says why."""

    def __init__(self, template: Message, params: dict[str, Any] | None = None) -> None:
        self.message = fmt(template, **params) if params else template
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)


@dataclass(frozen=True)
class RawRow:
    row: int  # as a spreadsheet shows it: 1-based, title rows and header counted
    values: dict[str, Cell]  # canonical column -> cell text (or a date from Excel)


@dataclass
class ReadResult:
    kind: str
    filename: str
    format: str  # "csv" or "xlsx"
    header_row: int
    columns: dict[str, str]  # canonical name -> the header as written in the file
    skipped_rows: tuple[int, ...] = ()
    unknown_columns: tuple[str, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    _rows: Iterator[RawRow] = field(default_factory=lambda: iter(()), repr=False)
    # The share of the file read so far, where it can be told (CSV); None otherwise.
    _position: Callable[[], float] | None = field(default=None, repr=False)

    def iter_rows(self) -> Iterator[RawRow]:
        """The data rows, blank ones left out. One pass: the file is streamed."""
        return self._rows

    def fraction_read(self) -> float | None:
        return self._position() if self._position is not None else None

    def notes(self) -> list[str]:
        """What the reader did that the user should know about."""
        notes: list[str] = []
        if self.skipped_rows:
            rows = ", ".join(str(r) for r in self.skipped_rows)
            notes.append(str(_("Rows above the header were skipped: %(rows)s.") % {"rows": rows}))
        if self.unknown_columns:
            cols = quoted(self.unknown_columns)
            notes.append(str(_("Unknown columns were ignored: %(columns)s.") % {"columns": cols}))
        return notes


def _interpolate(template: Message, params: dict[str, Any]) -> str:
    return str(template) % {key: str(value) for key, value in params.items()}


_lazy_interpolate = lazy(_interpolate, str)


def fmt(template: Message, **params: Any) -> Message:
    """A lazy ``template % params``.

    ``_("…") % params`` translates at once, in the language active while the
    file is read (a worker's); a report is shown later, to someone else, so
    the message keeps its parameters and translates when it becomes text.
    """
    return _lazy_interpolate(template, params)


def quoted(names: Iterable[str]) -> str:
    return ", ".join(f"«{n}»" for n in names)


def read_table(*, data: FileData, filename: str, kind: str, sheet: str | None = None) -> ReadResult:
    """Open ``data`` as the table ``kind`` describes; raise ImportFileError if it is not one."""
    spec = get_spec(kind)
    total = size_of(data)
    if not total:
        raise ImportFileError(_("The file «%(filename)s» is empty."), {"filename": filename})
    ext = PurePath(filename).suffix.lower()
    head = head_of(data, 16)
    _refuse_known_binary(head, filename, ext)
    meta: dict[str, Any] = {}
    if head.startswith(b"PK\x03\x04") or ext in _XLSX_EXTENSIONS:
        from .xlsx import xlsx_records  # openpyxl is heavy; only workbooks need it

        limit = getattr(settings, "IMPORT_XLSX_MAX_UNZIPPED_BYTES", XLSX_LIMIT_DEFAULT)
        sheet_name, records = xlsx_records(data, filename=filename, sheet=sheet, limit=limit)
        meta = {"format": "xlsx", "sheet": sheet_name}
    elif ext in _TEXT_EXTENSIONS:
        encoding = detect_encoding(data, filename)
        delimiter = _choose_delimiter(data, encoding, spec)
        stream = open_binary(data)
        records = csv_records(stream, encoding, delimiter)
        meta = {
            "format": "csv",
            "encoding": encoding,
            "delimiter": delimiter,
            "_position": lambda: min(stream.tell() / total, 1.0) if not stream.closed else 1.0,
        }
    else:
        raise ImportFileError(
            _("Files of type «%(ext)s» cannot be imported: upload a .csv or .xlsx file."),
            {"ext": ext},
        )
    return _with_header(records, spec, filename, meta)


def _refuse_known_binary(head: bytes, filename: str, ext: str) -> None:
    params = {"filename": filename}
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")) or (
        head.startswith(b"RIFF") and head[8:12] == b"WEBP"
    ):
        raise ImportFileError(
            _("The file «%(filename)s» is an image, not a table: upload a .csv or .xlsx file."),
            params,
        )
    if head.startswith(b"%PDF"):
        raise ImportFileError(
            _(
                "The file «%(filename)s» is a PDF document, not a table: "
                "upload a .csv or .xlsx file."
            ),
            params,
        )
    if head.startswith(b"\xd0\xcf\x11\xe0") or ext == ".xls":
        raise ImportFileError(
            _(
                "The file «%(filename)s» is in the old Excel format (.xls): "
                "save it as .xlsx or CSV and upload it again."
            ),
            params,
        )


def detect_encoding(data: FileData, filename: str = "") -> str:
    """UTF-8 (BOM or not), UTF-16 with BOM, else Windows-1251 if the text is plausible."""
    head = head_of(data, _SAMPLE_CHARS)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head[:8192]:
        raise ImportFileError(
            _(
                "The file «%(filename)s» is not a text table (it contains binary data): "
                "upload a .csv or .xlsx file."
            ),
            {"filename": filename},
        )
    if _is_utf8(data):
        return "utf-8"
    # 0x98 is the one byte cp1251 leaves undefined: ruling it out here means
    # decoding cannot fail half-way through the rows.
    if _plausible_cp1251(head) and not contains(data, b"\x98"):
        return "cp1251"
    raise ImportFileError(
        _(
            "The text encoding of «%(filename)s» was not recognised: "
            "save the file as CSV in UTF-8 or Windows-1251."
        ),
        {"filename": filename},
    )


def _is_utf8(data: FileData) -> bool:
    """Decode the whole file in slices, keeping nothing: bounded memory, C speed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in slices(data):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _plausible_cp1251(sample: bytes) -> bool:
    """Almost any bytes decode as cp1251; real text is letters, digits and punctuation."""
    text = sample.decode("cp1251", errors="replace")
    good = sum(
        1
        for ch in text
        if (" " <= ch <= "~") or ch in "\t\r\n" or "\u0400" <= ch <= "\u04ff" or ch in _CP1251_EXTRA
    )
    return good >= 0.98 * len(text)


def _text_stream(data: FileData, encoding: str) -> io.TextIOWrapper:
    # The wrapper decodes as it goes.
    return io.TextIOWrapper(open_binary(data), encoding=encoding, newline="")


def _choose_delimiter(data: FileData, encoding: str, spec: FileSpec) -> str:
    """The sniffed delimiter, unless another one is the only one that yields a header.

    Sniffing alone is fooled by a decimal comma inside a semicolon file or by
    1C title rows, so the candidates are tried on the first rows too.
    """
    with _text_stream(data, encoding) as stream:
        sample = stream.read(_SAMPLE_CHARS)
    if len(sample) == _SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n") + 1]  # no half line at the end
    try:
        sniffed = csv.Sniffer().sniff(sample, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        sniffed = _count_delimiters(sample)
    candidates = [sniffed, *(d for d in DELIMITERS if d != sniffed)]
    for delimiter in candidates:
        try:
            rows = list(csv.reader(io.StringIO(sample), delimiter=delimiter))[:HEADER_SEARCH_ROWS]
        except csv.Error:
            continue
        if any(not spec.missing(set(_map_header(r, spec))) for r in rows):
            return delimiter
    return sniffed


def _count_delimiters(sample: str) -> str:
    """The delimiter that splits most of the first lines the same number of times."""
    lines = [line for line in sample.splitlines() if line.strip()][:20]
    best, best_score = DELIMITERS[0], 0
    for delimiter in DELIMITERS:
        counts = [line.count(delimiter) for line in lines if line.count(delimiter)]
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) * mode
        if score > best_score:
            best, best_score = delimiter, score
    return best


def csv_records(stream: BinaryIO, encoding: str, delimiter: str) -> Records:
    """Each record with its number; a quoted line break stays inside one row, as in Excel."""
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    reader = csv.reader(_bounded_lines(text), delimiter=delimiter)
    number = 0
    try:
        for number, record in enumerate(reader, start=1):
            yield number, list(record)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise ImportFileError(
                _(
                    "Row %(row)s has a cell longer than %(limit)s characters: check the "
                    "delimiter and the quotes (a quote left open swallows the rest of the file)."
                ),
                {"row": number + 1, "limit": csv.field_size_limit()},
            ) from exc
        raise ImportFileError(
            _("Row %(row)s cannot be read: %(reason)s"), {"row": number + 1, "reason": exc}
        ) from exc
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            _("Row %(row)s cannot be read: %(reason)s"), {"row": number + 1, "reason": exc}
        ) from exc
    finally:
        text.close()


def _bounded_lines(text: io.TextIOWrapper) -> Iterator[str]:
    """The lines of the text, refusing one longer than LINE_LIMIT characters.

    Iterating a text file reads a whole line into memory, and a file with no
    line break is one line: the limit keeps memory bounded whatever the file.
    """
    while line := text.readline(LINE_LIMIT):
        if len(line) == LINE_LIMIT and not line.endswith(("\n", "\r")):
            raise ImportFileError(
                _(
                    "A line of the file is longer than %(limit)s characters: this is not a "
                    "table an ERP exports. Check the delimiter and the line breaks."
                ),
                {"limit": LINE_LIMIT},
            )
        yield line


def _map_header(record: Sequence[Cell], spec: FileSpec) -> dict[str, int]:
    """Canonical column -> position, for the cells of a record that name a column."""
    aliases = spec.alias_map()
    found: dict[str, int] = {}
    for pos, cell in enumerate(record):
        name = aliases.get(normalize_header(str(cell)))
        if name is not None and name not in found:
            found[name] = pos
    return found


def _is_blank(record: list[Cell]) -> bool:
    return all(isinstance(c, str) and not c.strip() for c in record)


def _with_header(
    records: Records, spec: FileSpec, filename: str, meta: dict[str, Any]
) -> ReadResult:
    head: list[tuple[int, list[Cell]]] = []
    for item in records:
        head.append(item)
        if len(head) == HEADER_SEARCH_ROWS:
            break
    if all(_is_blank(r) for _n, r in head):
        raise ImportFileError(_("The file «%(filename)s» is empty."), {"filename": filename})
    index = next(
        (i for i, (_n, r) in enumerate(head) if not spec.missing(set(_map_header(r, spec)))), None
    )
    if index is None:
        best = max(head, key=lambda item: len(_map_header(item[1], spec)))[1]
        found = [str(c).strip() for c in best if str(c).strip()]
        raise ImportFileError(
            _(
                "No header row with the required columns was found in the first %(count)s rows. "
                "Missing columns: %(missing)s. Columns found: %(found)s."
            ),
            {
                "count": HEADER_SEARCH_ROWS,
                "missing": quoted(spec.missing(set(_map_header(best, spec)))),
                "found": quoted(found) or "—",
            },
        )
    number, record = head[index]
    mapping = _map_header(record, spec)
    _refuse_duplicate_columns(record, spec)
    columns = {name: str(record[pos]).strip() for name, pos in mapping.items()}
    known = set(mapping.values())
    unknown = tuple(
        str(c).strip() for pos, c in enumerate(record) if pos not in known and str(c).strip()
    )
    skipped = tuple(n for n, r in head[:index] if not _is_blank(r))
    rest = _data_rows(head[index + 1 :], records, mapping)
    first = next(rest, None)
    if first is None:
        raise ImportFileError(
            _("The file «%(filename)s» has a header (row %(row)s) but no data rows."),
            {"filename": filename, "row": number},
        )
    rows = _chain_one(first, rest)
    return ReadResult(
        kind=spec.kind,
        filename=filename,
        header_row=number,
        columns=columns,
        skipped_rows=skipped,
        unknown_columns=unknown,
        _rows=rows,
        **meta,
    )


def _refuse_duplicate_columns(record: list[Cell], spec: FileSpec) -> None:
    aliases = spec.alias_map()
    seen: dict[str, str] = {}
    for cell in record:
        text = str(cell).strip()
        name = aliases.get(normalize_header(text))
        if name is None:
            continue
        if name in seen:
            raise ImportFileError(
                _("Columns «%(first)s» and «%(second)s» both mean «%(column)s»: keep one of them."),
                {"first": seen[name], "second": text, "column": name},
            )
        seen[name] = text


def _data_rows(
    buffered: list[tuple[int, list[Cell]]], records: Records, mapping: dict[str, int]
) -> Iterator[RawRow]:
    for source in (iter(buffered), records):
        for number, record in source:
            if _is_blank(record):
                continue
            values = {
                name: (record[pos] if pos < len(record) else "") for name, pos in mapping.items()
            }
            yield RawRow(number, values)


def _chain_one(first: RawRow, rest: Iterator[RawRow]) -> Iterator[RawRow]:
    yield first
    yield from rest
