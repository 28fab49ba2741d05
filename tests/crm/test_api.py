"""The clients and contacts API: same rules as the pages, errors name the field."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from crm.models import Client, Contact, OwnershipChange
from tests.factories import ClientFactory, ContactFactory, inn_with_checksum

pytestmark = pytest.mark.django_db

INN = inn_with_checksum("500100732")


def post(http, url, data):
    return http.post(url, data, content_type="application/json")


def test_create_client_records_owner_and_history(company, as_user, km_anna):
    response = post(
        as_user(km_anna),
        "/api/v1/clients/",
        {"name": "ООО «Api»", "inn": INN, "external_id": "API-1"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["owner"]["email"] == km_anna.email
    client = Client.objects.get(pk=body["id"])
    assert client.history.get().history_user == km_anna
    assert OwnershipChange.objects.get(client=client).kind == "initial"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "X", "inn": "1234567890"}, "inn"),
        ({"name": "X", "inn": INN, "kpp": "bad"}, "kpp"),
        ({"name": "", "inn": INN}, "name"),
        ({"name": "X", "sales_type": "barter"}, "sales_type"),
        ({"name": "X", "outlets": -1}, "outlets"),
        ({"name": "X", "owner_id": 987654}, "owner_id"),
        ({"name": "X", "kpp": "770101001"}, "kpp"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(company, as_user, km_anna, payload, field):
    response = post(as_user(km_anna), "/api/v1/clients/", payload)
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not Client.objects.exists()
    assert not OwnershipChange.objects.exists()


def test_duplicate_external_id_is_a_field_error(company, as_user, km_anna, anna_client):
    response = post(
        as_user(km_anna),
        "/api/v1/clients/",
        {"name": "Copy", "external_id": anna_client.external_id},
    )
    assert response.status_code == 400
    assert response.json() == {"external_id": ["A client with this external id already exists."]}
    assert Client.objects.count() == 1


def test_error_messages_follow_the_language(company, as_user, km_anna):
    km_anna.language = "ru"
    km_anna.save()
    response = post(as_user(km_anna), "/api/v1/clients/", {"name": "X", "inn": "12345"})
    assert response.json()["inn"] == [
        "ИНН состоит из 10 цифр (организация) или 12 цифр (индивидуальный предприниматель)."
    ]


def test_head_may_choose_an_owner_from_the_team_only(
    company, as_user, head_gleb, km_boris, outsider
):
    http = as_user(head_gleb)
    response = post(http, "/api/v1/clients/", {"name": "Team", "owner_id": km_boris.pk})
    assert response.status_code == 201
    assert Client.objects.get().owner == km_boris
    response = post(http, "/api/v1/clients/", {"name": "Foreign", "owner_id": outsider.pk})
    assert response.status_code == 400
    assert "owner_id" in response.json()


def test_owner_is_not_writable_through_an_update(company, as_user, km_anna, km_boris, anna_client):
    response = as_user(km_anna).patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"owner_id": km_boris.pk, "region": "Омск"},
        content_type="application/json",
    )
    assert response.status_code == 400
    anna_client.refresh_from_db()
    assert (anna_client.owner, anna_client.region) == (km_anna, "Москва")


def test_update_with_a_stale_version_is_a_conflict(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    version = anna_client.version
    ok = http.patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"region": "Омск", "version": version},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["version"] == version + 1
    stale = http.patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"region": "Тула", "version": version},
        content_type="application/json",
    )
    assert stale.status_code == 400
    assert "Someone else changed this client" in stale.json()["non_field_errors"][0]
    anna_client.refresh_from_db()
    assert anna_client.region == "Омск"


def test_clients_cannot_be_deleted_through_the_api(company, as_user, km_anna, anna_client):
    assert as_user(km_anna).delete(f"/api/v1/clients/{anna_client.pk}/").status_code == 405
    assert Client.objects.filter(pk=anna_client.pk).exists()


def test_list_filters_search_and_pagination(
    company, as_user, km_anna, django_assert_max_num_queries
):
    ClientFactory.create_batch(55, owner=km_anna, region="Пермь")
    special = ClientFactory(owner=km_anna, name="ООО «Особый»", region="Омск")
    http = as_user(km_anna)
    with django_assert_max_num_queries(8):
        page = http.get("/api/v1/clients/").json()
    assert page["count"] == 56
    assert len(page["results"]) == 50
    assert page["next"]
    assert [c["id"] for c in http.get("/api/v1/clients/?q=Особ").json()["results"]] == [special.pk]
    assert http.get("/api/v1/clients/?region=омск").json()["count"] == 1
    bad = http.get("/api/v1/clients/?sales_type=barter")
    assert bad.status_code == 400
    assert "sales_type" in bad.json()


def test_contacts_create_and_cycle_refused(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    boss = post(
        http,
        "/api/v1/contacts/",
        {"client": anna_client.pk, "full_name": "Boss", "decision_role": "decision_maker"},
    )
    assert boss.status_code == 201, boss.json()
    deputy = post(
        http,
        "/api/v1/contacts/",
        {"client": anna_client.pk, "full_name": "Deputy", "reports_to": boss.json()["id"]},
    )
    assert deputy.status_code == 201
    cycle = http.patch(
        f"/api/v1/contacts/{boss.json()['id']}/",
        {"reports_to": deputy.json()["id"]},
        content_type="application/json",
    )
    assert cycle.status_code == 400
    assert "reports_to" in cycle.json()
    assert Contact.objects.get(pk=boss.json()["id"]).reports_to is None


def test_contact_of_a_read_only_client_cannot_be_changed(company, as_user, km_anna, boris_client):
    from crm.models import ClientGrant

    ClientGrant.objects.create(client=boris_client, user=km_anna, reason="co_owner", level="read")
    contact = ContactFactory(client=boris_client, full_name="Original")
    response = as_user(km_anna).patch(
        f"/api/v1/contacts/{contact.pk}/", {"full_name": "Changed"}, content_type="application/json"
    )
    assert response.status_code == 403
    contact.refresh_from_db()
    assert contact.full_name == "Original"


def test_malformed_json_is_a_400(company, as_user, km_anna):
    response = as_user(km_anna).post(
        "/api/v1/clients/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400


def test_openapi_schema_generates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/v1/clients/" in text
    assert "/api/v1/contacts/" in text


def test_api_docs_page_serves_local_assets(as_user, km_anna):
    page = as_user(km_anna).get("/api/docs/").content.decode()
    assert "swagger" in page.lower()
    assert "cdn" not in page.lower()


def test_reassign_through_the_api(
    company, as_user, head_gleb, km_anna, km_boris, outsider, anna_client
):
    url = f"/api/v1/clients/{anna_client.pk}/reassign/"
    assert post(as_user(km_anna), url, {"new_owner_id": km_boris.pk}).status_code == 403
    refused = post(as_user(head_gleb), url, {"new_owner_id": outsider.pk})
    assert refused.status_code == 400
    assert "new_owner_id" in refused.json()
    anna_client.refresh_from_db()
    assert anna_client.owner == km_anna
    done = post(as_user(head_gleb), url, {"new_owner_id": km_boris.pk, "note": "cover"})
    assert done.status_code == 200
    assert done.json()["owner"]["id"] == km_boris.pk
    assert anna_client.ownership_changes.filter(kind="reassignment").count() == 1
    assert post(as_user(outsider), url, {"new_owner_id": outsider.pk}).status_code == 404
