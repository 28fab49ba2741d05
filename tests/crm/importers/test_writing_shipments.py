"""Importing shipment lines: documents replaced as a whole, untouched when unchanged."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection

from crm.importers.writing import import_shipments
from crm.models import Client, OwnershipChange, Product, ProductGroup, ShipmentLine
from tests.crm.importers._files import INN_A, INN_C, csv_cp1251, table_counts, xlsx
from tests.factories import ClientFactory, ProductFactory, ProductGroupFactory


@pytest.fixture(autouse=True, params=["portable", "copy"])
def import_path(request, settings):
    """Every test here runs on both paths; the COPY path exists on PostgreSQL only."""
    if request.param == "copy" and connection.vendor != "postgresql":
        pytest.skip("the COPY path needs PostgreSQL")
    settings.IMPORT_FAST_PATH = request.param == "copy"
    return request.param


HEADER = (
    "Номер;Дата;Код контрагента;ИНН;Контрагент;Артикул;Номенклатура;Группа;"
    "Количество;Сумма;Себестоимость"
)


def shipments(*rows: str) -> bytes:
    return csv_cp1251("Продажи за период", HEADER, *rows)


def lines_of(number: str, day: date) -> list[tuple]:
    return sorted(
        ShipmentLine.objects.filter(doc_number=number, doc_date=day).values_list(
            "product__sku", "qty", "amount", "cost"
        )
    )


def test_lines_products_and_groups_are_created(km_anna):
    client = ClientFactory(external_id="K-1", owner=km_anna)
    data = shipments(
        "РН-1;02.11.2026 0:00:00;K-1;;;A-1;Болт;Крепёж;3,5;1 234,50;900",
        "РН-1;02.11.2026;K-1;;;A-1;Болт;Крепёж;3,5;1 234,50;900",
        "РН-1;02.11.2026;K-1;;;B-2;Гайка;Крепёж;-1;-100;",
    )
    run = import_shipments(data=data, filename="sales.csv", user=km_anna)
    assert run.status == "succeeded", run.errors
    assert (run.rows_read, run.created, run.updated, run.unchanged) == (3, 1, 0, 0)
    lines = ShipmentLine.objects.filter(client=client)
    assert lines.count() == 3  # two identical lines kept
    assert set(lines.values_list("import_run_id", flat=True)) == {run.pk}
    assert lines_of("РН-1", date(2026, 11, 2))[-1] == (
        "B-2",
        Decimal("-1.000"),
        Decimal("-100.00"),
        None,
    )
    assert Product.objects.get(sku="A-1").group.name == "Крепёж"


def test_a_corrected_reexport_replaces_only_that_document(km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    first = [
        "РН-1;02.11.2026;K-1;;;A-1;Болт;Крепёж;1;100;",
        "РН-1;02.11.2026;K-1;;;A-2;Винт;Крепёж;1;200;",
        "РН-2;03.11.2026;K-1;;;A-1;Болт;Крепёж;5;500;",
    ]
    import_shipments(data=shipments(*first), filename="s.csv", user=km_anna)
    untouched = set(ShipmentLine.objects.filter(doc_number="РН-2").values_list("pk", flat=True))
    again = import_shipments(data=shipments(*first), filename="s.csv", user=km_anna)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    corrected = [first[0], first[1].replace(";200;", ";250;"), first[2]]
    run = import_shipments(data=shipments(*corrected), filename="s2.csv", user=km_anna)
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert [line[2] for line in lines_of("РН-1", date(2026, 11, 2))] == [
        Decimal("100.00"),
        Decimal("250.00"),
    ]
    assert set(ShipmentLine.objects.filter(doc_number="РН-2").values_list("pk", flat=True)) == (
        untouched
    )
    assert ShipmentLine.objects.count() == 3


def test_the_same_number_on_two_dates_is_two_documents(km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    data = shipments(
        "1;30.12.2025;K-1;;;A-1;Болт;Крепёж;1;100;",
        "1;05.01.2026;K-1;;;A-1;Болт;Крепёж;2;200;",
    )
    run = import_shipments(data=data, filename="s.csv", user=km_anna)
    assert run.created == 2
    only_2026 = shipments("1;05.01.2026;K-1;;;A-1;Болт;Крепёж;3;300;")
    import_shipments(data=only_2026, filename="s2.csv", user=km_anna)
    assert lines_of("1", date(2025, 12, 30))[0][2] == Decimal("100.00")
    assert lines_of("1", date(2026, 1, 5))[0][2] == Decimal("300.00")


def test_an_unknown_client_rejects_the_file(km_anna):
    ProductGroupFactory(name="Крепёж")
    before = table_counts()
    data = shipments(
        "РН-1;02.11.2026;NEW-1;;ООО «Новый»;A-1;Болт;Крепёж;1;100;",
        "РН-2;02.11.2026;NEW-1;;ООО «Новый»;A-1;Болт;Крепёж;1;100;",
    )
    run = import_shipments(data=data, filename="s.csv", user=km_anna)
    assert run.status == "rejected" and run.rejected == 2
    assert [(e["row"], e["column"], e["value"]) for e in run.errors] == [
        (3, "Код контрагента", "NEW-1"),
        (4, "Код контрагента", "NEW-1"),
    ]
    assert run.errors[0]["message"] == "No client has this code or INN."
    assert table_counts() == before


def test_create_missing_clients_creates_them_for_the_importing_user(km_anna):
    data = shipments(
        f"РН-1;02.11.2026;NEW-1;{INN_C};ООО «Новый»;A-1;Болт;Крепёж;1;100;",
        f"РН-2;03.11.2026;;{INN_C};;A-1;Болт;Крепёж;1;100;",
    )
    run = import_shipments(data=data, filename="s.csv", user=km_anna, create_missing_clients=True)
    assert run.status == "succeeded", run.errors
    client = Client.objects.get(external_id="NEW-1")
    assert (client.name, client.inn, client.owner) == ("ООО «Новый»", INN_C, km_anna)
    assert client.shipment_lines.count() == 2
    assert client.history.count() == 1
    assert OwnershipChange.objects.get(client=client).kind == "import"


def test_create_missing_clients_needs_a_name(km_anna):
    data = shipments("РН-1;02.11.2026;NEW-1;;;A-1;Болт;Крепёж;1;100;")
    run = import_shipments(data=data, filename="s.csv", user=km_anna, create_missing_clients=True)
    assert run.status == "rejected"
    assert not Client.objects.exists()


def test_inn_alone_finds_the_client_and_products_are_renamed_and_moved(km_anna):
    client = ClientFactory(external_id="K-1", inn=INN_A, owner=km_anna)
    ProductFactory(sku="A-1", name="Старое", group=ProductGroupFactory(name="Старая"))
    data = shipments(f"РН-1;02.11.2026;;{INN_A};;A-1;Новое;Новая;1;100;")
    run = import_shipments(data=data, filename="s.csv", user=km_anna)
    assert run.status == "succeeded", run.errors
    assert ShipmentLine.objects.get().client == client
    product = Product.objects.get(sku="A-1")
    assert (product.name, product.group.name) == ("Новое", "Новая")
    assert ProductGroup.objects.count() == 2


def test_a_workbook_is_imported(km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    data = xlsx(
        [
            ["Номер", "Дата", "Код контрагента", "Артикул", "Группа", "Количество", "Сумма"],
            ["РН-1", date(2026, 11, 2), "K-1", "A-1", "Крепёж", 2, 150.5],
        ]
    )
    run = import_shipments(data=data, filename="s.xlsx", user=km_anna)
    assert (run.status, run.file_format, run.sheet) == ("succeeded", "xlsx", "Лист1"), run.errors
    assert ShipmentLine.objects.get().amount == Decimal("150.50")


def _fail_inserts_of_lines() -> None:
    """A database failure after the old lines are deleted, whatever path writes them."""
    table = ShipmentLine._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'killed'; END $$"
            )
            cursor.execute(
                f"CREATE TRIGGER test_boom BEFORE INSERT ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION test_boom()"
            )
        else:
            cursor.execute(
                f"CREATE TRIGGER test_boom BEFORE INSERT ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'killed'); END"
            )


def test_a_crash_while_writing_lines_leaves_the_documents(km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    import_shipments(
        data=shipments("РН-1;02.11.2026;K-1;;;A-1;Болт;Крепёж;1;100;"), filename="a.csv", user=None
    )
    before = table_counts()
    _fail_inserts_of_lines()
    run = import_shipments(
        data=shipments("РН-1;02.11.2026;K-1;;;A-1;Болт;Крепёж;7;700;"), filename="b.csv", user=None
    )
    assert run.status == "failed"
    assert table_counts() == before
    assert ShipmentLine.objects.get().amount == Decimal("100.00")
