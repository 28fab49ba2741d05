"""Importing the client list: create, update only what changed, match branches, reject."""

from __future__ import annotations

import pytest
from django.utils import translation

from accounts.selectors import clients_visible_to
from crm.importers.writing import import_clients, import_file
from crm.models import Client, ImportRun, OwnershipChange
from tests.crm.importers._files import INN_A, INN_B, INN_C, csv_cp1251, csv_utf8, table_counts
from tests.factories import ClientFactory

HEADER = "Код;Наименование;ИНН;КПП;Регион;Тип продаж;Ответственный;Торговые точки"


def clients_file(*rows: str) -> bytes:
    return csv_cp1251("Список контрагентов", "", HEADER, *rows)


BASE = (
    f"K-1;ООО «Альфа»;{INN_A};770101001;Москва;стратегические;anna@example.test;3",
    f"K-2;ООО «Бета»;{INN_B};;Казань;транзакционные;boris@example.test;",
)


def history_count() -> int:
    return Client.history.model.objects.count()


def test_new_clients_get_owners_history_and_an_ownership_row(company, head_gleb, km_anna, km_boris):
    run = import_clients(data=clients_file(*BASE), filename="clients.csv", user=head_gleb)
    assert run.status == ImportRun.Status.SUCCEEDED, run.errors
    assert (run.rows_read, run.created, run.updated, run.unchanged) == (2, 2, 0, 0)
    assert (run.encoding, run.delimiter, run.header_row, run.file_format) == (
        "cp1251",
        ";",
        3,
        "csv",
    )
    assert len(run.checksum) == 64
    alpha = Client.objects.get(external_id="K-1")
    assert (alpha.name, alpha.inn, alpha.kpp, alpha.owner) == (
        "ООО «Альфа»",
        INN_A,
        "770101001",
        km_anna,
    )
    assert (alpha.sales_type, alpha.outlets, alpha.region) == ("strategic", 3, "Москва")
    beta = Client.objects.get(external_id="K-2")
    assert beta.owner == km_boris and beta.outlets is None
    record = alpha.history.get()
    assert record.history_type == "+" and record.history_user == head_gleb
    assert "clients.csv" in record.history_change_reason
    change = OwnershipChange.objects.get(client=alpha)
    assert (change.kind, change.from_user, change.to_user, change.changed_by) == (
        "import",
        None,
        km_anna,
        head_gleb,
    )


def test_the_same_file_twice_changes_nothing(company, head_gleb):
    data = clients_file(*BASE)
    import_clients(data=data, filename="clients.csv", user=head_gleb)
    before, history, ledger = table_counts(), history_count(), OwnershipChange.objects.count()
    versions = list(Client.objects.order_by("pk").values_list("version", "updated_at"))
    run = import_clients(data=data, filename="clients.csv", user=head_gleb)
    assert (run.status, run.created, run.updated, run.unchanged) == ("succeeded", 0, 0, 2)
    assert table_counts() == before
    assert history_count() == history
    assert OwnershipChange.objects.count() == ledger
    assert list(Client.objects.order_by("pk").values_list("version", "updated_at")) == versions


def test_an_edited_file_updates_only_the_changed_client(company, head_gleb, km_anna, km_boris):
    import_clients(data=clients_file(*BASE), filename="clients.csv", user=head_gleb)
    history = history_count()
    edited = (BASE[0].replace("Москва", "Тверь").replace("anna@", "boris@"), BASE[1])
    run = import_clients(data=clients_file(*edited), filename="clients-2.csv", user=head_gleb)
    assert (run.created, run.updated, run.unchanged) == (0, 1, 1)
    assert history_count() == history + 1
    alpha = Client.objects.get(external_id="K-1")
    assert (alpha.region, alpha.owner, alpha.version) == ("Тверь", km_boris, 2)
    latest = alpha.history.order_by("-history_id").first()
    assert latest.history_type == "~" and "clients-2.csv" in latest.history_change_reason
    move = OwnershipChange.objects.filter(client=alpha).order_by("-id").first()
    assert (move.kind, move.from_user, move.to_user) == ("import", km_anna, km_boris)


def test_a_new_code_with_the_same_inn_and_another_kpp_is_a_branch(company, head_gleb):
    import_clients(data=clients_file(BASE[0]), filename="a.csv", user=head_gleb)
    branch = f"K-1-SPB;ООО «Альфа» СПб;{INN_A};780101001;Санкт-Петербург;;;"
    run = import_clients(data=clients_file(branch), filename="b.csv", user=head_gleb)
    assert run.created == 1, run.errors
    assert Client.objects.filter(inn=INN_A).count() == 2
    assert Client.objects.get(external_id="K-1-SPB").owner == head_gleb  # the importing user


def test_same_inn_and_kpp_with_a_new_code_matches_the_client(company, head_gleb):
    existing = ClientFactory(external_id="OLD-1", inn=INN_A, kpp="770101001", owner=head_gleb)
    run = import_clients(data=clients_file(BASE[0]), filename="a.csv", user=head_gleb)
    assert (run.created, run.updated) == (0, 1), run.errors
    existing.refresh_from_db()
    assert existing.external_id == "K-1"


def test_inn_alone_matches_a_single_client(company, head_gleb):
    existing = ClientFactory(external_id="", inn=INN_C, kpp="770201001", owner=head_gleb)
    row = f"K-9;ООО «Гамма»;{INN_C};;;;;"
    run = import_clients(data=clients_file(row), filename="c.csv", user=head_gleb)
    assert (run.created, run.updated) == (0, 1), run.errors
    existing.refresh_from_db()
    assert (existing.external_id, existing.kpp) == ("K-9", "770201001")


