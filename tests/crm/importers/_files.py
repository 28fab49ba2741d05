"""Small import files built inside the tests, and a snapshot of every CRM table."""

from __future__ import annotations

import io

import openpyxl
from django.apps import apps

from tests.factories import inn_with_checksum

INN_A = inn_with_checksum("770000001")
INN_B = inn_with_checksum("770000002")
INN_C = inn_with_checksum("770000003")


def csv_cp1251(*lines: str) -> bytes:
    """A 1C export: Windows-1251, semicolons, CRLF."""
    return ("\r\n".join(lines) + "\r\n").encode("cp1251")


def csv_utf8(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx(rows: list[list[object]], title: str = "Лист1") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def table_counts() -> dict[str, int]:
    """Rows of every table of the crm app (history tables included), import runs aside."""
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_app_config("crm").get_models()
        if model._meta.label != "crm.ImportRun"
    }
