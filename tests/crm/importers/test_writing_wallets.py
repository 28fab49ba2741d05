"""Importing turnover and wallet estimates: drafts, verified ones by a head, idempotent."""

from __future__ import annotations

from decimal import Decimal

from crm.importers.writing import import_wallet_estimates
from crm.models import WalletEstimate
from tests.crm.importers._files import INN_A, csv_cp1251, table_counts
from tests.factories import ClientFactory

HEADER = "Код контрагента;ИНН;Год;Оборот;Потенциал;Номенклатурная группа;Основание;Статус"


def wallets(*rows: str) -> bytes:
    return csv_cp1251(HEADER, *rows)


def test_drafts_and_verified_estimates_by_a_head(company, head_gleb, km_anna):
    client = ClientFactory(external_id="K-1", inn=INN_A, owner=km_anna)
    data = wallets(
        "K-1;;2026;120 000 000;5 000 000;;эксперт;черновик",
        f";{INN_A};2026;;1 500 000;Крепёж;по точкам;проверено",
    )
    run = import_wallet_estimates(data=data, filename="w.csv", user=head_gleb)
    assert run.status == "succeeded", run.errors
    assert (run.created, run.unchanged) == (3, 0)
    estimates = WalletEstimate.objects.filter(client=client)
    turnover = estimates.get(kind="turnover")
    assert (turnover.amount, turnover.status, turnover.basis) == (
        Decimal("120000000.00"),
        "draft",
        "expert",
    )
    verified = estimates.get(status="verified")
    assert (verified.product_group.name, verified.reviewed_by) == ("Крепёж", head_gleb)
    assert verified.reviewed_at is not None and verified.entered_by == head_gleb
    assert verified.history.get().history_user == head_gleb

    again = import_wallet_estimates(data=data, filename="w.csv", user=head_gleb)
    assert (again.created, again.unchanged) == (0, 3)
    assert WalletEstimate.objects.count() == 3
    assert WalletEstimate.history.model.objects.count() == 3


def test_a_manager_may_not_import_verified_estimates(company, km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    before = table_counts()
    data = wallets("K-1;;2026;;5 000 000;;;черновик", "K-1;;2026;;6 000 000;;;verified")
    run = import_wallet_estimates(data=data, filename="w.csv", user=km_anna)
    assert (run.status, run.rejected) == ("rejected", 1)
    assert (run.errors[0]["row"], run.errors[0]["column"]) == (3, "Статус")
    assert table_counts() == before


def test_an_unknown_client_is_rejected(company, head_gleb):
    run = import_wallet_estimates(
        data=wallets("NOPE;;2026;;5 000 000;;;"), filename="w.csv", user=head_gleb
    )
    assert run.status == "rejected"
    assert run.errors[0]["column"] == "Код контрагента"
    assert not WalletEstimate.objects.exists()
