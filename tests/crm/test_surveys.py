"""Survey answers: kept per client and contact; a low score opens one task for the owner."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.choices import TaskKind
from crm.models import ClientGrant, SurveyAnswer, Task
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def url(client):
    return reverse("crm:survey_create", args=[client.pk])


def answer(**extra):
    data = {"kind": "nps", "score": "5", "answered_on": timezone.localdate().isoformat()}
    data.update(extra)
    return data


def test_a_low_nps_opens_exactly_one_follow_up_for_the_owner(
    company, as_user, head_gleb, km_anna, anna_client
):
    contact = ContactFactory(client=anna_client, full_name="Ivan Petrov")
    response = as_user(head_gleb).post(
        url(anna_client), answer(contact=contact.pk, comment="Deliveries are late")
    )
    assert response.status_code == 302
    task = Task.objects.get()
    assert (task.kind, task.assignee, task.client, task.status) == (
        TaskKind.SURVEY_FOLLOW_UP,
        km_anna,
        anna_client,
        "open",
    )
    assert task.due_on > timezone.localdate()
    assert "Ivan Petrov" in task.description
    saved = SurveyAnswer.objects.get()
    assert (saved.follow_up, saved.contact, saved.entered_by) == (task, contact, head_gleb)
    # A second low answer while the follow-up is open does not pile up tasks.
    as_user(km_anna).post(url(anna_client), answer(score="3"))
    assert Task.objects.count() == 1
    assert SurveyAnswer.objects.filter(follow_up=task).count() == 2


@pytest.mark.parametrize(
    ("kind", "score", "opens"),
    [("nps", 6, True), ("nps", 7, False), ("satisfaction", 3, True), ("satisfaction", 4, False)],
)
def test_the_thresholds(company, km_anna, anna_client, kind, score, opens):
    saved = services.survey_answer_record(
        client=anna_client, acting_user=km_anna, kind=kind, score=score
    )
    assert (saved.follow_up_id is not None) is opens
    assert Task.objects.filter(kind=TaskKind.SURVEY_FOLLOW_UP).exists() is opens


def test_the_threshold_is_a_setting(company, settings, km_anna, anna_client):
    settings.SURVEY_FOLLOW_UP_BELOW_NPS = 9
    saved = services.survey_answer_record(
        client=anna_client, acting_user=km_anna, kind="nps", score=8
    )
    assert saved.follow_up is not None


@pytest.mark.parametrize(
    ("kind", "score"), [("nps", "11"), ("satisfaction", "0"), ("satisfaction", "6")]
)
def test_a_score_outside_the_scale_is_refused_on_the_field(
    company, as_user, km_anna, anna_client, kind, score
):
    response = as_user(km_anna).post(url(anna_client), answer(kind=kind, score=score))
    assert 'id="id_score-error"' in response.content.decode()
    assert not SurveyAnswer.objects.exists() and not Task.objects.exists()


def test_an_answer_from_the_future_is_refused(company, as_user, km_anna, anna_client):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    response = as_user(km_anna).post(url(anna_client), answer(answered_on=tomorrow.isoformat()))
    assert "An answer cannot come from the future." in response.content.decode()


def test_rights(company, as_user, outsider, km_boris, anna_client):
    assert as_user(outsider).post(url(anna_client), answer()).status_code == 404
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="support", level="read")
    assert as_user(km_boris).post(url(anna_client), answer()).status_code == 403
    assert not SurveyAnswer.objects.exists()


def test_the_card_panel_lists_answers(company, as_user, km_anna, anna_client):
    services.survey_answer_record(
        client=anna_client, acting_user=km_anna, kind="satisfaction", score=5, comment="All good"
    )
    http = as_user(km_anna)
    card = http.get(reverse("crm:client_detail", args=[anna_client.pk])).content.decode()
    panel_url = reverse("crm:client_knowledge", args=[anna_client.pk])
    assert f'hx-get="{panel_url}"' in card
    panel = http.get(panel_url, HTTP_HX_REQUEST="true").content.decode()
    assert "All good" in panel and "<html" not in panel
    assert "All good" in http.get(panel_url).content.decode()  # the page without JavaScript
