"""Validate every raw row of an import file and turn its cells into typed values.

Each cell parser raises CellError with a translatable reason; ``parse_rows``
collects every error of every row (a user fixes a file in one go, not one
error per upload) and never stops early. Nothing here touches the database:
whether an owner e-mail names a user or a client code exists is the writing
layer's question.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from crm.validators import normalize_inn, validate_inn, validate_kpp

from .reading import Cell, Message, RawRow, ReadResult, fmt, quoted
from .specs import CellType, ColumnSpec, FileSpec, get_spec, normalize_word

_SPACES = str.maketrans("", "", " \xa0\u202f\u2009\u2007")
_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_WHOLE_RE = re.compile(r"^[+-]?\d+([.,]0*)?$")
_TIME = r"(?:[ T]+\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
_DMY_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})" + _TIME + "$")
_ISO_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME + "$")
_INT_MAX = 2_147_483_647  # a PositiveIntegerField on every database
YEAR_MIN, YEAR_MAX = 2000, 2100


class CellError(ValueError):
    def __init__(self, message: Message) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    row: int
    column: str  # canonical column name
    value: str
    message: Message  # the problem alone; str(error) names the row and the column
    header: str = ""  # the column as written in the file, shown to the user

    def __str__(self) -> str:
        return str(
            fmt(
                _("Row %(row)s, column «%(column)s»: %(problem)s"),
                row=self.row,
                column=self.header or self.column,
                problem=self.message,
            )
        )


@dataclass(frozen=True)
class ParsedRow:
    row: int
    values: dict[str, Any]  # canonical column -> str, Decimal, int, date or None


@dataclass
class ParseOutcome:
    kind: str
    rows: list[ParsedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    rows_read: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})


def _text(value: Cell) -> str:
    return value.isoformat() if isinstance(value, date) else value.strip()


def parse_text(value: Cell, max_length: int | None = None) -> str:
    text = _text(value)
    if max_length is not None and len(text) > max_length:
        raise CellError(
            fmt(
                _("At most %(limit)s characters are allowed; this value has %(length)s."),
                limit=max_length,
                length=len(text),
            )
        )
    return text


def parse_decimal(
    value: Cell, *, max_digits: int = 16, decimal_places: int = 2, non_negative: bool = False
) -> Decimal:
    """``1 234,50``, ``-1 234,5``, ``3,5``, ``1234.5``; spaces of any kind group thousands."""
    if isinstance(value, date):
        raise CellError(_("A number is expected here, not a date."))
    text = value.strip().replace("\u2212", "-").translate(_SPACES)
    if "," in text and "." in text:
        raise CellError(
            _("Use either a decimal comma or a decimal point, not both (write 1234,50).")
        )
    text = text.replace(",", ".")
    if not _NUMBER_RE.match(text):
        raise CellError(_("This is not a number."))
    number = Decimal(text)
    exponent = number.normalize().as_tuple().exponent
    places = max(0, -exponent) if isinstance(exponent, int) else 0
    if places > decimal_places:
        raise CellError(
            fmt(_("At most %(places)s digits after the decimal point."), places=decimal_places)
        )
    if abs(number) >= Decimal(10) ** (max_digits - decimal_places):
        raise CellError(_("This number is too large."))
    if non_negative and number < 0:
        raise CellError(_("The value must be zero or more."))
    return number


def parse_integer(value: Cell) -> int:
    """A whole number ≥ 0; ``12,0`` is twelve, ``12,5`` is not whole."""
    text = "" if isinstance(value, date) else value.strip().translate(_SPACES)
    if not _WHOLE_RE.match(text):
        raise CellError(_("A whole number is expected here."))
    number = int(re.split(r"[.,]", text)[0])
    if number < 0:
        raise CellError(_("The value must be zero or more."))
    if number > _INT_MAX:
        raise CellError(_("This number is too large."))
    return number


def parse_year(value: Cell) -> int:
    text = "" if isinstance(value, date) else value.strip()
    if not re.fullmatch(r"\d{4}", text) or not YEAR_MIN <= int(text) <= YEAR_MAX:
        raise CellError(
            fmt(_("A year from %(min)s to %(max)s is expected."), min=YEAR_MIN, max=YEAR_MAX)
        )
    return int(text)


def parse_date(value: Cell) -> date:
    """``DD.MM.YYYY`` or ``YYYY-MM-DD``, a time after it dropped; Excel dates as they are."""
    if isinstance(value, date):
        return value
    text = value.strip()
    if match := _DMY_RE.match(text):
        day, month, year = (int(g) for g in match.groups())
    elif match := _ISO_RE.match(text):
        year, month, day = (int(g) for g in match.groups())
    else:
        raise CellError(_("A date such as 31.12.2026 or 2026-12-31 is expected."))
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(_("There is no such date.")) from None


def _first_message(exc: ValidationError) -> Message:
    """The validator's own (lazy) message, so its translation is reused."""
    error = exc.error_list[0]
    return fmt(error.message, **error.params) if error.params else error.message


@lru_cache(maxsize=65536)
def _checked_inn(text: str) -> tuple[str, Message | None]:
    """INNs repeat on every line of a client's shipments; check each one once."""
    inn = normalize_inn(text)
    try:
        validate_inn(inn)
    except ValidationError as exc:
        return inn, _first_message(exc)
    return inn, None


