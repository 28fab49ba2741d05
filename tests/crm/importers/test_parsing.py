"""Cell parsers and whole-file validation: every error of every row, with its place."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import translation

from crm.importers import CellError, parse_rows, read_table
from crm.importers.parsing import (
    parse_choice,
    parse_date,
    parse_decimal,
    parse_inn,
    parse_integer,
    parse_kpp,
    parse_year,
)
from crm.importers.specs import SALES_TYPES, SPECS

SHIPMENTS_HEADER = "Номер;Дата;Код контрагента;ИНН;Артикул;Группа;Количество;Сумма;Себестоимость"


def parse_csv(kind: str, *lines: str):
    data = ("\r\n".join(lines) + "\r\n").encode("cp1251")
    return parse_rows(read_table(data=data, filename=f"{kind}.csv", kind=kind), kind)


def messages(outcome) -> list[str]:
    return [str(e) for e in outcome.errors]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1 234,50", "1234.50"),
        ("1\xa0234,50", "1234.50"),
        ("1\u202f234,5", "1234.5"),
        ("-1 234,5", "-1234.5"),
        ("3,5", "3.5"),
        ("1234.5", "1234.5"),
        (" 42 ", "42"),
        ("\u221210", "-10"),
    ],
)
def test_decimal_accepts_erp_spellings(text, expected):
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("abc", "This is not a number."),
        ("12a", "This is not a number."),
        ("1,2,3", "This is not a number."),
        ("1,234.50", "Use either a decimal comma or a decimal point, not both (write 1234,50)."),
        ("1,234", "At most 2 digits after the decimal point."),
        ("1" * 15, "This number is too large."),
    ],
)
def test_decimal_rejects(text, problem):
    with pytest.raises(CellError) as info:
        parse_decimal(text)
    assert str(info.value.message) == problem


def test_decimal_bounds_and_sign():
    assert parse_decimal("1,500", decimal_places=2) == Decimal("1.5")  # trailing zeros are fine
    with pytest.raises(CellError, match="zero or more"):
        parse_decimal("-1", non_negative=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("02.11.2026", date(2026, 11, 2)),
        ("2.1.2026", date(2026, 1, 2)),
        ("02.11.2026 0:00:00", date(2026, 11, 2)),
        ("2026-11-02", date(2026, 11, 2)),
        ("2026-11-02 13:45:00", date(2026, 11, 2)),
        ("2026-11-02T13:45", date(2026, 11, 2)),
        (date(2026, 11, 2), date(2026, 11, 2)),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


def test_bad_dates():
    with pytest.raises(CellError) as info:
        parse_date("11/02/2026")
    assert str(info.value.message) == "A date such as 31.12.2026 or 2026-12-31 is expected."
    with pytest.raises(CellError) as info:
        parse_date("31.02.2026")
    assert str(info.value.message) == "There is no such date."


def test_integers_years_codes():
    assert parse_integer("1 200") == 1200
    assert parse_integer("12,0") == 12
    for bad in ("12,5", "x", "-3"):
        with pytest.raises(CellError):
            parse_integer(bad)
    assert parse_year("2026") == 2026
    with pytest.raises(CellError) as info:
        parse_year("1999")
    assert str(info.value.message) == "A year from 2000 to 2100 is expected."
    assert parse_inn(" 7707083893 ") == "7707083893"
    assert parse_kpp("7701ab001") == "7701AB001"
    with pytest.raises(CellError) as info:
        parse_kpp("12345")
    assert str(info.value.message).startswith("A KPP has 9 characters")


def test_sales_type_words():
    assert parse_choice("Транзакционные", SALES_TYPES) == "transactional"
    assert parse_choice("смешанный", SALES_TYPES) == "mixed"
    assert parse_choice("КОНСУЛЬТАЦИОННЫЕ", SALES_TYPES) == "consultative"
    assert parse_choice("Стратегический", SALES_TYPES) == "strategic"
    assert parse_choice("strategic", SALES_TYPES) == "strategic"


def test_aliases_do_not_collide_within_a_kind():
    for spec in SPECS.values():
        names = [a for c in spec.columns for a in c.header_names()]
        assert len(names) == len(set(names)), spec.kind


def test_clients_every_error_of_every_row():
    outcome = parse_csv(
        "clients",
        "Отчёт по контрагентам",
        "Код;Наименование;ИНН;КПП;Тип продаж;Торговые точки;Ответственный",
        "00123;Ромашка;7707083893;770701001;Смешанные;3;anna@example.com",
        "00124;Лютик;7707083894;;Оптовые;-1;не почта",
        "00125;;12345;;;два;",
        "00123;Ромашка-2;;;;;",
    )
    assert outcome.rows_read == 4
    assert [r.row for r in outcome.rows] == [3]
    assert outcome.rows[0].values == {
        "external_id": "00123",
        "name": "Ромашка",
        "inn": "7707083893",
        "kpp": "770701001",
        "sales_type": "mixed",
        "outlets": 3,
        "owner_email": "anna@example.com",
    }
    assert messages(outcome) == [
        "Row 4, column «ИНН»: This INN has a wrong check digit: please check it for a typo.",
        "Row 4, column «Тип продаж»: Unknown value; expected one of: "
        "transactional, mixed, consultative, strategic.",
        "Row 4, column «Торговые точки»: The value must be zero or more.",
        "Row 4, column «Ответственный»: Enter a valid email address.",
        "Row 5, column «Наименование»: A value is required.",
        "Row 5, column «ИНН»: An INN has 10 digits (a company) or 12 digits (a sole trader).",
        "Row 5, column «Торговые точки»: A whole number is expected here.",
        "Row 6, column «Код»: This code already appears on row 3.",
    ]
    assert outcome.bad_rows == [4, 5, 6]
    error = outcome.errors[0]
    assert (error.row, error.column, error.value) == (4, "inn", "7707083894")


def test_shipments_typed_values_and_identical_lines_kept():
    line = "00042;02.11.2026 0:00:00;00007;;0001;Трубы;3,5;1\xa0234,50;"
    outcome = parse_csv("shipments", SHIPMENTS_HEADER, line, line)
    assert outcome.ok
    assert [r.row for r in outcome.rows] == [2, 3]
    values = outcome.rows[0].values
    assert values == {
        "doc_number": "00042",
        "date": date(2026, 11, 2),
        "client_external_id": "00007",
        "inn": "",
        "sku": "0001",
        "product_group": "Трубы",
        "qty": Decimal("3.5"),
        "amount": Decimal("1234.50"),
        "cost": None,
    }
    assert outcome.rows[1].values == values


def test_shipments_bad_cells():
    outcome = parse_csv(
        "shipments",
        SHIPMENTS_HEADER,
        "1;32.01.2026;;;A;G;много;12a;",
        "2;вчера;001;;A;G;-2;-100,5;abc",
    )
    assert messages(outcome) == [
        "Row 2, column «Дата»: There is no such date.",
        "Row 2, column «Количество»: This is not a number.",
        "Row 2, column «Сумма»: This is not a number.",
        "Row 2, column «Код контрагента»: Fill in «Код контрагента» or «ИНН».",
        "Row 3, column «Дата»: A date such as 31.12.2026 or 2026-12-31 is expected.",
        "Row 3, column «Себестоимость»: This is not a number.",
    ]  # negative qty and amount are returns, not errors


def test_wallet_estimates_defaults_and_choices():
    outcome = parse_csv(
        "wallet_estimates",
        "ИНН;Год;Оборот;Бюджет закупок;Основание;Статус",
        "7707083893;2026;10 000 000;2 500 000,00;Экспертная оценка;",
        "7707083893;1999;;-5;гадание;rejected",
    )
    assert outcome.rows[0].values == {
        "inn": "7707083893",
        "year": 2026,
        "turnover": Decimal("10000000"),
        "wallet": Decimal("2500000.00"),
        "basis": "expert",
        "status": "draft",
    }
    assert messages(outcome) == [
        "Row 3, column «Год»: A year from 2000 to 2100 is expected.",
        "Row 3, column «Бюджет закупок»: The value must be zero or more.",
        "Row 3, column «Основание»: Unknown value; expected one of: "
        "client, outlets, financials, expert.",
        "Row 3, column «Статус»: Unknown value; expected one of: draft, verified.",
    ]


def test_row_error_in_russian():
    outcome = parse_csv("clients", "Код;Наименование;ИНН", "001;А;7707083894")
    with translation.override("ru"):
        assert messages(outcome) == [
            "Строка 2, столбец «ИНН»: В ИНН неверная контрольная цифра: проверьте, нет ли опечатки."
        ]


def test_kind_must_match_the_reading():
    result = read_table(data=b"external_id;name\r\n1;A\r\n", filename="c.csv", kind="clients")
    with pytest.raises(ValueError, match="read as 'clients'"):
        parse_rows(result, "shipments")
