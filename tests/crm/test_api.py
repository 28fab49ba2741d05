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


def test_update_with_a_stale_version_is_a_conflict(
    company, as_user, km_anna, head_gleb, anna_client
):
    http = as_user(km_anna)
    version = anna_client.version
    ok = http.patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"region": "Омск", "version": version},
        content_type="application/json",
    )
    assert ok.status_code == 200
    assert ok.json()["version"] == version + 1
    loaded = ok.json()["version"]
    moved = as_user(head_gleb).patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"region": "Тула", "version": loaded},
        content_type="application/json",
    )
    assert moved.status_code == 200
    stale = http.patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"name": "Overwrite", "version": loaded},
        content_type="application/json",
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["changed_fields"] == [
        {"field": "region", "label": "region", "old": "Омск", "new": "Тула"}
    ]
    assert body["changed_by"] == "Gleb Nowak"
    assert body["detail"].startswith("Gleb Nowak changed this client while you were editing it")
    anna_client.refresh_from_db()
    assert (anna_client.name, anna_client.region) == ("ООО «Анна»", "Тула")


def test_an_update_without_the_version_read_is_refused(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).patch(
        f"/api/v1/clients/{anna_client.pk}/", {"region": "Омск"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["version"]
    anna_client.refresh_from_db()
    assert anna_client.region == "Москва"


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
        {"reports_to": deputy.json()["id"], "version": boss.json()["version"]},
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


def test_a_holding_is_set_through_the_api_and_has_two_levels(
    company, as_user, km_anna, boris_client
):
    holding = ClientFactory(name="Holding", owner=km_anna)
    subsidiary = ClientFactory(name="Subsidiary", owner=km_anna)
    other = ClientFactory(name="Other", owner=km_anna)
    http = as_user(km_anna)

    def set_parent(client, parent_id):
        client.refresh_from_db()
        return http.patch(
            f"/api/v1/clients/{client.pk}/",
            {"parent": parent_id, "version": client.version},
            content_type="application/json",
        )

    assert set_parent(subsidiary, holding.pk).status_code == 200
    subsidiary.refresh_from_db()
    assert subsidiary.parent == holding
    record = subsidiary.history.latest("history_id")
    assert (record.parent_id, record.prev_record.parent_id, record.history_user) == (
        holding.pk,
        None,
        km_anna,
    )
    refusals = {
        "own": (other, other.pk, "A client cannot be its own holding."),
        "below a subsidiary": (
            other,
            subsidiary.pk,
            "Subsidiary belongs to a holding itself: choose the holding at the top.",
        ),
        "a holding under another": (
            holding,
            other.pk,
            "This client is the holding of its own subsidiaries: "
            "it cannot belong to another holding.",
        ),
    }
    for case, (client, parent_id, message) in refusals.items():
        response = set_parent(client, parent_id)
        assert response.status_code == 400, case
        assert response.json() == {"parent": [message]}, case
    unseen = set_parent(other, boris_client.pk)  # a client one does not see
    assert unseen.status_code == 400
    assert list(unseen.json()) == ["parent"]
    parents = dict(
        Client.objects.filter(pk__in=[holding.pk, subsidiary.pk, other.pk]).values_list(
            "name", "parent_id"
        )
    )
    assert parents == {"Holding": None, "Subsidiary": holding.pk, "Other": None}


def test_a_task_for_each_selected_client_through_the_api(
    company, as_user, km_anna, km_boris, head_gleb, anna_client, boris_client
):
    import datetime as dt

    from django.utils import timezone

    from crm.models import ClientGrant, Task

    read_only = ClientFactory(name="Read only", owner=km_boris, region="Тверь")
    ClientGrant.objects.create(client=read_only, user=km_anna, reason="support", level="read")
    tverskoy = ClientFactory(name="Tverskoy", owner=km_anna, region="Тверь")
    due = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    task = {"title": "Call about the autumn order", "kind": "touch", "due_on": due}
    http = as_user(km_anna)
    url = "/api/v1/clients/bulk-task/"

    unseen = post(http, url, {**task, "clients": [anna_client.pk, boris_client.pk]})
    assert unseen.status_code == 400
    assert unseen.json() == {
        "clients": [f"Unknown clients, or ones you cannot see: {boris_client.pk}."]
    }
    past = post(http, url, {**task, "due_on": "2020-01-01", "clients": [anna_client.pk]})
    assert past.status_code == 400 and list(past.json()) == ["due_on"]
    assert not Task.objects.exists()

    # The filters of the list choose the selection: the clients of Tver.
    response = post(http, f"{url}?region=Тверь", task)
    assert response.status_code == 201
    assert response.json() == {
        "created": [tverskoy.pk],
        "only_readable": [read_only.pk],
        "failed": [],
    }
    assert [(t.client, t.assignee, t.kind) for t in Task.objects.all()] == [
        (tverskoy, km_anna, "touch")
    ]

    given = post(
        as_user(head_gleb),
        url,
        {**task, "clients": [anna_client.pk, boris_client.pk], "to_owners": True},
    )
    assert given.status_code == 201
    assert sorted(given.json()["created"]) == sorted([anna_client.pk, boris_client.pk])
    assigned = dict(
        Task.objects.filter(client__in=[anna_client, boris_client]).values_list(
            "client_id", "assignee_id"
        )
    )
    assert assigned == {anna_client.pk: km_anna.pk, boris_client.pk: km_boris.pk}


def test_a_stale_contact_update_is_a_conflict_and_the_version_is_required(
    company, as_user, km_anna, head_gleb, anna_client
):
    contact = ContactFactory(client=anna_client, full_name="Boss")
    url = f"/api/v1/contacts/{contact.pk}/"
    loaded = as_user(km_anna).get(url).json()["version"]
    moved = as_user(head_gleb).patch(
        url, {"position": "CEO", "version": loaded}, content_type="application/json"
    )
    assert moved.status_code == 200 and moved.json()["version"] == loaded + 1
    http = as_user(km_anna)
    stale = http.patch(
        url, {"full_name": "Big Boss", "version": loaded}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert stale.json()["changed_fields"] == [
        {"field": "position", "label": "position", "old": "—", "new": "CEO"}
    ]
    assert stale.json()["changed_by"] == "Gleb Nowak"
    missing = http.patch(url, {"full_name": "Big Boss"}, content_type="application/json")
    assert missing.status_code == 400 and list(missing.json()) == ["version"]
    contact.refresh_from_db()
    assert (contact.full_name, contact.position) == ("Boss", "CEO")
