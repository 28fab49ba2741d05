"""A client manager finds a sleeping client (the metric run on hand-made
shipments says so), on "my day" or in the client list filtered by status,
records a reactivation attempt in the dialog (from the row of "my day", or
from the client's card), and sees the client move to the clients waiting for
an order."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.choices import ActivityPurpose, TaskKind, TaskStatus
from crm.models import Activity, ShipmentLine, Task
from segmentation.services import metrics_recompute
from tests.factories import PASSWORD, ClientFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sleeping_and_active(owner):
    """A client that ordered every month until 100 days ago, and one that ordered
    5 days ago; then a metric run as of today."""
    today = timezone.localdate()
    product = ProductFactory()
    sleeping = ClientFactory(name="ООО «Соня»", owner=owner)
    active = ClientFactory(name="ООО «Бодрый»", owner=owner)
    # Orders every month until 100 days ago, then nothing: sleeping (100 > 2 × ~30).
    for months_back in range(4, 9):
        ShipmentLine.objects.create(
            client=sleeping,
            product=product,
            doc_number=f"S-{months_back}",
            doc_date=today - dt.timedelta(days=100 + 30 * (months_back - 4)),
            qty=Decimal(1),
            amount=Decimal(40_000),
        )
    ShipmentLine.objects.create(
        client=active,
        product=product,
        doc_number="A-1",
        doc_date=today - dt.timedelta(days=5),
        qty=Decimal(1),
        amount=Decimal(9_000),
    )
    run = metrics_recompute(as_of=today, trigger="manual")
    assert run.status == "succeeded", run.error
    return sleeping, active


def log_in(page, user, greeting: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name=greeting).wait_for()


def test_record_a_reactivation_attempt_from_my_day(page, screenshot, company, km_anna):
    sleeping, active = sleeping_and_active(km_anna)
    next_due = timezone.localdate() + dt.timedelta(days=7)
    log_in(page, km_anna, "Hello, Anna")

    to_reactivate = page.locator("#day-reactivation")
    row = to_reactivate.get_by_role("row").filter(has_text=sleeping.name)
    row.wait_for()
    assert "Sleeping" in row.inner_text()
    assert to_reactivate.get_by_role("row").filter(has_text=active.name).count() == 0
    screenshot("my-day-sleeping")

    row.get_by_role("link", name="Record a reactivation attempt").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_label("This is a reactivation attempt").is_checked()
    dialog.get_by_label("Summary").fill("Asked why the orders stopped; they buy elsewhere now")
    dialog.get_by_label("Whose side caused the lapse").select_option("ours")
    dialog.get_by_label("Reason of the lapse").fill("Two late deliveries in the summer")
    dialog.get_by_label("What to do next").fill("Offer delivery within 48 hours")
    dialog.get_by_label("Next step due").fill(next_due.isoformat())
    screenshot("reactivation-dialog")
    dialog.get_by_role("button", name="Save").click()

    page.get_by_text("Touch logged.").wait_for()
    waiting = page.locator("#day-attempted")
    waiting.get_by_role("row").filter(has_text=sleeping.name).wait_for()
    assert (
        page.locator("#day-reactivation").get_by_role("row").filter(has_text=sleeping.name).count()
        == 0
    )
    screenshot("my-day-attempted")

    # Stored as a reactivation: a retention touch, the attempt the engine counts,
    # and the next step as a reactivation task.
    activity = Activity.objects.get(client=sleeping)
    assert activity.purpose == ActivityPurpose.RETENTION
    attempt = Task.objects.get(client=sleeping, status=TaskStatus.DONE)
    assert attempt.kind == TaskKind.REACTIVATION and attempt.assignee == km_anna
    assert "Two late deliveries in the summer" in attempt.description
    follow_up = Task.objects.get(client=sleeping, status=TaskStatus.OPEN)
    assert (follow_up.kind, follow_up.due_on, follow_up.title) == (
        TaskKind.REACTIVATION,
        next_due,
        "Offer delivery within 48 hours",
    )


def test_record_a_reactivation_attempt_from_the_clients_card(page, screenshot, company, km_anna):
    sleeping, active = sleeping_and_active(km_anna)
    log_in(page, km_anna, "Hello, Anna")
    to_reactivate = page.locator("#day-reactivation")
    to_reactivate.get_by_role("row").filter(has_text=sleeping.name).wait_for()
    assert (
        page.locator("#day-attempted").get_by_role("row").filter(has_text=sleeping.name).count()
        == 0
    )

    # The client list, filtered by status: the sleeping client, not the one that just ordered.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.wait_for_url("**/clients/")  # loaded: htmx listens to the filters
    filters = page.locator("form.client-filters")
    filters.get_by_role("combobox", name=re.compile(r"^Status")).select_option(label="Sleeping")
    page.wait_for_url("**status=sleeping**")
    row = page.get_by_role("row").filter(has_text=sleeping.name)
    row.wait_for()
    assert page.get_by_role("row").filter(has_text=active.name).count() == 0
    screenshot("clients-sleeping")

    row.get_by_role("link", name=sleeping.name).click()
    page.get_by_role("heading", name=sleeping.name, level=1).wait_for()
    card_url = page.url
    assert page.locator(".header-badges").get_by_text("Sleeping", exact=True).is_visible()
    screenshot("card-sleeping")

    page.get_by_role("link", name="Record a reactivation attempt").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_label("This is a reactivation attempt").is_checked()
    assert dialog.get_by_label("Purpose").input_value() == "retention"
    dialog.get_by_label("Summary").fill("Called the buyer about the pause in orders")
    dialog.get_by_label("Outcome").fill("They will compare our autumn prices with the new supplier")
    dialog.get_by_label("Whose side caused the lapse").select_option(label="The client's")
    dialog.get_by_label("Reason of the lapse").fill("A cheaper supplier since the spring")
    screenshot("card-reactivation-dialog")
    dialog.get_by_role("button", name="Save").click()

    # Back on the card: the attempt is on the touches tab.
    page.get_by_text("Touch logged.").wait_for()
    assert page.url == card_url
    page.get_by_role("navigation", name="Sections of the client card").get_by_role(
        "link", name="Touches"
    ).click()
    page.wait_for_url("**tab=activities**")
    touch = (
        page.locator("#timeline")
        .get_by_role("listitem")
        .filter(has_text="Called the buyer about the pause in orders")
    )
    touch.wait_for()
    text = touch.inner_text()
    assert "Retention" in text
    assert "Outcome: They will compare our autumn prices with the new supplier" in text
    screenshot("card-touches-attempt")

    # "My day": no longer to reactivate, waiting for an order.
    page.get_by_role("link", name="Home", exact=True).click()
    waiting = page.locator("#day-attempted")
    waiting.get_by_role("row").filter(has_text=sleeping.name).wait_for()
    assert to_reactivate.get_by_role("row").filter(has_text=sleeping.name).count() == 0
    screenshot("my-day-attempted-from-card")

    activity = Activity.objects.get(client=sleeping)
    assert (activity.purpose, activity.performed_by) == (ActivityPurpose.RETENTION, km_anna)
    attempt = Task.objects.get(client=sleeping)
    assert (attempt.kind, attempt.status, attempt.assignee) == (
        TaskKind.REACTIVATION,
        TaskStatus.DONE,
        km_anna,
    )
    assert "A cheaper supplier since the spring" in attempt.description
