"""A manager logs in, sees the home page and their client, and switches to Russian."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD, ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_login_home_and_switch_to_russian(page, screenshot, company, km_anna, km_boris):
    mine = ClientFactory(name="ООО «Ромашка»", owner=km_anna)
    ClientFactory(name="ООО «Чужая»", owner=km_boris)

    page.goto("/")
    assert "/accounts/login/" in page.url
    page.get_by_label("E-mail address").fill(km_anna.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    assert (
        page.get_by_role("alert")
        .inner_text()
        .startswith("The e-mail address or the password is wrong.")
    )

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Anna").wait_for()
    screenshot("home-en")

    page.get_by_role("link", name="Clients", exact=True).click()
    page.wait_for_url("**/clients/")  # loaded: htmx listens to the search box
    page.get_by_role("link", name=mine.name).wait_for()
    assert page.get_by_text("ООО «Чужая»").count() == 0

    page.get_by_label("Search").fill(mine.inn[:6])
    page.wait_for_url(f"**q={mine.inn[:6]}**")
    page.get_by_role("link", name=mine.name).wait_for()

    page.get_by_label("Language").select_option("ru")
    page.wait_for_load_state()
    page.get_by_role("link", name="Клиенты", exact=True).wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    screenshot("clients-ru")

    km_anna.refresh_from_db()
    assert km_anna.language == "ru"
