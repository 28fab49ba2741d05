"""A bad-input corpus for the import reader, every file built inside the test."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime

import openpyxl
import pytest
from django.utils import translation

from crm.importers import ImportFileError, read_table

CLIENTS_HEADER = "Код;Наименование;ИНН;КПП;Тип продаж;Торговые точки"
CLIENT_ROW = "00123;ООО «Ромашка»;7707083893;770701001;Смешанные;3"


def csv_bytes(*lines: str, encoding: str = "utf-8", delimiter: str = ";") -> bytes:
    return "\r\n".join(line.replace(";", delimiter) for line in lines).encode(encoding) + b"\r\n"


def xlsx_bytes(rows: list[list[object]], title: str = "Лист1", extra_sheet: str = "") -> bytes:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    if extra_sheet:
        workbook.create_sheet(extra_sheet).append(["nothing"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def refusal(data: bytes, filename: str = "clients.csv", kind: str = "clients", **kw) -> str:
    with pytest.raises(ImportFileError) as info:
        read_table(data=data, filename=filename, kind=kind, **kw)
    return str(info.value)


def rows_of(result) -> list[tuple[int, dict]]:
    return [(r.row, r.values) for r in result.iter_rows()]


def test_cp1251_with_russian_headers_is_read_right():
    result = read_table(
        data=csv_bytes(CLIENTS_HEADER, CLIENT_ROW, encoding="cp1251"),
        filename="clients.csv",
        kind="clients",
    )
    assert result.encoding == "cp1251"
    assert result.delimiter == ";"
    assert result.header_row == 1
    assert result.columns["name"] == "Наименование"
    [(row, values)] = rows_of(result)
    assert row == 2
    assert values["name"] == "ООО «Ромашка»"
    assert values["external_id"] == "00123"  # leading zeros kept


@pytest.mark.parametrize(
    ("encoding", "expected"), [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"), ("utf-16", "utf-16")]
)
def test_unicode_encodings(encoding, expected):
    result = read_table(
        data=csv_bytes(CLIENTS_HEADER, CLIENT_ROW, encoding=encoding),
        filename="clients.csv",
        kind="clients",
    )
    assert result.encoding == expected
    assert result.columns["external_id"] == "Код"  # no BOM glued to the first header
    assert rows_of(result)[0][1]["name"] == "ООО «Ромашка»"


@pytest.mark.parametrize("delimiter", [";", ",", "\t"])
def test_each_delimiter_is_sniffed(delimiter):
    data = csv_bytes("external_id;name;outlets", "001;Alpha;3", "002;Beta;4", delimiter=delimiter)
    result = read_table(data=data, filename="clients.csv", kind="clients")
    assert result.delimiter == delimiter
    assert [v["external_id"] for _r, v in rows_of(result)] == ["001", "002"]


def test_decimal_comma_inside_a_semicolon_file_does_not_fool_the_sniffer():
    data = csv_bytes(
        "Номер;Дата;ИНН;Артикул;Группа;Количество;Сумма",
        "1;02.11.2026;7707083893;A-1;Трубы;3,5;1 234,50",
        "2;03.11.2026;7707083893;A-2;Трубы;1,5;10,25",
    )
    result = read_table(data=data, filename="s.csv", kind="shipments")
    assert result.delimiter == ";"
    assert rows_of(result)[0][1]["amount"] == "1 234,50"


def test_header_under_a_1c_title_and_period_line():
    data = csv_bytes(
        "Отчёт «Продажи по контрагентам»",
        "Период: 01.01.2026 - 31.12.2026",
        CLIENTS_HEADER + ";Комментарий",
        CLIENT_ROW + ";просто так",
        encoding="cp1251",
    )
    result = read_table(data=data, filename="1c.csv", kind="clients")
    assert result.header_row == 3
    assert result.skipped_rows == (1, 2)
    assert result.unknown_columns == ("Комментарий",)
    assert rows_of(result)[0][0] == 4
    assert result.notes() == [
        "Rows above the header were skipped: 1, 2.",
        "Unknown columns were ignored: «Комментарий».",
    ]


def test_blank_rows_are_skipped_but_counted():
    data = csv_bytes(CLIENTS_HEADER, "", CLIENT_ROW, ";;;;;", "00124;Бета;;;;")
    result = read_table(data=data, filename="c.csv", kind="clients")
    assert [r for r, _v in rows_of(result)] == [3, 5]


def test_header_matching_ignores_case_and_spaces():
    data = csv_bytes("  EXTERNAL_ID ; Наименование\xa0 ", "1;A")
    result = read_table(data=data, filename="c.csv", kind="clients")
    assert result.columns == {"external_id": "EXTERNAL_ID", "name": "Наименование"}


def test_missing_required_column_names_it_and_the_columns_found():
    message = refusal(csv_bytes("Код;ИНН;Регион", "001;7707083893;Москва"))
    assert message == (
        "No header row with the required columns was found in the first 10 rows. "
        "Missing columns: «name». Columns found: «Код», «ИНН», «Регион»."
    )


def test_either_or_column_is_enough():
    header = "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма"
    result = read_table(
        data=csv_bytes(header, "1;02.11.2026;001;A;G;1;2"), filename="s.csv", kind="shipments"
    )
    assert "inn" not in result.columns
    message = refusal(
        csv_bytes("Номер;Дата;Артикул;Группа;Количество;Сумма", "1;02.11.2026;A;G;1;2"),
        kind="shipments",
    )
    assert "Missing columns: «client_external_id / inn»." in message


def test_two_columns_meaning_the_same_are_refused():
    message = refusal(csv_bytes("Код;Код контрагента;Наименование", "1;2;A"))
    assert (
        message == "Columns «Код» and «Код контрагента» both mean «external_id»: keep one of them."
    )


def test_empty_file():
    assert refusal(b"") == "The file «clients.csv» is empty."
    assert refusal(b"\xef\xbb\xbf\r\n\r\n") == "The file «clients.csv» is empty."


def test_header_only_file():
    message = refusal(csv_bytes(CLIENTS_HEADER, ""))
    assert message == "The file «clients.csv» has a header (row 1) but no data rows."


def test_random_bytes():
    noise = bytes((i * 7919 + 13) % 256 for i in range(4096))
    assert refusal(noise, "data.csv") == (
        "The file «data.csv» is not a text table (it contains binary data): "
        "upload a .csv or .xlsx file."
    )


def test_implausible_cp1251_is_refused():
    noise = bytes(range(0x80, 0x98)) * 200  # no NUL, not UTF-8, not text in any Cyrillic sense
    assert refusal(noise, "data.csv") == (
        "The text encoding of «data.csv» was not recognised: "
        "save the file as CSV in UTF-8 or Windows-1251."
    )


def test_png_signature():
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    for name in ("photo.png", "clients.csv"):
        assert refusal(png, name) == (
            f"The file «{name}» is an image, not a table: upload a .csv or .xlsx file."
        )


def test_pdf_xls_and_unknown_types():
    assert refusal(b"%PDF-1.7 ...", "report.pdf") == (
        "The file «report.pdf» is a PDF document, not a table: upload a .csv or .xlsx file."
    )
    assert refusal(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, "old.xls") == (
        "The file «old.xls» is in the old Excel format (.xls): "
        "save it as .xlsx or CSV and upload it again."
    )
    assert refusal(b"hello", "notes.docx") == (
        "Files of type «.docx» cannot be imported: upload a .csv or .xlsx file."
    )


def test_broken_zip_named_xlsx():
    good = xlsx_bytes([["external_id", "name"], ["1", "A"]])
    for data in (b"PK\x03\x04 definitely not a zip", good[: len(good) // 2], b"plain text"):
        assert refusal(data, "clients.xlsx") == (
            "The file «clients.xlsx» is not a readable XLSX workbook (the archive is damaged)."
        )


def test_zip_that_is_not_a_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "not a readable XLSX workbook" in refusal(buffer.getvalue(), "clients.xlsx")


def test_xlsx_over_the_unzipped_size_limit(settings):
    settings.IMPORT_XLSX_MAX_UNZIPPED_BYTES = 1024 * 1024
    big = [["external_id", "name"]] + [[f"{i:06d}", "x" * 200] for i in range(6000)]
    data = xlsx_bytes(big)
    unzipped = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert len(data) < 1024 * 1024 < unzipped  # small on disk, large unpacked
    size = f"{unzipped / 1024 / 1024:.1f}"
    assert refusal(data, "big.xlsx") == (
        f"The workbook «big.xlsx» unpacks to {size} MB, more than the allowed 1 MB: "
        "save the data as CSV or split the file."
    )
    settings.IMPORT_XLSX_MAX_UNZIPPED_BYTES = 2 * unzipped
    assert read_table(data=data, filename="big.xlsx", kind="clients").header_row == 1


def test_xlsx_with_a_doctype_is_refused():
    data = xlsx_bytes([["external_id", "name"], ["1", "A"]])
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            content = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                assert content.startswith(b"<worksheet")  # openpyxl writes no declaration
                content = b'<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + content
            target.writestr(info, content)
    assert "the archive is damaged" in refusal(buffer.getvalue(), "evil.xlsx")


def test_xlsx_dates_leading_zeros_title_rows_and_named_sheet():
    rows = [
        ["Продажи за ноябрь"],
        [],
        ["Номер", "Дата", "ИНН", "Код номенклатуры", "Группа", "Количество", "Сумма"],
        ["00042", datetime(2026, 11, 2), "7707083893", "0001", "Трубы", 3.5, 1234.5],
        ["00043", date(2026, 11, 3), 7707083893, "0002", "Трубы", 2, 10],
    ]
    data = xlsx_bytes(rows, title="Продажи", extra_sheet="Прочее")
    result = read_table(data=data, filename="s.xlsx", kind="shipments")
    assert (result.format, result.sheet, result.header_row) == ("xlsx", "Продажи", 3)
    assert result.skipped_rows == (1,)  # row 2 is blank
    (r1, v1), (r2, v2) = rows_of(result)
    assert (r1, r2) == (4, 5)
    assert v1["date"] == date(2026, 11, 2) and v2["date"] == date(2026, 11, 3)
    assert (v1["doc_number"], v1["sku"], v1["qty"], v1["amount"]) == (
        "00042",
        "0001",
        "3.5",
        "1234.5",
    )
    assert (v2["inn"], v2["qty"]) == ("7707083893", "2")
    assert refusal(data, "s.xlsx", kind="shipments", sheet="Нет такого") == (
        "The workbook has no sheet «Нет такого»; its sheets are: «Продажи», «Прочее»."
    )


def test_xlsx_named_sheet_is_read():
    workbook = openpyxl.Workbook()
    first = workbook.active
    assert first is not None
    first.append(["cover"])
    second = workbook.create_sheet("Клиенты")
    second.append(["Код", "Наименование"])
    second.append(["007", "Бонд"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    result = read_table(data=buffer.getvalue(), filename="c.xlsx", kind="clients", sheet="Клиенты")
    assert result.sheet == "Клиенты"
    assert rows_of(result) == [(2, {"external_id": "007", "name": "Бонд"})]


def test_rows_are_streamed_one_pass():
    lines = [CLIENTS_HEADER] + [f"{i:05d};Name {i};;;;{i}" for i in range(5000)]
    result = read_table(data=csv_bytes(*lines), filename="c.csv", kind="clients")
    rows = result.iter_rows()
    assert next(rows).row == 2
    assert sum(1 for _ in rows) == 4999
    assert next(result.iter_rows(), None) is None


def test_refusal_in_russian():
    message = refusal(b"")
    with translation.override("ru"):
        assert str(ImportFileError("x")) == "x"
        with pytest.raises(ImportFileError) as info:
            read_table(data=b"", filename="clients.csv", kind="clients")
        assert str(info.value) == "Файл «clients.csv» пуст."
    assert message == "The file «clients.csv» is empty."


def test_xlsx_empty_sheet_and_header_only_sheet():
    assert refusal(xlsx_bytes([]), "c.xlsx") == "The file «c.xlsx» is empty."
    assert refusal(xlsx_bytes([["Код", "Наименование"]]), "c.xlsx") == (
        "The file «c.xlsx» has a header (row 1) but no data rows."
    )


def test_undecodable_byte_later_in_a_cp1251_file():
    data = csv_bytes(CLIENTS_HEADER, CLIENT_ROW, encoding="cp1251") + b"00124;\x98;;;;\r\n"
    assert refusal(data, "c.csv") == (
        "The text encoding of «c.csv» was not recognised: "
        "save the file as CSV in UTF-8 or Windows-1251."
    )


def test_a_field_over_the_csv_limit_names_its_row():
    data = csv_bytes(CLIENTS_HEADER, CLIENT_ROW) + b'00124;"' + b"x" * 200_000 + b'";;;;\r\n'
    expected = (
        "Row 3 has a cell longer than 131072 characters: check the delimiter and the quotes "
        "(a quote left open swallows the rest of the file)."
    )
    assert refusal(data, "c.csv") == expected  # within the first ten rows: while reading
    data = csv_bytes(CLIENTS_HEADER, *[CLIENT_ROW] * 20) + data[-200_010:]
    result = read_table(data=data, filename="c.csv", kind="clients")
    with pytest.raises(ImportFileError) as info:
        list(result.iter_rows())
    assert str(info.value) == expected.replace("Row 3", "Row 22")  # later: while streaming