def test_inn_alone_naming_two_clients_is_refused(company, head_gleb):
    ClientFactory(external_id="", inn=INN_C, kpp="770201001", owner=head_gleb)
    ClientFactory(external_id="", inn=INN_C, kpp="780201001", owner=head_gleb)
    before = table_counts()
    row = f"K-9;ООО «Гамма»;{INN_C};;;;;"
    run = import_clients(data=clients_file(row), filename="c.csv", user=head_gleb)
    assert run.status == "rejected"
    assert run.errors == [
        {
            "row": 4,
            "column": "ИНН",
            "value": INN_C,
            "message": "2 clients have this INN: give the client's code (or the KPP).",
        }
    ]
    assert table_counts() == before


def test_unknown_owner_rejects_the_whole_file(company, head_gleb):
    ClientFactory(owner=head_gleb)
    before = table_counts()
    bad = BASE[1].replace("boris@", "nobody@")
    run = import_clients(data=clients_file(BASE[0], bad), filename="c.csv", user=head_gleb)
    assert (run.status, run.rows_read, run.rejected) == ("rejected", 2, 1)
    assert run.errors[0]["row"] == 5 and run.errors[0]["column"] == "Ответственный"
    assert run.errors[0]["message"] == "No active user has this e-mail address."
    assert table_counts() == before
    assert ImportRun.objects.count() == 1


def test_errors_are_stored_in_the_language_of_the_import(company, head_gleb):
    bad = BASE[1].replace("boris@", "nobody@")
    with translation.override("ru"):
        run = import_clients(data=clients_file(bad), filename="c.csv", user=head_gleb)
    assert run.errors[0]["message"] != "No active user has this e-mail address."
    assert "e-mail" in run.errors[0]["message"] or "почт" in run.errors[0]["message"]


def test_a_new_client_without_owner_or_user_is_rejected(company):
    row = f"K-5;ООО «Дельта»;{INN_C};;;;;"
    run = import_clients(data=clients_file(row), filename="c.csv", user=None)
    assert run.status == "rejected"
    assert run.errors[0]["column"] == "Ответственный"


def test_dry_run_counts_but_writes_only_the_run(company, head_gleb):
    before = table_counts()
    run = import_clients(data=clients_file(*BASE), filename="c.csv", user=head_gleb, dry_run=True)
    assert (run.status, run.created, run.options["dry_run"]) == ("succeeded", 2, True)
    assert table_counts() == before


def test_utf8_comma_file_with_english_headers(company, head_gleb):
    data = csv_utf8("external_id,name,inn", f"E-1,Acme,{INN_A}")
    run = import_clients(data=data, filename="c.csv", user=head_gleb)
    assert (run.status, run.delimiter, run.encoding) == ("succeeded", ",", "utf-8")
    assert Client.objects.get(external_id="E-1").sales_type == "mixed"


def test_random_bytes_are_a_rejected_run(head_gleb):
    run = import_file(kind="clients", data=bytes(range(256)) * 4, filename="x.csv", user=head_gleb)
    assert run.status == "rejected"
    assert "not a text table" in run.errors[0]["message"]
    assert run.errors[0]["row"] is None


def test_a_crash_while_writing_leaves_the_data_and_fails_the_run(company, head_gleb, monkeypatch):
    import_clients(data=clients_file(BASE[0]), filename="a.csv", user=head_gleb)
    before, history = table_counts(), history_count()

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(OwnershipChange.objects, "bulk_create", boom)
    edited = (BASE[0].replace("Москва", "Тверь"), BASE[1])
    run = import_clients(data=clients_file(*edited), filename="b.csv", user=head_gleb)
    assert run.status == "failed"
    assert "disk on fire" in run.errors[0]["message"]
    assert table_counts() == before and history_count() == history
    assert Client.objects.get(external_id="K-1").region == "Москва"


@pytest.mark.parametrize("dup", ["K-1"])
def test_duplicate_codes_in_a_file_are_rejected(company, head_gleb, dup):
    run = import_clients(data=clients_file(BASE[0], BASE[0]), filename="c.csv", user=head_gleb)
    assert run.status == "rejected" and run.errors[0]["row"] == 5


def test_a_new_client_like_an_existing_one_is_imported_with_a_warning(company, admin_olga, km_anna):
    ClientFactory(external_id="OLD-1", name="АО «Северная звезда»", region="Москва", owner=km_anna)
    ClientFactory(external_id="OLD-2", name="ООО «Южный ветер»", region="Казань", owner=km_anna)
    data = clients_file(
        "K-7;ООО «Северная Звезда»;;;Москва;;;",  # the same name in the same region
        "K-8;ООО «Южный ветер»;;;Москва;;;",  # the same name, another region: no warning
    )
    run = import_clients(data=data, filename="clients.csv", user=admin_olga)
    assert (run.status, run.created) == ("succeeded", 2)
    warnings = [n for n in run.notes if "duplicate" in n]
    assert warnings == [
        "New client «ООО «Северная Звезда»» (K-7) may be a duplicate of "
        "«АО «Северная звезда»» (OLD-1)."
    ]


def test_a_head_import_names_only_owners_from_their_teams(company, head_gleb, outsider):
    data = clients_file(f"K-9;ООО «Гамма»;{INN_C};;Москва;;{outsider.email};")
    before = table_counts()
    scoped = import_file(
        kind="clients",
        data=data,
        filename="c.csv",
        user=head_gleb,
        scope=clients_visible_to(user=head_gleb),
    )
    assert scoped.status == "rejected"
    assert scoped.errors[0]["message"] == "You may not give clients to this user."
    assert table_counts() == before
    # The operator's command is not scoped: any active user may own the client.
    run = import_file(kind="clients", data=data, filename="c.csv", user=head_gleb)
    assert run.status == "succeeded"
    assert Client.objects.get(external_id="K-9").owner == outsider
