"""The work API: the same scope and predicates as the pages, errors name the field."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import services
from crm.models import Activity, ClientGrant, DossierNote, SurveyAnswer, Task
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def post(http, url, data):
    return http.post(url, data, content_type="application/json")


def patch(http, url, data):
    return http.patch(url, data, content_type="application/json")


def test_a_touch_with_a_next_task(company, as_user, km_anna, anna_client):
    contact = ContactFactory(client=anna_client)
    due = (TODAY + dt.timedelta(days=1)).isoformat()
    response = post(
        as_user(km_anna),
        "/api/v1/activities/",
        {
            "client": anna_client.pk,
            "contact": contact.pk,
            "kind": "meeting",
            "summary": "Presented the new line",
            "next_task": {"title": "Send samples", "due_on": due},
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["performed_by"]["email"] == km_anna.email
    assert Task.objects.get().title == "Send samples"
    listed = as_user(km_anna).get("/api/v1/activities/", {"client_id": anna_client.pk}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


def test_an_invisible_client_looks_like_an_unknown_one(company, as_user, outsider, anna_client):
    http = as_user(outsider)
    hidden = post(
        http, "/api/v1/activities/", {"client": anna_client.pk, "kind": "call", "summary": "x"}
    )
    unknown = post(http, "/api/v1/activities/", {"client": 987654, "kind": "call", "summary": "x"})
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json()["client"] == [
        m.replace("987654", str(anna_client.pk)) for m in unknown.json()["client"]
    ]
    for url in ("/api/v1/tasks/", "/api/v1/survey-answers/", "/api/v1/dossier-notes/"):
        assert "client" in post(http, url, {"client": anna_client.pk}).json()
    assert not Activity.objects.exists()


def test_a_read_only_grant_is_403(company, as_user, km_boris, anna_client):
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="support", level="read")
    response = post(
        as_user(km_boris),
        "/api/v1/activities/",
        {"client": anna_client.pk, "kind": "call", "summary": "x"},
    )
    assert response.status_code == 403
    assert not Activity.objects.exists()


def test_bad_input_names_the_field(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    other_contact = ContactFactory(client=ClientFactory(owner=km_anna))
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    cases = [
        ({"kind": "fax"}, "kind"),
        ({"contact": other_contact.pk}, "contact"),
        ({"next_task": {"title": "x", "due_on": yesterday}}, "next_task"),
        ({"summary": ""}, "summary"),
    ]
    for extra, field in cases:
        data = {"client": anna_client.pk, "kind": "call", "summary": "x", **extra}
        response = post(http, "/api/v1/activities/", data)
        assert response.status_code == 400 and field in response.json(), (extra, response.json())
    past = post(
        http,
        "/api/v1/activities/",
        {
            "client": anna_client.pk,
            "kind": "call",
            "summary": "x",
            "next_task": {"title": "x", "due_on": yesterday},
        },
    )
    assert past.json()["next_task"]["due_on"] == ["The due date cannot be in the past."]
    assert not Activity.objects.exists() and not Task.objects.exists()


def test_messages_follow_the_users_language(company, as_user, km_anna, anna_client):
    km_anna.language = "ru"
    km_anna.save()
    response = post(
        as_user(km_anna),
        "/api/v1/tasks/",
        {
            "client": anna_client.pk,
            "title": "x",
            "due_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        },
    )
    assert response.status_code == 400
    assert list(response.json()) == ["due_on"]


def test_tasks_create_update_and_never_delete(
    company, as_user, km_anna, km_boris, head_gleb, anna_client
):
    http = as_user(km_anna)
    due = (TODAY + dt.timedelta(days=2)).isoformat()
    created = post(
        http, "/api/v1/tasks/", {"client": anna_client.pk, "title": "Visit", "due_on": due}
    )
    assert created.status_code == 201, created.json()
    task_id = created.json()["id"]
    past = post(
        http,
        "/api/v1/tasks/",
        {"title": "Old", "due_on": (TODAY - dt.timedelta(days=1)).isoformat()},
    )
    assert past.status_code == 400 and past.json() == {
        "due_on": ["The due date cannot be in the past."]
    }
    refused = patch(http, f"/api/v1/tasks/{task_id}/", {"assignee_id": km_boris.pk})
    assert refused.status_code == 400 and "assignee_id" in refused.json()
    done = patch(http, f"/api/v1/tasks/{task_id}/", {"status": "done"})
    assert done.status_code == 200 and done.json()["status"] == "done"
    again = patch(http, f"/api/v1/tasks/{task_id}/", {"status": "cancelled"})
    assert again.status_code == 400 and "status" in again.json()
    assert http.delete(f"/api/v1/tasks/{task_id}/").status_code == 405
    task = Task.objects.get(pk=task_id)
    assert {h.history_user for h in task.history.all()} == {km_anna}
    assert as_user(km_boris).get(f"/api/v1/tasks/{task_id}/").status_code == 404
    # A head sees it (a client of the team) and may reopen it.
    reopened = patch(as_user(head_gleb), f"/api/v1/tasks/{task_id}/", {"status": "open"})
    assert reopened.status_code == 200


def test_my_tasks_through_the_api(
    company, as_user, km_anna, head_gleb, anna_client, django_assert_max_num_queries
):
    for n in range(15):
        services.task_create(
            acting_user=head_gleb, client=anna_client, title=f"t{n}", due_on=TODAY, assignee=km_anna
        )
    services.task_create(acting_user=head_gleb, title="his own", due_on=TODAY)
    http = as_user(head_gleb)
    with django_assert_max_num_queries(10):
        everything = http.get("/api/v1/tasks/").json()
    assert everything["count"] == 16
    assert http.get("/api/v1/tasks/", {"mine": "true"}).json()["count"] == 1
    assert as_user(km_anna).get("/api/v1/tasks/", {"mine": "true"}).json()["count"] == 15


def test_survey_answers(company, as_user, km_anna, outsider, anna_client):
    http = as_user(km_anna)
    low = post(
        http, "/api/v1/survey-answers/", {"client": anna_client.pk, "kind": "nps", "score": 4}
    )
    assert low.status_code == 201, low.json()
    assert low.json()["follow_up"] == Task.objects.get(kind="survey_follow_up").pk
    bad = post(
        http,
        "/api/v1/survey-answers/",
        {"client": anna_client.pk, "kind": "satisfaction", "score": 9},
    )
    assert bad.status_code == 400 and list(bad.json()) == ["score"]
    assert SurveyAnswer.objects.count() == 1
    assert as_user(outsider).get("/api/v1/survey-answers/").json()["count"] == 0


def test_dossier_notes_through_the_api(company, as_user, km_anna, kam_oleg, outsider, anna_client):
    ClientGrant.objects.create(client=anna_client, user=kam_oleg, reason="kam", level="edit")
    http = as_user(km_anna)
    team = post(
        http,
        "/api/v1/dossier-notes/",
        {"client": anna_client.pk, "text": "Team only", "visibility": "team"},
    )
    assert team.status_code == 201, team.json()
    post(
        http,
        "/api/v1/dossier-notes/",
        {"client": anna_client.pk, "text": "For all", "visibility": "everyone"},
    )
    oleg = as_user(kam_oleg)
    texts = [row["text"] for row in oleg.get("/api/v1/dossier-notes/").json()["results"]]
    assert texts == ["For all"]
    team_id = team.json()["id"]
    assert oleg.get(f"/api/v1/dossier-notes/{team_id}/").status_code == 404
    assert patch(oleg, f"/api/v1/dossier-notes/{team_id}/", {"text": "x"}).status_code == 404
    open_id = DossierNote.objects.get(text="For all").pk
    assert patch(oleg, f"/api/v1/dossier-notes/{open_id}/", {"text": "x"}).status_code == 403
    changed = patch(http, f"/api/v1/dossier-notes/{open_id}/", {"text": "For all, edited"})
    assert changed.status_code == 200 and changed.json()["text"] == "For all, edited"
    assert as_user(outsider).get("/api/v1/dossier-notes/").json()["count"] == 0