def parse_inn(value: Cell) -> str:
    inn, problem = _checked_inn(_text(value))
    if problem is not None:
        raise CellError(problem)
    return inn


def parse_kpp(value: Cell) -> str:
    kpp = _text(value).upper()
    try:
        validate_kpp(kpp)
    except ValidationError as exc:
        raise CellError(_first_message(exc)) from None
    return kpp


def parse_email(value: Cell) -> str:
    email = _text(value)
    try:
        validate_email(email)
    except ValidationError as exc:
        raise CellError(_first_message(exc)) from None
    return email


def parse_choice(value: Cell, choices: Mapping[str, str]) -> str:
    """A code or one of its accepted words (Russian included) -> the code."""
    code = choices.get(normalize_word(_text(value)))
    if code is None:
        expected = ", ".join(dict.fromkeys(choices.values()))
        raise CellError(fmt(_("Unknown value; expected one of: %(choices)s."), choices=expected))
    return code


def parse_cell(column: ColumnSpec, value: Cell) -> Any:
    """Parse one non-empty cell according to its column."""
    match column.type:
        case CellType.TEXT | CellType.CODE:
            return parse_text(value, column.max_length)
        case CellType.DECIMAL:
            return parse_decimal(
                value,
                max_digits=column.max_digits,
                decimal_places=column.decimal_places,
                non_negative=column.non_negative,
            )
        case CellType.INTEGER:
            return parse_integer(value)
        case CellType.YEAR:
            return parse_year(value)
        case CellType.DATE:
            return parse_date(value)
        case CellType.INN:
            return parse_inn(value)
        case CellType.KPP:
            return parse_kpp(value)
        case CellType.EMAIL:
            return parse_email(value)
        case CellType.CHOICE:
            return parse_choice(value, column.choices)
    raise AssertionError(column.type)  # pragma: no cover - every type is handled above


def _blank(value: Cell) -> bool:
    return isinstance(value, str) and not value.strip()


def _empty_value(column: ColumnSpec) -> Any:
    if column.type in (CellType.TEXT, CellType.CODE, CellType.CHOICE, CellType.INN, CellType.KPP):
        return column.default
    if column.type is CellType.EMAIL:
        return ""
    return None


class _RowParser:
    """Parses the rows of one file, remembering what duplicate detection needs."""

    def __init__(self, result: ReadResult, spec: FileSpec) -> None:
        self.spec = spec
        self.headers = result.columns
        # In the file's order, so a row's errors read left to right.
        self.present = [spec.column(name) for name in result.columns]
        self.seen: dict[str, int] = {}
        self.partial: dict[str, Any] = {}

    def error(self, row: int, column: str, value: Cell, message: Message) -> RowError:
        header = self.headers.get(column, column)
        return RowError(row, column, _text(value) if value else "", message, header)

    def parse(self, raw: RawRow) -> tuple[ParsedRow | None, list[RowError]]:
        values: dict[str, Any] = {}
        errors: list[RowError] = []
        for column in self.present:
            cell = raw.values.get(column.name, "")
            if _blank(cell):
                if column.required:
                    errors.append(self.error(raw.row, column.name, cell, _("A value is required.")))
                values[column.name] = _empty_value(column)
                continue
            try:
                values[column.name] = parse_cell(column, cell)
            except CellError as exc:
                errors.append(self.error(raw.row, column.name, cell, exc.message))
        for group in self.spec.either_or:
            named = [name for name in group if name in self.headers]
            if named and all(_blank(raw.values.get(name, "")) for name in named):
                problem = fmt(
                    _("Fill in %(columns)s."),
                    columns=str(_(" or ")).join(quoted([self.headers[n]]) for n in named),
                )
                errors.append(self.error(raw.row, named[0], "", problem))
        unique = self.spec.unique
        if unique and values.get(unique) and not any(e.column == unique for e in errors):
            key = values[unique]
            if key in self.seen:
                problem = fmt(
                    _("This code already appears on row %(first)s."), first=self.seen[key]
                )
                errors.append(self.error(raw.row, unique, key, problem))
            else:
                self.seen[key] = raw.row
        self.partial = values
        return (None if errors else ParsedRow(raw.row, values)), errors


def iter_parsed(
    result: ReadResult, partial: dict[str, Any] | None = None
) -> Iterator[tuple[ParsedRow | None, list[RowError]]]:
    """Stream the rows of ``result``: a typed row or None, and that row's errors.

    For large files the writing layer can consume this without keeping every
    typed row in memory. When ``partial`` is given, it holds, after each bad
    row, the cells of that row that did parse (to tell which document a bad
    line belongs to).
    """
    parser = _RowParser(result, get_spec(result.kind))
    for raw in result.iter_rows():
        outcome = parser.parse(raw)
        if partial is not None:
            partial.clear()
            partial.update(parser.partial)
        yield outcome


def parse_rows(result: ReadResult, kind: str) -> ParseOutcome:
    """Validate every row of ``result``; typed rows of the good ones, all errors of the bad."""
    if kind != result.kind:
        raise ValueError(f"The file was read as {result.kind!r}, not {kind!r}")
    outcome = ParseOutcome(kind=kind)
    for parsed, errors in iter_parsed(result):
        outcome.rows_read += 1
        outcome.errors.extend(errors)
        if parsed is not None:
            outcome.rows.append(parsed)
    return outcome
