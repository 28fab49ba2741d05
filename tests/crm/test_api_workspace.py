"""The manager's workspace over the API: "my day" filters on tasks and deals, the
card's history, and the same scope as the pages for touches and tasks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm import services
from crm.choices import TaskKind, TaskStatus
from crm.models import Activity, Task
from tests.crm.day_data import deal, task, touch
from tests.factories import stored_snapshot

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = dt.timedelta(days=1)


def post(http, url, data):
    return http.post(url, data, content_type="application/json")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.json()
    return {row["id"] for row in response.json()["results"]}


# --- Filters ------------------------------------------------------------------


def test_tasks_due_by_a_date(company, as_user, km_anna, anna_client):
    late = task(km_anna, "Late", TODAY - DAY, client=anna_client)
    today = task(km_anna, "Today", TODAY, client=anna_client)
    done_today = task(km_anna, "Done today", TODAY, client=anna_client, status=TaskStatus.DONE)
    tomorrow = task(km_anna, "Tomorrow", TODAY + DAY, client=anna_client)
    http = as_user(km_anna)

    my_day = http.get("/api/v1/tasks/", {"due_before": TODAY.isoformat(), "status": "open"})
    assert ids(my_day) == {late.pk, today.pk}
    from_today = http.get("/api/v1/tasks/", {"due_after": TODAY.isoformat()})
    assert ids(from_today) == {today.pk, done_today.pk, tomorrow.pk}
    one_day = http.get(
        "/api/v1/tasks/", {"due_after": TODAY.isoformat(), "due_before": TODAY.isoformat()}
    )
    assert ids(one_day) == {today.pk, done_today.pk}


@pytest.mark.parametrize("name", ["due_before", "due_after"])
def test_a_bad_due_date_is_a_400_naming_the_filter(company, as_user, km_anna, name):
    response = as_user(km_anna).get("/api/v1/tasks/", {name: "31.02.2025"})
    assert response.status_code == 400
    assert list(response.json()) == [name]


def test_deals_closing_in_a_month(company, as_user, km_anna, anna_client):
    first = TODAY.replace(day=1)
    last = (first + dt.timedelta(days=32)).replace(day=1) - DAY
    on_first = deal(anna_client, "First day", first)
    on_last = deal(anna_client, "Last day", last)
    deal(anna_client, "Month before", first - DAY)
    deal(anna_client, "Month after", last + DAY)
    deal(anna_client, "No date", None)
    response = as_user(km_anna).get(
        "/api/v1/deals/", {"closing_after": first.isoformat(), "closing_before": last.isoformat()}
    )
    assert ids(response) == {on_first.pk, on_last.pk}


@pytest.mark.parametrize("name", ["closing_before", "closing_after"])
def test_a_bad_closing_date_is_a_400_naming_the_filter(company, as_user, km_anna, name):
    response = as_user(km_anna).get("/api/v1/deals/", {name: "next month"})
    assert response.status_code == 400
    assert list(response.json()) == [name]


# --- The card's history -------------------------------------------------------


def test_history_shows_a_change_made_through_the_api(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    changed = http.patch(
        f"/api/v1/clients/{anna_client.pk}/",
        {"region": "Омск", "version": anna_client.version},
        content_type="application/json",
    )
    assert changed.status_code == 200, changed.json()
    stored_snapshot(client=anna_client, as_of=TODAY - 2 * DAY, segment="C")
    stored_snapshot(client=anna_client, as_of=TODAY - DAY, segment="B")

    response = http.get(f"/api/v1/clients/{anna_client.pk}/history/")
    assert response.status_code == 200
    body = response.json()
    latest = body["field_history"][0]
    assert latest["user"]["id"] == km_anna.pk
    assert latest["kind"] == "~"
    assert [(c["field"], c["old"], c["new"]) for c in latest["changes"]] == [
        ("region", "Москва", "Омск")
    ]
    assert [(s["segment"], s["previous"]) for s in body["segment_history"]] == [
        ("B", "C"),
        ("C", ""),
    ]


def test_history_shows_a_reassignment(company, as_user, head_gleb, km_anna, km_boris, anna_client):
    moved = post(
        as_user(head_gleb),
        f"/api/v1/clients/{anna_client.pk}/reassign/",
        {"new_owner_id": km_boris.pk, "note": "Anna is on leave"},
    )
    assert moved.status_code == 200, moved.json()

    body = as_user(km_boris).get(f"/api/v1/clients/{anna_client.pk}/history/").json()
    change = body["ownership_changes"][0]
    assert change["kind"] == "reassignment"
    assert change["from_user"]["id"] == km_anna.pk
    assert change["to_user"]["id"] == km_boris.pk
    assert change["changed_by"]["id"] == head_gleb.pk
    assert change["note"] == "Anna is on leave"


def test_history_reads_a_fixed_number_of_queries(
    company, as_user, head_gleb, km_anna, km_boris, anna_client, django_assert_max_num_queries
):
    for n, owner in enumerate([km_boris, km_anna, km_boris]):
        services.client_reassign(client=anna_client, new_owner=owner, acting_user=head_gleb)
        services.client_update(client=anna_client, acting_user=head_gleb, region=f"Город {n}")
        stored_snapshot(client=anna_client, as_of=TODAY - n * DAY, segment="ABC"[n])
    http = as_user(head_gleb)
    # Session, user, roles; the head's scope (teams, their people), the client;
    # segments, owners, the card's saves and the names of the owners in them.
    with django_assert_max_num_queries(10):
        body = http.get(f"/api/v1/clients/{anna_client.pk}/history/").json()
    assert len(body["ownership_changes"]) == 3
    assert len(body["segment_history"]) == 3
    assert len(body["field_history"]) == 7


def test_history_of_a_client_one_may_not_see_is_404(company, as_user, outsider, anna_client):
    response = as_user(outsider).get(f"/api/v1/clients/{anna_client.pk}/history/")
    assert response.status_code == 404
    assert "field_history" not in response.json()


# --- The scope of touches and tasks -------------------------------------------


def test_touches_of_clients_one_may_not_see_are_not_listed_nor_found(
    company, as_user, km_anna, anna_client, outsider_client
):
    mine = touch(anna_client, 1)
    hidden = touch(outsider_client, 1)
    http = as_user(km_anna)
    assert ids(http.get("/api/v1/activities/")) == {mine.pk}
    assert ids(http.get("/api/v1/activities/", {"client_id": outsider_client.pk})) == set()
    assert http.get(f"/api/v1/activities/{hidden.pk}/").status_code == 404


def test_tasks_of_clients_one_may_not_see_are_not_listed_nor_found(
    company, as_user, km_anna, outsider, anna_client, outsider_client
):
    mine = task(km_anna, "Mine", TODAY, client=anna_client)
    hidden = task(outsider, "His", TODAY, client=outsider_client)
    http = as_user(km_anna)
    assert ids(http.get("/api/v1/tasks/")) == {mine.pk}
    assert http.get(f"/api/v1/tasks/{hidden.pk}/").status_code == 404


# --- Reactivation attempts ----------------------------------------------------


def test_a_reactivation_attempt_through_the_api_is_what_the_engine_counts(
    company, as_user, km_anna, anna_client
):
    yesterday = timezone.localtime() - DAY
    response = post(
        as_user(km_anna),
        "/api/v1/activities/",
        {
            "client": anna_client.pk,
            "kind": "call",
            "summary": "Asked why they stopped ordering",
            "occurred_at": yesterday.isoformat(),
            "reactivation": {"side": "ours", "reason": "Late deliveries in spring"},
        },
    )
    assert response.status_code == 201, response.json()
    assert Activity.objects.get().pk == response.json()["id"]
    attempt = Task.objects.get()
    assert (attempt.kind, attempt.status, attempt.assignee, attempt.client) == (
        TaskKind.REACTIVATION,
        TaskStatus.DONE,
        km_anna,
        anna_client,
    )
    # The engine dates an attempt by the task's created_at: the day of the touch.
    assert timezone.localdate(attempt.created_at) == yesterday.date() == attempt.due_on
    assert "Late deliveries in spring" in attempt.description
