"""Who sees which client: pages, API, admin and search all use one scope."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import client_can_edit, clients_visible_to
from crm.models import ClientGrant
from tests.factories import ClientFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_owner_sees_own_client_and_not_a_colleagues(
    company, as_user, km_anna, anna_client, boris_client
):
    http = as_user(km_anna)
    assert http.get(reverse("crm:client_detail", args=[anna_client.pk])).status_code == 200
    assert http.get(reverse("crm:client_detail", args=[boris_client.pk])).status_code == 404
    assert http.get(reverse("crm:client_edit", args=[boris_client.pk])).status_code == 404


def test_client_list_and_search_show_only_visible_clients(
    company, as_user, km_anna, anna_client, boris_client
):
    http = as_user(km_anna)
    page = http.get(reverse("crm:client_list")).content.decode()
    assert anna_client.name in page
    assert boris_client.name not in page
    found = http.get(reverse("crm:client_list"), {"q": boris_client.inn}).content.decode()
    assert boris_client.name not in found
    assert "0 clients" in found


def test_head_sees_clients_of_the_team_subtree_recursively(
    company, as_user, head_vera, head_gleb, anna_client, boris_client, outsider_client
):
    for head in (head_gleb, head_vera):
        visible = set(clients_visible_to(user=head))
        assert {anna_client, boris_client} <= visible
        assert outsider_client not in visible
    http = as_user(head_vera)
    assert http.get(reverse("crm:client_detail", args=[boris_client.pk])).status_code == 200
    assert http.get(reverse("crm:client_detail", args=[outsider_client.pk])).status_code == 404


@pytest.mark.parametrize("grants_as_constants", [500, 0])
def test_a_head_sees_a_client_beyond_the_teams_while_a_grant_lasts(
    company, as_user, head_gleb, anna_client, outsider_client, monkeypatch, grants_as_constants
):
    """Card and edit pages, with the grants read as constants or as a subquery."""
    import accounts.selectors

    monkeypatch.setattr(accounts.selectors, "GRANTS_AS_CONSTANTS", grants_as_constants)
    card = reverse("crm:client_detail", args=[outsider_client.pk])
    edit = reverse("crm:client_edit", args=[outsider_client.pk])
    assert as_user(head_gleb).get(card).status_code == 404
    grant = ClientGrant.objects.create(
        client=outsider_client, user=head_gleb, reason="read", level="view"
    )
    http = as_user(head_gleb)
    assert http.get(card).status_code == 200
    assert http.get(edit).status_code == 403  # seen, not his to change
    grant.level = "edit"
    grant.save()
    assert http.get(edit).status_code == 200
    # Another grant stays in force: with no room for constants they stay a subquery.
    other = ClientFactory(owner=outsider_client.owner)
    ClientGrant.objects.create(client=other, user=head_gleb, reason="read", level="view")
    grant.expires_at = timezone.now() - dt.timedelta(minutes=1)
    grant.save()
    assert http.get(card).status_code == 404
    assert http.get(reverse("crm:client_detail", args=[other.pk])).status_code == 200
    assert http.get(reverse("crm:client_detail", args=[anna_client.pk])).status_code == 200


def test_head_of_a_subteam_does_not_see_the_parent_teams_other_clients(
    company, head_gleb, head_vera
):
    vera_own = ClientFactory(owner=head_vera)
    assert vera_own not in clients_visible_to(user=head_gleb)


def test_kam_sees_key_accounts_through_grants_and_expired_grants_end(
    company, kam_oleg, key_account, boris_client
):
    assert list(clients_visible_to(user=kam_oleg)) == [key_account]
    assert client_can_edit(user=kam_oleg, client=key_account)
    ClientGrant.objects.filter(user=kam_oleg).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert list(clients_visible_to(user=kam_oleg)) == []


def test_read_grant_lets_see_but_not_edit(company, as_user, km_anna, boris_client):
    ClientGrant.objects.create(client=boris_client, user=km_anna, reason="co_owner", level="read")
    http = as_user(km_anna)
    assert http.get(reverse("crm:client_detail", args=[boris_client.pk])).status_code == 200
    assert http.get(reverse("crm:client_edit", args=[boris_client.pk])).status_code == 403


def test_admin_sees_everything(company, admin_olga, anna_client, outsider_client):
    assert {anna_client, outsider_client} <= set(clients_visible_to(user=admin_olga))


def test_inactive_and_anonymous_users_see_nothing(company, km_anna, anna_client, client):
    km_anna.is_active = False
    km_anna.save()
    assert not clients_visible_to(user=km_anna).exists()
    response = client.get(reverse("crm:client_detail", args=[anna_client.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_api_refuses_other_managers_clients_with_404(
    company, as_user, km_anna, anna_client, boris_client
):
    http = as_user(km_anna)
    listing = http.get("/api/v1/clients/").json()
    assert [row["id"] for row in listing["results"]] == [anna_client.pk]
    assert http.get(f"/api/v1/clients/{boris_client.pk}/").status_code == 404
    response = http.patch(
        f"/api/v1/clients/{boris_client.pk}/", {"name": "Hijack"}, content_type="application/json"
    )
    assert response.status_code == 404
    boris_client.refresh_from_db()
    assert boris_client.name != "Hijack"


def test_api_contacts_are_scoped_through_their_client(
    company, as_user, km_anna, anna_client, boris_client
):
    from tests.factories import ContactFactory

    mine = ContactFactory(client=anna_client)
    theirs = ContactFactory(client=boris_client)
    http = as_user(km_anna)
    ids = [row["id"] for row in http.get("/api/v1/contacts/").json()["results"]]
    assert ids == [mine.pk]
    assert http.get(f"/api/v1/contacts/{theirs.pk}/").status_code == 404
    response = http.post(
        "/api/v1/contacts/",
        {"client": boris_client.pk, "full_name": "Spy"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "client" in response.json()
    assert not boris_client.contacts.filter(full_name="Spy").exists()


def test_api_needs_authentication(client, anna_client):
    assert client.get("/api/v1/clients/").status_code in (401, 403)


def test_token_authentication(company, km_anna, anna_client, client):
    from rest_framework.authtoken.models import Token

    token = Token.objects.create(user=km_anna)
    response = client.get("/api/v1/clients/", HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_admin_changelist_is_scoped_for_staff_heads(
    company, as_user, head_gleb, anna_client, outsider_client
):
    from django.contrib.auth.models import Permission

    head_gleb.is_staff = True
    head_gleb.save()
    head_gleb.user_permissions.add(Permission.objects.get(codename="view_client"))
    http = as_user(head_gleb)
    page = http.get(reverse("admin:crm_client_changelist")).content.decode()
    assert anna_client.name in page
    assert outsider_client.name not in page
    response = http.get(reverse("admin:crm_client_change", args=[outsider_client.pk]))
    assert response.status_code in (302, 404)


def test_anonymous_is_sent_to_login_from_every_page(client, anna_client):
    for url in (
        reverse("home"),
        reverse("crm:client_list"),
        reverse("crm:client_create"),
        reverse("accounts:team_list"),
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login"))


def test_team_page_is_for_heads_only(company, as_user, km_anna, head_gleb):
    assert as_user(km_anna).get(reverse("accounts:team_list")).status_code == 403
    page = as_user(head_gleb).get(reverse("accounts:team_list")).content.decode()
    assert "Moscow" in page
    assert "Other department" not in page


def test_user_in_several_teams_is_seen_by_each_head(company, head_gleb):
    from accounts.models import Team

    shared = UserFactory(roles=["km"])
    other_head = UserFactory(roles=["head"])
    Team.objects.get(name="Moscow").members.add(shared)
    Team.objects.create(name="Partners", head=other_head).members.add(shared)
    client = ClientFactory(owner=shared)
    assert client in clients_visible_to(user=head_gleb)
    assert client in clients_visible_to(user=other_head)
    assert clients_visible_to(user=other_head).count() == 1


def test_deactivate_user_command_moves_the_book(company, km_anna, km_boris, admin_olga):
    from django.core.management import CommandError, call_command

    ClientFactory.create_batch(3, owner=km_anna)
    with pytest.raises(CommandError, match="No user with the e-mail"):
        call_command(
            "deactivate_user", km_anna.email, successor="nobody@x.test", by=admin_olga.email
        )
    with pytest.raises(CommandError, match="Only an administrator"):
        call_command("deactivate_user", km_anna.email, successor=km_boris.email, by=km_boris.email)
    call_command("deactivate_user", km_anna.email, successor=km_boris.email, by=admin_olga.email)
    km_anna.refresh_from_db()
    assert not km_anna.is_active
    assert km_boris.owned_clients.count() == 3
