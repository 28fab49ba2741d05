"""The work actions of the card's header: "Log a touch" for whoever may change
the client, a reactivation attempt only for a sleeping or lost client (as on
"my day"), nothing for a read grant; and the card's reactivation link leads
to an attempt the metric engine counts."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import ActivityPurpose, SalesType, TaskKind, TaskStatus
from crm.models import Activity, ClientGrant, Task
from segmentation.models import ClientMetricSnapshot
from tests.crm.day_data import HOME, TODAY, ago, lapsed, names
from tests.factories import ClientFactory
from tests.segmentation._data import line, run

pytestmark = pytest.mark.django_db

LOG_A_TOUCH = "Log a touch"
REACTIVATE = "Record a reactivation attempt"


@pytest.fixture
def book(company, km_anna):
    """Anna's sleeping, lost and active clients, as a run made yesterday saw them
    (the engine counts an attempt on what a run before the attempt's day showed)."""
    active = ClientFactory(owner=km_anna, name="Orders every month")
    for months_back in range(6):
        line(active, ago(10 + 30 * months_back), 1000)
    clients = {
        "sleeping": lapsed(km_anna, "Sleeping 100 days", 100),
        "lost": lapsed(km_anna, "Lost 400 days", 400),
        "active": active,
    }
    latest = run(ago(1))
    statuses = dict(
        ClientMetricSnapshot.objects.filter(run=latest).values_list("client_id", "status")
    )
    assert {key: statuses[c.pk] for key, c in clients.items()} == {
        "sleeping": "sleeping",
        "lost": "lost",
        "active": "active",
    }
    return clients


def card_url(client, tab: str | None = None) -> str:
    url = reverse("crm:client_detail", args=[client.pk])
    return f"{url}?tab={tab}" if tab else url


def touch_url(client) -> str:
    return reverse("crm:touch_create", args=[client.pk])


def header_actions(body: str) -> dict[str, tuple[str, str]]:
    """The links of the card header's work actions: text -> (href, hx-get)."""
    found = re.search(r'<div class="work-actions">(.*?)</div>', body, re.S)
    if found is None:
        return {}
    links = re.findall(
        r'<a class="button[^"]*" href="([^"]*)" hx-get="([^"]*)"[^>]*>([^<]+)</a>', found.group(1)
    )
    return {text.strip(): (href, hx_get) for href, hx_get, text in links}


class FormReader(HTMLParser):
    """What a browser would submit from the first form of a page, untouched:
    its action, and the value of each field as the page filled it in."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action: str | None = None
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: str | None = None
        self._textarea: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind == "checkbox":
                if "checked" in a:
                    self.values[a["name"]] = a.get("value", "on")
            elif kind not in ("submit", "button"):
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = a.get("name"), None
        elif tag == "option" and self._select:
            if self._first_option is None:
                self._first_option = a.get("value", "")
                self.values.setdefault(self._select, self._first_option)
            if "selected" in a:
                self.values[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.values[self._textarea] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            # A browser drops the newline that opens a textarea's text.
            text = self.values[self._textarea]
            self.values[self._textarea] = text.removeprefix("\n")
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data


@pytest.mark.parametrize("status", ["sleeping", "lost"])
def test_a_lapsed_client_offers_a_touch_and_a_reactivation_attempt(book, as_user, km_anna, status):
    client = book[status]
    body = as_user(km_anna).get(card_url(client)).content.decode()
    actions = header_actions(body)
    assert actions[LOG_A_TOUCH] == (touch_url(client), touch_url(client))
    attempt = f"{touch_url(client)}?reactivation=1"
    assert actions[REACTIVATE] == (attempt, attempt)


def test_an_active_client_offers_a_touch_but_no_reactivation_attempt(book, as_user, km_anna):
    client = book["active"]
    body = as_user(km_anna).get(card_url(client)).content.decode()
    actions = header_actions(body)
    assert actions[LOG_A_TOUCH] == (touch_url(client), touch_url(client))
    assert REACTIVATE not in actions
    assert "?reactivation=1" not in body


def test_a_strategic_client_is_never_offered_a_reactivation_attempt(book, as_user, km_anna):
    client = book["sleeping"]
    client.sales_type = SalesType.STRATEGIC
    client.save()
    actions = header_actions(as_user(km_anna).get(card_url(client)).content.decode())
    assert LOG_A_TOUCH in actions and REACTIVATE not in actions


def test_without_a_metric_run_the_status_is_unknown_and_no_attempt_is_offered(
    company, as_user, km_anna
):
    client = lapsed(km_anna, "Sleeping, never computed", 100)
    actions = header_actions(as_user(km_anna).get(card_url(client)).content.decode())
    assert LOG_A_TOUCH in actions and REACTIVATE not in actions


def test_an_edit_grant_gets_the_actions_and_a_read_grant_neither(book, as_user, km_boris, kam_oleg):
    client = book["sleeping"]
    ClientGrant.objects.create(client=client, user=kam_oleg, reason="kam", level="edit")
    ClientGrant.objects.create(client=client, user=km_boris, reason="support", level="read")

    editor = header_actions(as_user(kam_oleg).get(card_url(client)).content.decode())
    assert set(editor) >= {LOG_A_TOUCH, REACTIVATE}

    reader = as_user(km_boris).get(card_url(client))
    assert reader.status_code == 200 and reader.context["can_edit"] is False
    body = reader.content.decode()
    assert client.name in body  # the card itself is shown
    assert header_actions(body) == {}
    assert touch_url(client) not in body
    assert LOG_A_TOUCH not in body and REACTIVATE not in body


def test_the_cards_reactivation_link_records_the_attempt_the_engine_counts(book, as_user, km_anna):
    from segmentation.conf import metric_settings
    from segmentation.engine.reactivation import reactivation_conversions

    client = book["sleeping"]
    card = card_url(client)
    http = as_user(km_anna)
    href, hx_get = header_actions(http.get(card).content.decode())[REACTIVATE]

    dialog = http.get(
        hx_get, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL=f"http://testserver{card}"
    )
    assert dialog.status_code == 200 and "<dialog" in dialog.content.decode()
    form = FormReader(dialog.content.decode())
    assert form.action == href
    # The dialog opens as a reactivation attempt: a retention touch, back to the card.
    assert form.values["reactivation"] == "on"
    assert form.values["purpose"] == ActivityPurpose.RETENTION
    assert form.values["next"] == f"http://testserver{card}"
    data = {
        **form.values,
        "summary": "Asked why the orders stopped",
        "outcome": "They buy elsewhere; will look at our new terms",
        "lapse_side": "ours",
        "lapse_reason": "Two late deliveries",
    }
    saved = http.post(form.action, data, HTTP_HX_REQUEST="true")
    assert saved.status_code == 200
    assert saved["HX-Redirect"] == f"http://testserver{card}"

    activity = Activity.objects.get(client=client)
    assert (activity.purpose, activity.outcome) == (
        ActivityPurpose.RETENTION,
        "They buy elsewhere; will look at our new terms",
    )
    attempt = Task.objects.get(client=client)
    assert (attempt.kind, attempt.status, attempt.assignee) == (
        TaskKind.REACTIVATION,
        TaskStatus.DONE,
        km_anna,
    )
    assert "Two late deliveries" in attempt.description
    conversions = reactivation_conversions(as_of=TODAY, conf=metric_settings())
    mine = conversions[conversions["person_id"] == km_anna.pk]
    assert int(mine["attempted"].sum()) == 1

    # The card's touches tab shows it; "my day" waits for an order instead of asking again.
    timeline = http.get(card_url(client, "activities")).content.decode()
    assert "Asked why the orders stopped" in timeline
    assert "They buy elsewhere; will look at our new terms" in timeline
    assert "Retention" in timeline
    sections = http.get(HOME).context["sections"]
    assert client.name not in names(sections["reactivation"])
    assert names(sections["attempted"]) == [client.name]
    assert timezone.localdate(sections["attempted"].rows[0].last_attempt_at) == TODAY
