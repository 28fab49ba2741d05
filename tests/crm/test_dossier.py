"""The dossier: team-only notes stay within the owner's team chain."""

from __future__ import annotations

import pytest
from django.urls import reverse

from crm import selectors, services
from crm.models import ClientGrant, DossierNote

pytestmark = pytest.mark.django_db


@pytest.fixture
def notes(company, km_anna, anna_client):
    team = services.dossier_note_create(
        client=anna_client,
        acting_user=km_anna,
        text="Secret: the CEO is leaving",
        visibility="team",
    )
    open_ = services.dossier_note_create(
        client=anna_client,
        acting_user=km_anna,
        text="Prefers calls after 10",
        visibility="everyone",
    )
    return {"team": team, "everyone": open_}


def visible_texts(user):
    return set(selectors.dossier_notes_visible_to(user=user).values_list("text", flat=True))


def test_the_owners_team_chain_reads_team_notes(
    notes, km_anna, km_boris, head_gleb, head_vera, admin_olga
):
    both = {"Secret: the CEO is leaving", "Prefers calls after 10"}
    for user in (km_anna, head_gleb, head_vera, admin_olga):
        assert visible_texts(user) == both, user
    # Boris is in Anna's team, but does not see her client: no notes at all.
    assert visible_texts(km_boris) == set()
    ClientGrant.objects.create(client=notes["team"].client, user=km_boris, reason="co_owner")
    assert visible_texts(km_boris) == both


def test_people_outside_the_chain_read_only_open_notes(notes, outsider, kam_oleg, anna_client):
    assert visible_texts(outsider) == set()
    for user in (outsider, kam_oleg):
        ClientGrant.objects.create(client=anna_client, user=user, reason="kam", level="edit")
        assert visible_texts(user) == {"Prefers calls after 10"}
        card_notes = selectors.client_dossier_notes(user=user, client=anna_client)
        assert [n.text for n in card_notes] == ["Prefers calls after 10"]


def test_the_author_outside_the_chain_keeps_reading_their_note(company, kam_oleg, anna_client):
    ClientGrant.objects.create(client=anna_client, user=kam_oleg, reason="kam", level="edit")
    services.dossier_note_create(
        client=anna_client, acting_user=kam_oleg, text="Oleg's own", visibility="team"
    )
    assert visible_texts(kam_oleg) == {"Oleg's own"}


def test_the_panel_hides_team_notes_from_outsiders(notes, as_user, kam_oleg, km_anna, anna_client):
    ClientGrant.objects.create(client=anna_client, user=kam_oleg, reason="kam", level="read")
    panel = reverse("crm:client_knowledge", args=[anna_client.pk])
    body = as_user(kam_oleg).get(panel).content.decode()
    assert "Prefers calls after 10" in body and "CEO" not in body
    assert "CEO" in as_user(km_anna).get(panel).content.decode()


def test_notes_are_written_and_edited_by_their_author_with_history(
    notes, as_user, km_anna, head_gleb, outsider, anna_client
):
    http = as_user(km_anna)
    created = http.post(
        reverse("crm:note_create", args=[anna_client.pk]),
        {"text": "Budget is approved in March", "visibility": "team"},
    )
    assert created.status_code == 302
    note = DossierNote.objects.get(text="Budget is approved in March")
    assert note.author == km_anna
    edit = reverse("crm:note_edit", args=[note.pk])
    assert http.post(edit, {"text": "Budget: March", "visibility": "everyone"}).status_code == 302
    note.refresh_from_db()
    assert (note.text, note.visibility) == ("Budget: March", "everyone")
    assert [h.text for h in note.history.order_by("history_date")] == [
        "Budget is approved in March",
        "Budget: March",
    ]
    assert note.history.order_by("-history_date").first().history_user == km_anna
    # The head reads it but does not rewrite someone else's words; others do not see it.
    assert as_user(head_gleb).post(edit, {"text": "x", "visibility": "team"}).status_code == 403
    assert as_user(outsider).get(edit).status_code == 404
