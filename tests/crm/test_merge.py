"""Duplicates are warned about; a head merges two cards and nothing is lost."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm import services
from crm.duplicates import likely_duplicates, normalized_name
from crm.models import (
    Activity,
    Client,
    ClientGrant,
    ClientMerge,
    DossierNote,
    SurveyAnswer,
    Task,
    WalletEstimate,
)
from tests.factories import ClientFactory, ContactFactory, ShipmentLineFactory, inn_with_checksum

pytestmark = pytest.mark.django_db


def test_names_are_compared_without_legal_forms_quotes_and_case():
    assert normalized_name("ООО «Северная Звезда»") == "северная звезда"
    assert normalized_name("Северная звезда, АО") == "северная звезда"
    assert normalized_name("ЗАО Ёлка-Плюс") == "елка плюс"


def test_form_warns_about_a_similar_name_in_the_region_and_needs_a_confirmation(
    company, as_user, km_anna, anna_client
):
    anna_client.name, anna_client.region = "ООО «Северная звезда»", "Тверь"
    anna_client.save()
    http = as_user(km_anna)
    data = {
        "name": "АО Северная Звезда",
        "inn": "",
        "kpp": "",
        "external_id": "",
        "region": "Тверь",
        "sales_type": "mixed",
    }
    response = http.post(reverse("crm:client_create"), data)
    assert response.status_code == 200
    assert response.context["duplicates"] == [anna_client]
    assert Client.objects.count() == 1
    response = http.post(reverse("crm:client_create"), {**data, "not_a_duplicate": "on"})
    assert response.status_code == 302
    assert Client.objects.count() == 2
    # A different region is not a duplicate.
    assert likely_duplicates(user=km_anna, name="Северная звезда", region="Омск") == []


def test_an_inn_in_another_teams_book_is_mentioned_without_details(
    company, as_user, km_anna, outsider_client
):
    response = as_user(km_anna).post(
        reverse("crm:client_create"),
        {
            "name": "Something else",
            "inn": outsider_client.inn,
            "kpp": "770101001",
            "external_id": "",
            "region": "",
            "sales_type": "mixed",
        },
    )
    assert response.context["inn_elsewhere"] is True
    assert response.context["duplicates"] == []
    assert outsider_client.name not in response.content.decode()


def test_merge_moves_everything_with_history_and_is_recorded(
    company, as_user, km_anna, km_boris, head_gleb, kam_oleg
):
    survivor = ClientFactory(owner=km_anna, name="ООО «Ромашка»")
    merged = ClientFactory(owner=km_boris, name="Ромашка ООО", inn=inn_with_checksum("500100999"))
    contact = ContactFactory(client=merged)
    ShipmentLineFactory.create_batch(3, client=merged, doc_date=dt.date(2026, 5, 1))
    estimate = WalletEstimate.objects.create(
        client=merged, kind="wallet", year=2026, amount=Decimal(5)
    )
    task = Task.objects.create(
        client=merged,
        title="Call",
        due_on=dt.date(2030, 1, 1),
        assignee=km_boris,
        created_by=km_boris,
    )
    Activity.objects.create(
        client=merged, kind="call", summary="x", performed_by=km_boris, entered_by=km_boris
    )
    note = DossierNote.objects.create(client=merged, text="Buys for three plants", author=km_boris)
    SurveyAnswer.objects.create(client=merged, kind="nps", score=9, entered_by=km_boris)
    ClientGrant.objects.create(client=merged, user=kam_oleg, reason="kam")
    ClientGrant.objects.create(client=survivor, user=kam_oleg, reason="kam")
    subsidiary = ClientFactory(owner=km_boris, parent=merged)

    http = as_user(head_gleb)
    preview = http.get(reverse("crm:client_merge", args=[survivor.pk, merged.pk]))
    assert preview.context["moved"]["shipment_lines"] == 3
    assert Client.objects.get(pk=merged.pk).merged_into is None  # a preview changes nothing
    response = http.post(
        reverse("crm:client_merge", args=[survivor.pk, merged.pk]), {"note": "Same company"}
    )
    assert response.status_code == 302

    assert survivor.shipment_lines.count() == 3
    assert survivor.activities.count() == 1
    assert survivor.survey_answers.count() == 1
    note.refresh_from_db()
    assert note.client == survivor
    assert note.history.latest("history_id").history_user == head_gleb
    contact.refresh_from_db()
    assert contact.client == survivor
    assert contact.history.latest("history_id").history_user == head_gleb
    estimate.refresh_from_db()
    task.refresh_from_db()
    subsidiary.refresh_from_db()
    assert (estimate.client, task.client, subsidiary.parent) == (survivor, survivor, survivor)
    assert ClientGrant.objects.filter(user=kam_oleg).count() == 1
    merged.refresh_from_db()
    assert merged.merged_into == survivor
    record = ClientMerge.objects.get()
    assert (record.survivor, record.merged, record.merged_by, record.note) == (
        survivor,
        merged,
        head_gleb,
        "Same company",
    )
    assert record.moved["contacts"] == 1
    # The retired card leads to the kept one, and is gone from lists.
    assert http.get(reverse("crm:client_detail", args=[merged.pk]))["Location"] == reverse(
        "crm:client_detail", args=[survivor.pk]
    )
    listed = [row["id"] for row in http.get("/api/v1/clients/").json()["results"]]
    assert survivor.pk in listed
    assert merged.pk not in listed
    card = http.get(reverse("crm:client_detail", args=[survivor.pk])).content.decode()
    assert "Merged into this card" in card
    assert "Ромашка ООО" in card


def test_merge_is_refused_to_managers_and_for_the_same_client(
    company, km_anna, head_gleb, anna_client, boris_client, outsider_client
):
    with pytest.raises(PermissionDenied):
        services.clients_merge(survivor=anna_client, merged=boris_client, acting_user=km_anna)
    with pytest.raises(ValidationError):
        services.clients_merge(survivor=anna_client, merged=anna_client, acting_user=head_gleb)
    with pytest.raises(ValidationError):
        services.clients_merge(survivor=anna_client, merged=outsider_client, acting_user=head_gleb)
    assert not ClientMerge.objects.exists()
    assert Client.objects.filter(merged_into__isnull=False).count() == 0


def test_holdings_keep_two_levels_through_a_merge(company, head_gleb, km_anna, km_boris):
    # A subsidiary merged with its own holding takes the holding's place.
    holding = ClientFactory(name="Holding", owner=km_anna)
    first = ClientFactory(name="First", owner=km_anna, parent=holding)
    second = ClientFactory(name="Second", owner=km_boris, parent=holding)
    services.clients_merge(survivor=first, merged=holding, acting_user=head_gleb)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.parent_id, second.parent_id) == (None, first.pk)
    assert first.history.latest("history_id").history_user == head_gleb

    # A holding merged into another holding's subsidiary: its subsidiaries
    # join the survivor's holding, not a third level.
    top = ClientFactory(name="Top", owner=km_anna)
    member = ClientFactory(name="Member", owner=km_anna, parent=top)
    versions = {second.pk: second.version}
    services.clients_merge(survivor=member, merged=first, acting_user=head_gleb)
    second.refresh_from_db()
    member.refresh_from_db()
    assert (member.parent_id, second.parent_id) == (top.pk, top.pk)
    assert second.version == versions[second.pk] + 1
