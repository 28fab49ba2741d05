"""Reading and validating ERP import files (formats.md); no database writes here.

``read_table`` opens a CSV or XLSX upload and finds its header,
``parse_rows`` validates every row into typed values plus a list of errors.
"""

from __future__ import annotations

from .parsing import CellError, ParsedRow, ParseOutcome, RowError, iter_parsed, parse_rows
from .reading import ImportFileError, RawRow, ReadResult, read_table
from .specs import SPECS, CellType, ColumnSpec, FileSpec, get_spec

__all__ = [
    "SPECS",
    "CellError",
    "CellType",
    "ColumnSpec",
    "FileSpec",
    "ImportFileError",
    "ParseOutcome",
    "ParsedRow",
    "RawRow",
    "ReadResult",
    "RowError",
    "get_spec",
    "iter_parsed",
    "parse_rows",
    "read_table",
]
