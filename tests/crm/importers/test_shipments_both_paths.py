"""The COPY path on PostgreSQL and the portable path answer every file alike.

The same bad file must give the same errors, row for row and word for word,
whichever path reads it; cells SQL doubts but the rules accept are imported.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from crm.importers.writing import import_shipments
from crm.models import Client, ShipmentLine
from tests.crm.importers._files import INN_A, csv_cp1251, csv_utf8, table_counts
from tests.factories import ClientFactory

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the COPY path needs PostgreSQL"
)

HEADER = "Номер;Дата;Код контрагента;ИНН;Контрагент;Артикул;Группа;Количество;Сумма;Себестоимость"

BAD_FILE = csv_cp1251(
    "Продажи",
    HEADER,
    "РН-1;02.11.2026;K-1;;;A-1;Крепёж;1;100;",
    "РН-2;31.02.2026;K-1;;;A-1;Крепёж;1;100;",  # no such date
    "РН-3;2026/11/02;K-1;;;A-1;Крепёж;1;100;",  # not a date format
    "РН-4;02.11.2026;K-1;;;A-1;Крепёж;много;100;",  # text in a number column
    "РН-5;02.11.2026;K-1;;;A-1;Крепёж;1;1,234.50;",  # both separators
    "РН-6;02.11.2026;K-1;;;A-1;Крепёж;1;100,555;",  # too many decimals
    "РН-7;02.11.2026;;7700000000;;A-1;Крепёж;1;100;",  # bad INN checksum
    "РН-8;02.11.2026;;;;A-1;Крепёж;1;100;",  # neither code nor INN
    "РН-9;02.11.2026;K-404;;;A-1;Крепёж;1;100;",  # unknown client
    ";02.11.2026;K-1;;;;Крепёж;;100;",  # three required cells empty
    "РН-10;02.11.2026;K-1;;;A-1;Крепёж;1;100;-5",  # a negative cost is a number
)


def _errors(settings, fast: bool, data: bytes) -> list[dict]:
    settings.IMPORT_FAST_PATH = fast
    run = import_shipments(data=data, filename="bad.csv", user=None)
    assert run.status == "rejected"
    return run.errors


def test_the_same_bad_file_gives_the_same_errors_on_both_paths(settings, km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    before = table_counts()
    portable = _errors(settings, False, BAD_FILE)
    copy = _errors(settings, True, BAD_FILE)
    assert copy == portable
    assert {e["row"] for e in copy} == set(range(4, 13))
    assert table_counts() == before
    messages = {e["row"]: e["message"] for e in copy}
    assert messages[4] == "There is no such date."
    assert messages[10] == "Fill in «Код контрагента» or «ИНН»."
    assert messages[11] == "No client has this code or INN."


def test_cells_sql_doubts_but_the_rules_accept_are_imported(settings, km_anna):
    settings.IMPORT_FAST_PATH = True
    client = ClientFactory(external_id="K-1", inn=INN_A, owner=km_anna)
    data = csv_utf8(
        HEADER,
        "РН-1;02.11.2026;K-1;;;A-1;Крепёж;5.;0000000000000012;",  # odd but valid numbers
        f"РН-1;02.11.2026;;{INN_A};;A-2;Крепёж;\u22122;1\u00a0000,50;1 000",
    )
    run = import_shipments(data=data, filename="odd.csv", user=None)
    assert run.status == "succeeded", run.errors
    lines = sorted(ShipmentLine.objects.filter(client=client).values_list("qty", "amount", "cost"))
    assert lines == [
        (Decimal("-2.000"), Decimal("1000.50"), Decimal("1000.00")),
        (Decimal("5.000"), Decimal("12.00"), None),
    ]


@pytest.mark.parametrize("fast", [False, True])
def test_skip_invalid_leaves_out_whole_documents_with_a_bad_line(settings, km_anna, fast):
    settings.IMPORT_FAST_PATH = fast
    ClientFactory(external_id="K-1", owner=km_anna)
    data = csv_cp1251(
        HEADER,
        "РН-1;02.11.2026;K-1;;;A-1;Крепёж;1;100;",
        "РН-1;02.11.2026;K-1;;;A-2;Крепёж;оч;100;",  # bad line: РН-1 waits whole
        "РН-2;03.11.2026;K-1;;;A-1;Крепёж;2;200;",
        "РН-3;03.11.2026;K-9;;;A-1;Крепёж;2;200;",  # unknown client: РН-3 waits
    )
    run = import_shipments(data=data, filename="s.csv", user=None, skip_invalid=True)
    assert run.status == "partial"
    assert [(e["row"], e["column"]) for e in run.errors] == [
        (3, "Количество"),
        (5, "Код контрагента"),
    ]
    assert run.created == 1
    assert list(ShipmentLine.objects.values_list("doc_number", "doc_date")) == [
        ("РН-2", date(2026, 11, 3))
    ]


def test_a_second_import_of_the_same_file_writes_nothing(settings, km_anna):
    settings.IMPORT_FAST_PATH = True
    ClientFactory(external_id="K-1", owner=km_anna)
    data = csv_cp1251(
        HEADER,
        "РН-1;02.11.2026;K-1;;;A-1;Крепёж;1;100;",
        "РН-1;02.11.2026;K-1;;;A-1;Крепёж;1;100;",
        "РН-2;03.11.2026;NEW;;ООО «Новый»;A-2;Сантехника;2;200,10;150",
    )
    first = import_shipments(data=data, filename="s.csv", user=km_anna, create_missing_clients=True)
    assert (first.status, first.created) == ("succeeded", 2)
    assert Client.objects.filter(external_id="NEW", owner=km_anna).exists()
    ids = set(ShipmentLine.objects.values_list("pk", flat=True))
    before = table_counts()
    again = import_shipments(data=data, filename="s.csv", user=km_anna, create_missing_clients=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert set(ShipmentLine.objects.values_list("pk", flat=True)) == ids
    assert table_counts() == before


def test_staging_tables_are_dropped(settings, km_anna):
    settings.IMPORT_FAST_PATH = True
    ClientFactory(external_id="K-1", owner=km_anna)
    import_shipments(
        data=csv_cp1251(HEADER, "РН-1;02.11.2026;K-1;;;A-1;Крепёж;1;100;"),
        filename="s.csv",
        user=None,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'import\\_%%'")
        assert cursor.fetchone()[0] == 0
