"""A client manager opens "my day", finds a sleeping client (the metric run on
hand-made shipments says so), records a reactivation attempt in the dialog,
and sees the client move to the clients waiting for an order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.choices import ActivityPurpose, TaskKind, TaskStatus
from crm.models import Activity, ShipmentLine, Task
from segmentation.services import metrics_recompute
from tests.factories import PASSWORD, ClientFactory, ProductFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_record_a_reactivation_attempt_from_my_day(page, screenshot, company, km_anna):
    today = timezone.localdate()
    product = ProductFactory()
    sleeping = ClientFactory(name="ООО «Соня»", owner=km_anna)
    active = ClientFactory(name="ООО «Бодрый»", owner=km_anna)
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
    next_due = today + dt.timedelta(days=7)

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(km_anna.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Anna").wait_for()

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
