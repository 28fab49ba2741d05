"""What the card, its dialogs and the API refuse or hide, and in which words:
a contact reporting to itself, team-only dossier notes, touches of every
kind, and field errors in Russian."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.choices import ActivityKind
from crm.models import Activity, ClientGrant, Contact, Deal, Task
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - dt.timedelta(days=1)

CIRCLE = {
    "en": "This would make the reporting lines a circle.",
    "ru": "Так цепочка подчинения замкнётся в круг.",
}
INVALID_CHOICE = {
    "en": "Select a valid choice. That choice is not one of the available choices.",
    "ru": "Выберите корректный вариант. Вашего варианта нет среди допустимых значений.",
}
PAST_DUE_RU = "Срок не может быть в прошлом."


def card_url(client, tab):
    return reverse("crm:client_detail", args=[client.pk]) + f"?tab={tab}"


def speaking(user, language):
    """The user with ``language`` chosen in their profile ("" follows the browser)."""
    user.language = language
    user.save(update_fields=["language"])
    return user


@pytest.fixture
def org(anna_client):
    """Deputy reports to Boss, both of Anna's client."""
    boss = ContactFactory(client=anna_client, full_name="Boss")
    deputy = ContactFactory(client=anna_client, full_name="Deputy", reports_to=boss)
    return {"boss": boss, "deputy": deputy}


def assert_unchanged(org):
    deputy = Contact.objects.get(pk=org["deputy"].pk)
    assert (deputy.full_name, deputy.reports_to_id) == ("Deputy", org["boss"].pk)
    assert deputy.history.count() == 1  # only its creation


# --- A contact cannot report to itself -------------------------------------------


@pytest.mark.parametrize("language", ["en", "ru"])
def test_the_contact_form_does_not_offer_the_contact_as_its_own_boss(
    company, as_user, km_anna, anna_client, org, language
):
    deputy = org["deputy"]
    http = as_user(speaking(km_anna, language))
    url = reverse("crm:contact_edit", args=[anna_client.pk, deputy.pk])
    page = http.get(url).content.decode()
    select = re.search(r'<select name="reports_to".*?</select>', page, re.S)
    assert select is not None
    offered = re.findall(r'<option value="(\d+)"', select.group())
    assert offered == [str(org["boss"].pk)]

    form = {"full_name": "Renamed", "attitude": "unknown", "is_active": "on"}
    refused = http.post(url, {**form, "reports_to": deputy.pk, "version": deputy.version})
    assert refused.status_code == 200
    assert refused.context["form"].errors == {"reports_to": [INVALID_CHOICE[language]]}
    assert_unchanged(org)


@pytest.mark.parametrize("language", ["en", "ru"])
@pytest.mark.parametrize("method", ["patch", "put"])
def test_the_api_refuses_a_contact_reporting_to_itself(
    company, as_user, km_anna, anna_client, org, method, language
):
    deputy = org["deputy"]
    data = {"full_name": "Renamed", "reports_to": deputy.pk, "version": deputy.version}
    if method == "put":
        data["client"] = anna_client.pk
    response = getattr(as_user(speaking(km_anna, language)), method)(
        f"/api/v1/contacts/{deputy.pk}/", data, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"reports_to": [CIRCLE[language]]}
    assert_unchanged(org)


# --- The dossier tab hides team-only notes outside the owner's team ------------------


@pytest.fixture
def dossier(company, km_anna, anna_client):
    services.dossier_note_create(
        client=anna_client,
        acting_user=km_anna,
        text="Secret: the CEO is leaving",
        visibility="team",
    )
    services.dossier_note_create(
        client=anna_client,
        acting_user=km_anna,
        text="Prefers calls after 10",
        visibility="everyone",
    )


def test_a_read_grant_outside_the_team_shows_only_open_notes_on_the_dossier_tab(
    dossier, as_user, outsider, anna_client
):
    ClientGrant.objects.create(client=anna_client, user=outsider, reason="support", level="read")
    response = as_user(outsider).get(card_url(anna_client, "dossier"))
    assert response.status_code == 200
    assert [n.text for n in response.context["dossier_notes"]] == ["Prefers calls after 10"]
    body = response.content.decode()
    assert "Prefers calls after 10" in body
    assert "CEO" not in body and "team only" not in body


