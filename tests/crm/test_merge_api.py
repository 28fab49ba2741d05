"""POST /api/v1/clients/{id}/merge/: a head merges a duplicate card, as on the merge page."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.models import Client, ClientMerge, ShipmentLine
from tests.factories import ContactFactory, ShipmentLineFactory

pytestmark = pytest.mark.django_db


def merge(http, survivor: Client | int, payload: dict):
    pk = survivor if isinstance(survivor, int) else survivor.pk
    return http.post(f"/api/v1/clients/{pk}/merge/", payload, content_type="application/json")


@pytest.fixture
def duplicate(boris_client):
    ShipmentLineFactory.create_batch(2, client=boris_client, doc_date=dt.date(2026, 5, 1))
    ContactFactory(client=boris_client)
    return boris_client


def test_preview_counts_and_changes_nothing(company, as_user, head_gleb, anna_client, duplicate):
    response = merge(as_user(head_gleb), anna_client, {"duplicate": duplicate.pk, "preview": True})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["preview"], body["survivor"]["id"], body["duplicate"]) == (
        True,
        anna_client.pk,
        duplicate.pk,
    )
    assert (body["moved"]["shipment_lines"], body["moved"]["contacts"]) == (2, 1)
    assert body["merged_at"] is None
    duplicate.refresh_from_db()
    assert duplicate.merged_into is None and not ClientMerge.objects.exists()
    assert ShipmentLine.objects.filter(client=duplicate).count() == 2


def test_merge_moves_everything_and_the_old_card_answers_as_merged(
    company, as_user, head_gleb, anna_client, duplicate
):
    http = as_user(head_gleb)
    response = merge(http, anna_client, {"duplicate": duplicate.pk, "note": "Same INN"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["preview"] is False and body["merged_at"] is not None
    assert body["moved"]["shipment_lines"] == 2
    assert ShipmentLine.objects.filter(client=anna_client).count() == 2
    record = ClientMerge.objects.get()
    assert (record.survivor, record.merged, record.merged_by, record.note) == (
        anna_client,
        duplicate,
        head_gleb,
        "Same INN",
    )
    retired = http.get(f"/api/v1/clients/{duplicate.pk}/")
    assert retired.status_code == 301
    assert retired["Location"].endswith(f"/api/v1/clients/{anna_client.pk}/")
    assert retired.json()["merged_into"] == anna_client.pk
    assert http.get(f"/api/v1/clients/{anna_client.pk}/").status_code == 200

    again = merge(http, anna_client, {"duplicate": duplicate.pk})
    assert again.status_code == 400
    assert again.json() == {"duplicate": ["This client is already merged into another card."]}
    from_retired = merge(http, duplicate, {"duplicate": anna_client.pk})
    assert from_retired.status_code == 400
    assert from_retired.json() == {
        "non_field_errors": ["This client is already merged into another card."]
    }


def test_a_manager_may_not_merge(company, as_user, km_anna, anna_client, duplicate):
    http = as_user(km_anna)
    for preview in (True, False):
        response = merge(http, anna_client, {"duplicate": duplicate.pk, "preview": preview})
        assert response.status_code == 403
        assert response.json() == {"detail": "Only a head of sales may merge clients."}
    assert not ClientMerge.objects.exists()


def test_clients_the_head_does_not_see(company, as_user, head_gleb, anna_client, outsider_client):
    http = as_user(head_gleb)
    assert merge(http, outsider_client, {"duplicate": anna_client.pk}).status_code == 404
    for pk in (outsider_client.pk, 987654):  # invisible and absent answer alike
        response = merge(http, anna_client, {"duplicate": pk})
        assert response.status_code == 400
        assert response.json() == {"duplicate": ["Unknown client, or one you may not see."]}
    assert not ClientMerge.objects.exists()
    outsider_client.refresh_from_db()
    assert outsider_client.merged_into is None


def test_a_card_is_not_merged_into_itself(company, as_user, head_gleb, anna_client):
    head_gleb.language = "ru"
    head_gleb.save()
    http = as_user(head_gleb)
    response = merge(http, anna_client, {"duplicate": anna_client.pk})
    assert response.status_code == 400
    assert response.json() == {"duplicate": ["Выберите двух разных клиентов для объединения."]}
    missing = merge(http, anna_client, {})
    assert missing.json() == {"duplicate": ["Обязательное поле."]}
    assert not ClientMerge.objects.exists()
