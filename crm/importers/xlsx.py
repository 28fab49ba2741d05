"""Read an XLSX workbook safely: bounded unzipped size, no DOCTYPE, streamed rows."""

from __future__ import annotations

import codecs
import re
import zipfile
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _

from .reading import Cell, ImportFileError, Message, Records, quoted
from .source import FileData, open_binary

# The root element's start tag; a DOCTYPE may only come before it.
_ROOT_TAG_RE = re.compile(rb"<[A-Za-z_]")
_XML_PROLOG_BYTES = 64 * 1024


def xlsx_records(
    data: FileData, *, filename: str, sheet: str | None, limit: int
) -> tuple[str, Records]:
    """Check the archive, then stream the sheet's rows through openpyxl's read-only mode.

    The declared sizes are checked before anything is inflated: zipfile stops
    at the declared size (and fails the CRC), so the sum bounds the work.
    XML with a DOCTYPE is refused, which rules out entity tricks whatever
    parser openpyxl uses; openpyxl itself parses through defusedxml.
    """
    import openpyxl  # a heavy import, needed only for workbooks

    damaged = (
        _("The file «%(filename)s» is not a readable XLSX workbook (the archive is damaged)."),
        {"filename": filename},
    )
    # ZipFile and openpyxl leave a file object they are given open: each
    # handle opened here is closed here (the workbook's when its rows end).
    with open_binary(data) as handle:
        try:
            archive = zipfile.ZipFile(handle)
            infos = archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError):
            raise ImportFileError(*damaged) from None
        try:
            _check_archive(archive, infos, filename, limit, damaged)
        finally:
            archive.close()
    book_handle = open_binary(data)
    try:
        workbook = openpyxl.load_workbook(book_handle, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors on a corrupt file
        book_handle.close()
        raise ImportFileError(*damaged) from None
    names = workbook.sheetnames
    if sheet is not None and sheet not in names:
        workbook.close()
        book_handle.close()
        raise ImportFileError(
            _("The workbook has no sheet «%(sheet)s»; its sheets are: %(sheets)s."),
            {"sheet": sheet, "sheets": quoted(names)},
        )
    worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
    return worksheet.title, _sheet_rows(workbook, worksheet, damaged, book_handle)


def _check_archive(
    archive: zipfile.ZipFile,
    infos: list[zipfile.ZipInfo],
    filename: str,
    limit: int,
    damaged: tuple[Message, dict[str, Any]],
) -> None:
    unzipped = sum(info.file_size for info in infos)
    if unzipped > limit:
        raise ImportFileError(
            _(
                "The workbook «%(filename)s» unpacks to %(size)s MB, more than the allowed "
                "%(limit)s MB: save the data as CSV or split the file."
            ),
            {"filename": filename, "size": _mb(unzipped), "limit": _mb(limit)},
        )
    try:
        if "xl/workbook.xml" not in archive.namelist():
            raise ImportFileError(*damaged)
        for info in infos:
            if not info.is_dir() and _has_doctype(archive, info):
                raise ImportFileError(*damaged)
    except ImportFileError:
        raise
    except Exception:  # a corrupt member
        raise ImportFileError(*damaged) from None


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def _has_doctype(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with archive.open(info) as member:
        head = member.read(_XML_PROLOG_BYTES)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        head = head.decode("utf-16", errors="ignore").encode("utf-8")
    root = _ROOT_TAG_RE.search(head)
    if root is None:  # no element at all in 64 KB of an XML part: not an honest file
        return head.lstrip().startswith(b"<")
    return b"<!DOCTYPE" in head[: root.start()]


def _sheet_rows(
    workbook: Any, worksheet: Any, damaged: tuple[Message, dict[str, Any]], handle: Any
) -> Records:
    # Trust the rows in the XML, not the declared dimensions: some writers
    # declare "A1" and a read-only sheet would then be cut to one cell.
    worksheet.reset_dimensions()
    try:
        for number, values in enumerate(worksheet.iter_rows(min_row=1, values_only=True), 1):
            yield number, [_xlsx_cell(v) for v in values]
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(*damaged) from None
    finally:
        workbook.close()
        handle.close()


def _xlsx_cell(value: object) -> Cell:
    """Text as the cell shows it; a date cell becomes a date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)
