"""A client manager finds a client by part of its INN, logs a call with a next
step in the dialog, and finds the task on "my day" (the home page) and on
"My tasks"."""

from __future__ import annotations

import pytest
from django.utils import timezone

from crm.models import Activity, Task
from tests.factories import PASSWORD, ClientFactory, ContactFactory, inn_with_checksum

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_log_a_call_with_a_next_step_from_the_client_list(page, screenshot, company, km_anna):
    client = ClientFactory(name="ООО «Василёк»", owner=km_anna, inn=inn_with_checksum("503412345"))
    ClientFactory(name="ООО «Лютик»", owner=km_anna)
    contact = ContactFactory(client=client, full_name="Мария Соколова")
    due = timezone.localdate()  # due today: "my day" lists what is due today and overdue

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(km_anna.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Anna").wait_for()

    page.get_by_role("link", name="Clients", exact=True).click()
    page.wait_for_url("**/clients/")  # loaded: htmx listens to the search box
    page.get_by_label("Search").fill(client.inn[3:9])
    page.wait_for_url(f"**q={client.inn[3:9]}**")
    row = page.get_by_role("row").filter(has_text=client.name)
    row.wait_for()
    assert page.get_by_role("row").filter(has_text="ООО «Лютик»").count() == 0

    row.get_by_role("link", name="Log a touch").click()  # click 1: the dialog opens
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert dialog.get_by_label("Kind").input_value() == "call"
    dialog.get_by_label("Contact").select_option(label=contact.full_name)
    dialog.get_by_label("Summary").fill("Discussed the autumn order")
    dialog.get_by_label("What to do next").fill("Send the offer for the autumn order")
    dialog.get_by_label("Next step due").fill(due.isoformat())
    screenshot("touch-dialog")
    dialog.get_by_role("button", name="Save").click()  # click 2: saved, back to the list

    page.get_by_text("Touch logged.").wait_for()
    assert "q=" in page.url
    page.get_by_role("link", name="Home", exact=True).click()
    tasks_due = page.locator("#day-tasks")
    day_row = tasks_due.get_by_role("row").filter(has_text="Send the offer for the autumn order")
    day_row.wait_for()
    assert client.name in day_row.inner_text()
    assert tasks_due.get_by_role("button", name="Done").count() == 1
    screenshot("my-day-task")
    page.goto("/clients/tasks/")
    page.get_by_role("heading", name="My tasks").wait_for()
    task_row = page.get_by_role("row").filter(has_text="Send the offer for the autumn order")
    task_row.wait_for()
    assert client.name in task_row.inner_text()
    screenshot("my-tasks")

    activity = Activity.objects.get()
    assert (activity.client, activity.contact, activity.performed_by) == (
        client,
        contact,
        km_anna,
    )
    task = Task.objects.get()
    assert (task.assignee, task.due_on, task.client) == (km_anna, due, client)
