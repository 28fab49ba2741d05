"""Plan – forecast – report in Chromium: a head sets a month's plan for a manager's
client in the row, the manager enters a forecast, and the head sees plan, forecast
and actual side by side."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Period, SalesForecast, SalesPlan
from tests.factories import PASSWORD, ClientFactory, ShipmentLineFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def log_in(page, user, greeting: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=f"Hello, {greeting}").wait_for()


def test_head_plans_manager_forecasts_head_compares(page, screenshot, company, head_gleb, km_anna):
    client = ClientFactory(name="ООО «Ромашка»", owner=km_anna)
    ClientFactory(name="ООО «Лютик»", owner=km_anna)
    ShipmentLineFactory(client=client, doc_date=timezone.localdate(), amount=Decimal("42000"))
    month = Period.containing("month", timezone.localdate())

    # The head opens the plans, then Anna's clients, and sets the plan in the row.
    log_in(page, head_gleb, "Gleb")
    page.goto("/clients/plans/")
    page.get_by_role("heading", name=f"Plans and forecasts, {month.label}").wait_for()
    page.get_by_role("row").filter(has_text="Moscow").wait_for()
    page.get_by_role("link", name="Anna Kim").click()
    row = page.get_by_role("row").filter(has_text=client.name)
    row.get_by_role("link", name="Set plan").click()
    form = page.get_by_role("form", name=f"Plan for {client.name}, {month.label}")
    form.wait_for()
    form.get_by_label("Amount").fill("-5")
    form.get_by_role("button", name="Save plan").click()
    form.get_by_text("An amount cannot be negative.").wait_for()  # nothing saved
    assert not SalesPlan.objects.exists()
    form.get_by_label("Amount").fill("250000")
    form.get_by_label("Share of wallet, %").fill("12.5")
    screenshot("plan-inline-form")
    form.get_by_role("button", name="Save plan").click()
    page.get_by_text("Plan saved.").wait_for()
    assert "/clients/plans/manager/" in page.url
    page.get_by_role("button", name="Log out").click()

    # The manager sees the plan and enters a forecast.
    log_in(page, km_anna, "Anna")
    page.goto("/clients/plans/")
    row = page.get_by_role("row").filter(has_text=client.name)
    assert "250,000" in row.inner_text()
    assert "Set plan" not in row.inner_text()
    row.get_by_role("link", name="Enter forecast").click()
    form = page.get_by_role("form", name=f"Forecast for {client.name}, {month.label}")
    form.get_by_label("Amount").fill("230000")
    form.get_by_label("Comment").fill("The autumn order slips to next month")
    form.get_by_role("button", name="Save forecast").click()
    page.get_by_text("Forecast saved.").wait_for()
    page.get_by_role("button", name="Log out").click()

    # The head reloads the plans of Anna's clients: plan, forecast and actual together.
    log_in(page, head_gleb, "Gleb")
    page.goto("/clients/plans/")
    page.get_by_role("link", name="Anna Kim").click()
    row = page.get_by_role("row").filter(has_text=client.name)
    row.wait_for()
    cells = {
        name: row.locator(f"td[data-col={name}]").inner_text()
        for name in ("plan", "forecast", "actual", "forecast-gap", "share-plan")
    }
    assert cells["plan"] == "250,000\u00a0₽"
    assert cells["forecast"] == "230,000\u00a0₽"
    assert cells["actual"].startswith("42,000\u00a0₽")
    assert cells["forecast-gap"] == "-20,000\u00a0₽"
    assert cells["share-plan"] == "12.5 %"
    manager_row = page.get_by_role("row").filter(has_text="Anna Kim")
    assert "250,000" in manager_row.locator("td[data-col=below]").inner_text()
    screenshot("plans-head-after-forecast")

    plan = SalesPlan.objects.get()
    forecast = SalesForecast.objects.get()
    assert (plan.client, plan.period_start, plan.amount, plan.set_by) == (
        client,
        month.start,
        Decimal("250000"),
        head_gleb,
    )
    assert (forecast.client, forecast.amount, forecast.entered_by) == (
        client,
        Decimal("230000"),
        km_anna,
    )
