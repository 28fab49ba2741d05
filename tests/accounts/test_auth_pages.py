"""Login, lockout, logout, password change and reset, language choice."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_login_by_email_is_case_insensitive(client, km_anna):
    response = client.post(
        reverse("accounts:login"), {"username": "  ANNA@example.test", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_wrong_password_gives_a_clear_message_and_no_session(client, km_anna):
    response = client.post(
        reverse("accounts:login"), {"username": km_anna.email, "password": "wrong"}
    )
    assert response.status_code == 200
    assert "The e-mail address or the password is wrong." in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_rejects_a_malformed_address_on_the_field(client, km_anna):
    response = client.post(reverse("accounts:login"), {"username": "anna", "password": "x"})
    assert response.status_code == 200
    assert "username" in response.context["form"].errors


def test_repeated_failures_lock_the_account(client, km_anna, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": km_anna.email, "password": "wrong"})
    response = client.post(
        reverse("accounts:login"), {"username": km_anna.email, "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logout_needs_post_and_ends_the_session(as_user, km_anna):
    http = as_user(km_anna)
    response = http.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert http.get(reverse("home")).status_code == 302


def test_password_change_applies_the_validators(as_user, km_anna):
    http = as_user(km_anna)
    url = reverse("accounts:password_change")
    response = http.post(
        url, {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"}
    )
    assert response.status_code == 200
    assert "new_password2" in response.context["form"].errors
    response = http.post(
        url,
        {
            "old_password": PASSWORD,
            "new_password1": "Quiet-river-2026",
            "new_password2": "Quiet-river-2026",
        },
    )
    assert response.status_code == 302
    km_anna.refresh_from_db()
    assert km_anna.check_password("Quiet-river-2026")


def test_password_reset_sends_a_working_link(client, km_anna, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": km_anna.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/password/reset/\S+/)", mail.outbox[0].body)
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    assert form_page.status_code == 200
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "Quiet-river-2026", "new_password2": "Quiet-river-2026"},
    )
    assert response.status_code == 302
    km_anna.refresh_from_db()
    assert km_anna.check_password("Quiet-river-2026")


def test_password_reset_for_an_unknown_address_reveals_nothing(
    client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:password_reset"), {"email": "nobody@x.test"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_language_choice_is_kept_on_the_user(as_user, km_anna):
    http = as_user(km_anna)
    response = http.post(reverse("accounts:language"), {"language": "ru", "next": "/clients/"})
    assert response.status_code == 302
    assert response["Location"] == "/clients/"
    km_anna.refresh_from_db()
    assert km_anna.language == "ru"
    page = http.get(reverse("crm:client_list")).content.decode()
    assert '<html lang="ru">' in page
    assert "Клиенты" in page


def test_language_switch_refuses_foreign_redirects_and_unknown_languages(as_user, km_anna):
    http = as_user(km_anna)
    response = http.post(
        reverse("accounts:language"), {"language": "xx", "next": "https://evil.test/"}
    )
    assert response["Location"] == "/"
    km_anna.refresh_from_db()
    assert km_anna.language == ""


def test_admin_users_cannot_be_deleted(as_user, admin_olga, km_anna):
    admin_olga.is_superuser = True
    admin_olga.save()
    http = as_user(admin_olga)
    response = http.get(reverse("admin:accounts_user_delete", args=[km_anna.pk]))
    assert response.status_code == 403


def test_only_the_deepest_menu_entry_is_active(as_user, head_gleb, company):
    page = as_user(head_gleb).get(reverse("crm:estimates_to_verify"))
    active = [item["label"] for item in page.context["nav_items"] if item["active"]]
    assert [str(label) for label in active] == ["Estimates"]
