"""Tasks: create, edit, complete, cancel, reassign; "My tasks"; history."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.choices import TaskKind, TaskStatus
from crm.models import Task
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


def task_for(user, client=None, *, days=1, **extra):
    return Task.objects.create(
        client=client,
        title=extra.pop("title", "Call back"),
        due_on=TODAY + dt.timedelta(days=days),
        assignee=user,
        created_by=extra.pop("created_by", user),
        **extra,
    )


def form(**extra):
    data = {"title": "Send the contract", "kind": "touch", "due_on": TODAY.isoformat()}
    data.update(extra)
    return data


def test_a_task_is_created_from_the_card_with_history(company, as_user, km_anna, anna_client):
    url = reverse("crm:client_task_create", args=[anna_client.pk])
    response = as_user(km_anna).post(url, form(assignee=km_anna.pk))
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.client, task.assignee, task.created_by, task.status) == (
        anna_client,
        km_anna,
        km_anna,
        "open",
    )
    assert task.history.get().history_user == km_anna


def test_a_past_due_date_is_refused_on_the_field(company, as_user, km_anna, anna_client):
    url = reverse("crm:client_task_create", args=[anna_client.pk])
    yesterday = TODAY - dt.timedelta(days=1)
    response = as_user(km_anna).post(url, form(due_on=yesterday.isoformat(), assignee=km_anna.pk))
    body = response.content.decode()
    assert 'id="id_due_on-error">The due date cannot be in the past.' in body
    assert not Task.objects.exists()


def test_the_service_refuses_a_past_due_date_too(company, km_anna, anna_client):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.task_create(
            acting_user=km_anna,
            client=anna_client,
            title="Late",
            due_on=TODAY - dt.timedelta(days=1),
        )
    assert error.value.message_dict == {"due_on": ["The due date cannot be in the past."]}


def test_an_overdue_task_keeps_its_date_when_edited(company, as_user, km_anna, anna_client):
    task = task_for(km_anna, anna_client, days=-5)
    response = as_user(km_anna).post(
        reverse("crm:task_edit", args=[task.pk]),
        form(
            title="Renamed",
            due_on=task.due_on.isoformat(),
            assignee=km_anna.pk,
            version=task.version,
        ),
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title == "Renamed"


def test_complete_and_cancel_keep_history(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    done = task_for(km_anna, anna_client)
    gone = task_for(km_anna, anna_client)
    http.post(reverse("crm:task_status", args=[done.pk, "complete"]))
    http.post(reverse("crm:task_status", args=[gone.pk, "cancel"]))
    done.refresh_from_db()
    gone.refresh_from_db()
    assert done.status == TaskStatus.DONE and done.completed_at is not None
    assert gone.status == TaskStatus.CANCELLED
    latest = done.history.order_by("-history_date").first()
    assert latest.status == "done" and latest.history_user == km_anna
    # A cancelled task is not completed by mistake.
    response = http.post(reverse("crm:task_status", args=[gone.pk, "complete"]), follow=True)
    assert "This task was already cancelled." in response.content.decode()
    gone.refresh_from_db()
    assert gone.status == TaskStatus.CANCELLED


def test_a_head_reassigns_to_their_people_a_manager_only_to_themselves(
    company, as_user, km_anna, km_boris, head_gleb, anna_client
):
    ClientFactory(owner=km_boris)
    task = task_for(km_anna, anna_client)
    url = reverse("crm:task_edit", args=[task.pk])
    loaded = task.version
    refused = as_user(km_anna).post(
        url, form(assignee=km_boris.pk, due_on=task.due_on, version=loaded)
    )
    assert "You cannot give a task to this user." in refused.content.decode()
    # Boris cannot see Anna's client: the head must give him access first.
    blocked = as_user(head_gleb).post(
        url, form(assignee=km_boris.pk, due_on=task.due_on, version=loaded)
    )
    assert "This person cannot see the client" in blocked.content.decode()
    client_less = task_for(km_anna)
    moved = as_user(head_gleb).post(
        reverse("crm:task_edit", args=[client_less.pk]),
        form(assignee=km_boris.pk, due_on=client_less.due_on, version=client_less.version),
    )
    assert moved.status_code == 302
    client_less.refresh_from_db()
    assert client_less.assignee == km_boris
    assert client_less.history.order_by("-history_date").first().history_user == head_gleb


def test_others_cannot_touch_a_task(company, as_user, km_anna, km_boris, outsider, anna_client):
    task = task_for(km_anna, anna_client)
    assert as_user(outsider).get(reverse("crm:task_edit", args=[task.pk])).status_code == 404
    assert (
        as_user(km_boris).post(reverse("crm:task_status", args=[task.pk, "complete"])).status_code
        == 404
    )
    task.refresh_from_db()
    assert task.status == "open"


def test_my_tasks_filters_and_highlights_overdue(company, as_user, km_anna, km_boris, anna_client):
    late = task_for(km_anna, anna_client, days=-2, title="Late call")
    task_for(km_anna, anna_client, days=3, title="Future meeting", kind=TaskKind.REACTIVATION)
    task_for(km_anna, anna_client, title="Finished", status=TaskStatus.DONE)
    task_for(km_boris, title="Boris's own")
    http = as_user(km_anna)
    url = reverse("crm:task_list")
    body = http.get(url).content.decode()  # open ones by default
    assert "Late call" in body and "Future meeting" in body
    assert "Finished" not in body and "Boris&#x27;s own" not in body
    assert body.count('class="task-overdue"') == 1
    overdue = http.get(url, {"overdue": "on"}).content.decode()
    assert "Late call" in overdue and "Future meeting" not in overdue
    kind = http.get(url, {"kind": "reactivation"}).content.decode()
    assert "Future meeting" in kind and "Late call" not in kind
    done = http.get(url, {"status": "done"}).content.decode()
    assert "Finished" in done and "Late call" not in done
    assert late.pk


def test_my_tasks_is_paginated_with_a_bounded_number_of_queries(
    company, as_user, km_anna, django_assert_max_num_queries
):
    clients = ClientFactory.create_batch(5, owner=km_anna)
    for n in range(60):
        task_for(km_anna, clients[n % 5], days=n % 7 - 2)
    http = as_user(km_anna)
    with django_assert_max_num_queries(9):
        first = http.get(reverse("crm:task_list")).content.decode()
    assert "60 tasks" in first and "Page 1 of 2" in first
    with django_assert_max_num_queries(9):
        assert http.get(reverse("crm:task_list"), {"page": 2}).status_code == 200


def test_a_stale_task_edit_gets_a_conflict_naming_what_changed(
    company, as_user, km_anna, head_gleb, anna_client
):
    task = task_for(km_anna, anna_client, title="Call back")
    loaded = task.version
    services.task_update(
        task=task, acting_user=head_gleb, expected_version=loaded, title="Call back today"
    )
    http = as_user(km_anna)
    url = reverse("crm:task_edit", args=[task.pk])
    stale = http.post(url, form(title="Send the offer", assignee=km_anna.pk, version=loaded))
    assert stale.status_code == 200
    message = " ".join(stale.context["form"].non_field_errors())
    assert message.startswith("Gleb Nowak changed this task while you were editing it: ")
    assert "title: Call back → Call back today" in message
    task.refresh_from_db()
    assert (task.title, task.version) == ("Call back today", loaded + 1)

    # Done in the meantime: the edit names the new status instead of reopening it unseen.
    reloaded = task.version
    http.post(reverse("crm:task_status", args=[task.pk, "complete"]))
    done = http.post(url, form(title="Send the offer", assignee=km_anna.pk, version=reloaded))
    assert "status: Open → Done" in " ".join(done.context["form"].non_field_errors())
    missing = http.post(url, form(title="Send the offer", assignee=km_anna.pk))
    assert missing.context["form"].errors["version"] == [
        "The form is missing the task's version: reload it and edit again."
    ]
    task.refresh_from_db()
    assert (task.title, task.status) == ("Call back today", TaskStatus.DONE)


def test_the_api_needs_the_version_read_to_change_a_task_but_not_to_close_it(
    company, as_user, km_anna, head_gleb, anna_client
):
    task = task_for(km_anna, anna_client, title="Call back")
    url = f"/api/v1/tasks/{task.pk}/"
    http = as_user(km_anna)
    loaded = http.get(url).json()["version"]
    missing = http.patch(url, {"title": "Renamed"}, content_type="application/json")
    assert missing.status_code == 400 and list(missing.json()) == ["version"]
    moved = as_user(head_gleb).patch(
        url,
        {"due_on": (TODAY + dt.timedelta(days=7)).isoformat(), "version": loaded},
        content_type="application/json",
    )
    assert moved.status_code == 200
    stale = http.patch(
        url, {"title": "Renamed", "version": loaded}, content_type="application/json"
    )
    assert stale.status_code == 409
    assert [change["field"] for change in stale.json()["changed_fields"]] == ["due_on"]
    assert stale.json()["changed_by"] == "Gleb Nowak"
    closed = http.patch(url, {"status": "done"}, content_type="application/json")
    assert closed.status_code == 200 and closed.json()["status"] == "done"
    task.refresh_from_db()
    assert (task.title, task.due_on, task.status) == (
        "Call back",
        TODAY + dt.timedelta(days=7),
        TaskStatus.DONE,
    )
