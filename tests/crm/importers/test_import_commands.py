"""The import management commands: a report, and a non-zero exit when nothing was imported."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from crm.models import Client, ImportRun, ShipmentLine
from tests.crm.importers._files import INN_A, csv_cp1251
from tests.factories import ClientFactory

CLIENTS = csv_cp1251(
    "Контрагенты",
    "Код;Наименование;ИНН;Ответственный;Лишняя колонка",
    f"K-1;ООО «Альфа»;{INN_A};anna@example.test;x",
)


def run_command(name: str, path, *args: str) -> tuple[str, str]:
    from io import StringIO

    out, err = StringIO(), StringIO()
    call_command(name, str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_clients_prints_a_report(tmp_path, km_anna, head_gleb):
    path = tmp_path / "clients.csv"
    path.write_bytes(CLIENTS)
    out, err = run_command("import_clients", path, "--user", "gleb@example.test")
    assert "encoding cp1251, delimiter ';'" in out
    assert "Header: row 2." in out
    assert "Rows above the header were skipped: 1." in out
    assert "«Лишняя колонка»" in out
    assert "created: 1" in out and err == ""
    assert Client.objects.get().owner == km_anna
    assert ImportRun.objects.get().started_by == head_gleb


def test_a_rejected_import_exits_non_zero_and_lists_errors(tmp_path, head_gleb):
    path = tmp_path / "clients.csv"
    path.write_bytes(CLIENTS)  # anna does not exist here
    with pytest.raises(CommandError, match="rejected"):
        run_command("import_clients", path, "--user", "gleb@example.test")
    assert not Client.objects.exists()
    assert ImportRun.objects.get().status == "rejected"


def test_error_lines_are_capped(tmp_path, capsys, head_gleb):
    rows = [f"K-{n};Имя;{INN_A};nobody@example.test" for n in range(205)]
    path = tmp_path / "clients.csv"
    path.write_bytes(csv_cp1251("Код;Наименование;ИНН;Ответственный", *rows))
    from io import StringIO

    err = StringIO()
    with pytest.raises(CommandError):
        call_command("import_clients", str(path), "--user", "gleb@example.test", stderr=err)
    lines = err.getvalue().splitlines()
    assert lines[0].startswith("row 2, column Ответственный: ")
    assert len(lines) == 201 and lines[-1] == "… and 5 more"


def test_random_bytes_through_the_command(tmp_path, head_gleb):
    path = tmp_path / "junk.csv"
    path.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(CommandError):
        run_command("import_shipments", path)
    run = ImportRun.objects.get()
    assert (run.status, run.kind) == ("rejected", "shipments")
    assert "binary data" in run.errors[0]["message"]


def test_an_unknown_user_is_a_command_error(tmp_path, db):
    path = tmp_path / "clients.csv"
    path.write_bytes(CLIENTS)
    with pytest.raises(CommandError, match=r"nobody@example\.test"):
        run_command("import_clients", path, "--user", "nobody@example.test")
    assert not ImportRun.objects.exists()


def test_shipments_with_create_missing_clients_and_dry_run(tmp_path, km_anna):
    path = tmp_path / "sales.csv"
    path.write_bytes(
        csv_cp1251(
            "Номер;Дата;Код контрагента;Контрагент;Артикул;Группа;Количество;Сумма",
            "РН-1;02.11.2026;NEW;ООО «Новый»;A-1;Крепёж;1;100",
        )
    )
    out, _err = run_command(
        "import_shipments",
        path,
        "--user",
        "anna@example.test",
        "--create-missing-clients",
        "--dry-run",
    )
    assert "Dry run" in out and not Client.objects.exists()
    run_command("import_shipments", path, "--user", "anna@example.test", "--create-missing-clients")
    assert ShipmentLine.objects.get().client.owner == km_anna


def test_import_wallets_command(tmp_path, head_gleb):
    ClientFactory(external_id="K-1", owner=head_gleb)
    path = tmp_path / "w.csv"
    path.write_bytes(csv_cp1251("Код контрагента;Год;Потенциал", "K-1;2026;1000"))
    out, _err = run_command("import_wallets", path, "--user", "gleb@example.test")
    assert "created: 1" in out
