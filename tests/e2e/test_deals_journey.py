"""A client manager drags a deal card to the next stage on the deals board."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.models import Deal
from tests.factories import PASSWORD, ClientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_drag_a_deal_to_the_next_stage(page, screenshot, company, km_anna):
    client = ClientFactory(name="ООО «Сделка»", owner=km_anna)
    deal = Deal.objects.create(
        client=client,
        owner=km_anna,
        kind="new_business",
        title="Autumn supply",
        amount=Decimal(1_250_000),
    )

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(km_anna.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Anna").wait_for()
    page.set_viewport_size({"width": 1920, "height": 1000})  # every column in view
    page.goto("/clients/deals/")

    card = page.locator("[data-deal-card]").filter(has_text="Autumn supply")
    card.wait_for()
    assert "1,250,000" in card.inner_text()
    card.drag_to(page.locator('section[data-stage="needs"]'))

    page.get_by_text("Autumn supply moved to Needs analysis.").wait_for()
    needs = page.locator('section[data-stage="needs"]')
    needs.locator("[data-deal-card]").filter(has_text="Autumn supply").wait_for()
    screenshot("deals-board")
    deal.refresh_from_db()
    assert deal.stage == "needs"

    # Lost asks for a reason: the card's own form takes it.
    card = needs.locator("[data-deal-card]").filter(has_text="Autumn supply")
    card.drag_to(page.locator('section[data-stage="lost"]'))
    form = card.locator("form")
    form.get_by_label("Reason").wait_for()  # the drop opened the card's form
    assert form.get_by_label("Stage").input_value() == "lost"
    form.get_by_label("Reason").fill("The client chose a cheaper supplier")
    form.get_by_role("button", name="Move").click()
    page.get_by_text("Autumn supply moved to Lost.").wait_for()
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason) == ("lost", "The client chose a cheaper supplier")