@pytest.mark.parametrize("persona", ["km_anna", "km_boris", "head_gleb"])
def test_the_owners_team_reads_both_notes_on_the_dossier_tab(
    dossier, request, as_user, anna_client, persona
):
    user = request.getfixturevalue(persona)
    if persona == "km_boris":  # Anna's teammate, who sees her client through the same grant
        ClientGrant.objects.create(client=anna_client, user=user, reason="support", level="read")
    response = as_user(user).get(card_url(anna_client, "dossier"))
    assert response.status_code == 200
    assert [n.text for n in response.context["dossier_notes"]] == [
        "Prefers calls after 10",
        "Secret: the CEO is leaving",
    ]
    body = response.content.decode()
    assert "Secret: the CEO is leaving" in body and "team only" in body


# --- Touches of every kind -----------------------------------------------------------


@pytest.mark.parametrize("kind", ActivityKind.values)
def test_a_touch_of_every_kind_is_logged_and_shown_on_the_touches_tab(
    company, as_user, km_anna, anna_client, kind
):
    outcome = f"Agreed on the next {kind} about the spring prices"
    http = as_user(km_anna)
    response = http.post(
        reverse("crm:touch_create", args=[anna_client.pk]),
        {
            "kind": kind,
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "purpose": "sale",
            "initiated_by": "us",
            "summary": "Went through the assortment",
            "outcome": outcome,
            "lapse_side": "unknown",
        },
    )
    assert response.status_code == 302
    activity = Activity.objects.get()
    assert (activity.client, activity.kind, activity.outcome) == (anna_client, kind, outcome)

    tab = http.get(card_url(anna_client, "activities"))
    assert [a.pk for a in tab.context["page"].object_list] == [activity.pk]
    body = tab.content.decode()
    assert f"<strong>{ActivityKind(kind).label}</strong>" in body
    assert f"Outcome: {outcome}" in body


# --- Field errors in Russian ------------------------------------------------------------


@pytest.fixture(params=["profile", "browser"])
def russian(request, as_user):
    """``russian(user)``: a client for the user, in Russian by their profile or by the browser."""

    def make(user):
        if request.param == "profile":
            return as_user(speaking(user, "ru"))
        http = as_user(speaking(user, ""))
        http.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
        return http

    return make


def test_deal_form_errors_are_in_russian(russian, company, km_anna, outsider_client):
    response = russian(km_anna).post(
        reverse("crm:deal_create"),
        {
            "client": outsider_client.pk,
            "kind": "new_business",
            "title": "x",
            "stage": "qualification",
            "amount": "-5",
            "expected_close_on": YESTERDAY.isoformat(),
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {
        "client": ["Выберите одного из своих клиентов."],
        "amount": ["Сумма не может быть отрицательной."],
        "expected_close_on": ["Ожидаемая дата закрытия не может быть в прошлом."],
    }
    assert "Сумма не может быть отрицательной." in response.content.decode()
    assert not Deal.objects.exists()


def test_task_form_refuses_a_past_due_date_in_russian(russian, company, km_anna, anna_client):
    response = russian(km_anna).post(
        reverse("crm:client_task_create", args=[anna_client.pk]),
        {
            "title": "Send the contract",
            "kind": "touch",
            "due_on": YESTERDAY.isoformat(),
            "assignee": km_anna.pk,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"due_on": [PAST_DUE_RU]}
    assert f'id="id_due_on-error">{PAST_DUE_RU}' in response.content.decode()
    assert not Task.objects.exists()


def test_task_api_refuses_a_past_due_date_in_russian(russian, company, km_anna, anna_client):
    response = russian(km_anna).post(
        "/api/v1/tasks/",
        {"client": anna_client.pk, "title": "x", "due_on": YESTERDAY.isoformat()},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json() == {"due_on": [PAST_DUE_RU]}
    assert not Task.objects.exists()
