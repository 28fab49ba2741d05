"""Logging touches from the card and the client list: the dialog, the rights,
the next step and reactivation attempts (as the metric engine counts them)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from crm.choices import SalesType, TaskKind, TaskStatus
from crm.models import Activity, ClientGrant, Task
from tests.factories import ClientFactory, ContactFactory, UserFactory, stored_snapshot

pytestmark = pytest.mark.django_db

NOW = timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def touch_url(client):
    return reverse("crm:touch_create", args=[client.pk])


def touch(**extra):
    data = {
        "kind": "call",
        "occurred_at": NOW,
        "purpose": "sale",
        "initiated_by": "us",
        "summary": "Talked about the spring assortment",
        "outcome": "Wants a price list",
        "lapse_side": "unknown",
    }
    data.update(extra)
    return data


def test_a_call_with_a_next_step_is_logged_in_one_go(company, as_user, km_anna, anna_client):
    contact = ContactFactory(client=anna_client)
    due = timezone.localdate() + dt.timedelta(days=2)
    response = as_user(km_anna).post(
        touch_url(anna_client),
        touch(contact=contact.pk, next_title="Send the price list", next_due_on=due.isoformat()),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:client_detail", args=[anna_client.pk])
    activity = Activity.objects.get()
    assert (activity.client, activity.contact, activity.kind) == (anna_client, contact, "call")
    assert activity.performed_by == km_anna and activity.entered_by == km_anna
    task = Task.objects.get()
    assert (task.title, task.due_on, task.assignee, task.kind) == (
        "Send the price list",
        due,
        km_anna,
        TaskKind.TOUCH,
    )
    assert task.history.get().history_user == km_anna


def test_the_dialog_comes_through_htmx_and_redirects_back(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    list_url = reverse("crm:client_list") + "?q=77"
    dialog = http.get(touch_url(anna_client), HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=list_url)
    body = dialog.content.decode()
    assert "<dialog" in body and "<html" not in body
    assert 'name="summary"' in body

    refused = http.post(touch_url(anna_client), touch(summary=""), HTTP_HX_REQUEST="true")
    assert refused.status_code == 200
    assert (
        "<dialog" in refused.content.decode()
        and "This field is required." in refused.content.decode()
    )
    assert not Activity.objects.exists()

    done = http.post(touch_url(anna_client), touch(next=list_url), HTTP_HX_REQUEST="true")
    assert done["HX-Redirect"] == list_url
    assert Activity.objects.count() == 1


def test_without_javascript_the_dialog_is_a_page(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).get(touch_url(anna_client))
    assert b"<html" in response.content and b'name="summary"' in response.content


@pytest.mark.parametrize("method", ["get", "post"])
def test_people_who_do_not_see_the_client_get_404(
    company, as_user, outsider, km_boris, anna_client, method
):
    for user in (outsider, km_boris):
        response = getattr(as_user(user), method)(touch_url(anna_client), touch())
        assert response.status_code == 404
    assert not Activity.objects.exists()


def test_a_read_only_grant_may_look_but_not_log(company, as_user, km_boris, anna_client):
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="support", level="read")
    http = as_user(km_boris)
    assert http.get(reverse("crm:client_detail", args=[anna_client.pk])).status_code == 200
    assert http.post(touch_url(anna_client), touch()).status_code == 403
    assert not Activity.objects.exists()


def test_only_the_clients_own_contacts_may_be_chosen(company, as_user, km_anna, anna_client):
    stranger = ContactFactory(client=ClientFactory(owner=km_anna))
    response = as_user(km_anna).post(touch_url(anna_client), touch(contact=stranger.pk))
    assert response.status_code == 200
    assert "Choose a contact of this client." in response.content.decode()
    assert not Activity.objects.exists()


def test_a_past_next_step_refuses_the_whole_touch(company, as_user, km_anna, anna_client):
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = as_user(km_anna).post(
        touch_url(anna_client), touch(next_title="Call back", next_due_on=yesterday.isoformat())
    )
    assert "The due date cannot be in the past." in response.content.decode()
    assert not Activity.objects.exists() and not Task.objects.exists()


def test_a_touch_cannot_be_in_the_future(company, as_user, km_anna, anna_client):
    later = (timezone.localtime() + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = as_user(km_anna).post(touch_url(anna_client), touch(occurred_at=later))
    assert "A touch cannot be in the future." in response.content.decode()
    assert not Activity.objects.exists()


def test_a_reactivation_attempt_is_what_the_engine_counts(company, as_user, km_anna, anna_client):
    yesterday = timezone.localtime() - dt.timedelta(days=1)
    response = as_user(km_anna).post(
        touch_url(anna_client),
        touch(
            occurred_at=yesterday.strftime("%Y-%m-%dT%H:%M"),
            reactivation="on",
            lapse_side="ours",
            lapse_reason="Late deliveries in spring",
        ),
    )
    assert response.status_code == 302
    attempt = Task.objects.get()
    assert (attempt.kind, attempt.status, attempt.assignee) == (
        TaskKind.REACTIVATION,
        TaskStatus.DONE,
        km_anna,
    )
    # The engine dates an attempt by the task's created_at (local day) and
    # credits its assignee: the day of the touch, not of its entry.
    assert timezone.localdate(attempt.created_at) == yesterday.date() == attempt.due_on
    assert "Late deliveries in spring" in attempt.description
    counted = (
        Task.objects.filter(kind=TaskKind.REACTIVATION, client__isnull=False)
        .exclude(status=TaskStatus.CANCELLED)
        .values_list("client_id", "assignee_id")
    )
    assert list(counted) == [(anna_client.pk, km_anna.pk)]


def test_the_engine_counts_the_attempt(company, as_user, km_anna, anna_client):
    from segmentation.conf import metric_settings
    from segmentation.engine.reactivation import reactivation_conversions

    today = timezone.localdate()
    stored_snapshot(client=anna_client, as_of=today - dt.timedelta(days=3), status="sleeping")
    as_user(km_anna).post(touch_url(anna_client), touch(reactivation="on"))
    frame = reactivation_conversions(as_of=today, conf=metric_settings())
    mine = frame[frame["person_id"] == km_anna.pk]
    assert int(mine["attempted"].sum()) == 1


def test_strategic_clients_are_not_reactivated(company, as_user, km_anna):
    client = ClientFactory(owner=km_anna, sales_type=SalesType.STRATEGIC)
    response = as_user(km_anna).post(touch_url(client), touch(reactivation="on"))
    assert "Strategic clients are never in reactivation lists." in response.content.decode()
    assert not Activity.objects.exists()


def test_back_office_enters_a_touch_credited_to_a_manager(company, as_user, km_anna, anna_client):
    clerk = UserFactory(email="clerk@example.test", roles=[Role.BACK_OFFICE])
    company["moscow"].members.add(clerk)
    ClientGrant.objects.create(client=anna_client, user=clerk, reason="support", level="edit")
    response = as_user(clerk).post(touch_url(anna_client), touch(performed_by=km_anna.pk))
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.performed_by, activity.entered_by) == (km_anna, clerk)


def test_a_manager_cannot_credit_someone_else(company, as_user, km_anna, km_boris, anna_client):
    as_user(km_anna).post(touch_url(anna_client), touch(performed_by=km_boris.pk))
    assert Activity.objects.get().performed_by == km_anna  # the field is not offered: ignored


def test_the_client_list_offers_a_touch_where_the_user_may_edit(
    company, as_user, km_boris, key_account, kam_oleg, django_assert_max_num_queries
):
    read_only = ClientFactory(name="ООО «Только чтение»")
    ClientGrant.objects.create(client=read_only, user=kam_oleg, reason="support", level="read")
    ClientFactory.create_batch(20, owner=kam_oleg)
    http = as_user(kam_oleg)
    with django_assert_max_num_queries(13):
        body = http.get(reverse("crm:client_list")).content.decode()
    assert touch_url(key_account) in body  # an edit grant
    assert touch_url(read_only) not in body


def test_the_card_shows_the_timeline_newest_first_and_capped(
    company, as_user, km_anna, anna_client, django_assert_max_num_queries
):
    now = timezone.now()
    contact = ContactFactory(client=anna_client)

    def add(count):
        for i in range(count):
            number = Activity.objects.count()
            Activity.objects.create(
                client=anna_client,
                contact=contact,
                kind="call",
                occurred_at=now - dt.timedelta(hours=number + 1),
                performed_by=km_anna,
                entered_by=km_anna,
                summary=f"touch-{number}",
            )
            Task.objects.create(
                client=anna_client,
                title=f"task {i}",
                due_on=timezone.localdate(),
                assignee=km_anna,
                created_by=km_anna,
            )

    http = as_user(km_anna)
    card = reverse("crm:client_detail", args=[anna_client.pk])
    add(2)
    with django_assert_max_num_queries(25):
        http.get(card)
    add(20)
    with django_assert_max_num_queries(25):
        body = http.get(card).content.decode()
    shown = re.findall(r"touch-(\d+)\s", body)
    assert shown == [str(n) for n in range(10)]  # newest first, capped at ten
    assert reverse("crm:client_touches", args=[anna_client.pk]) in body
    full = http.get(reverse("crm:client_touches", args=[anna_client.pk])).content.decode()
    assert "touch-21" in full


def test_overdue_tasks_are_highlighted_on_the_card(company, as_user, km_anna, anna_client):
    Task.objects.create(
        client=anna_client,
        title="Late one",
        due_on=timezone.localdate() - dt.timedelta(days=3),
        assignee=km_anna,
        created_by=km_anna,
    )
    body = as_user(km_anna).get(reverse("crm:client_detail", args=[anna_client.pk])).content
    assert b'class="task-overdue"' in body
