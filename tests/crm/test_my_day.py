"""'My day' (the home page): each section lists the right rows of the user's own
book, or of a head's teams, from a real metric run on hand-made shipments,
with its action one click away and a bounded number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.choices import ActivityPurpose, TaskKind, TaskStatus
from crm.models import Activity, ClientGrant, Deal, Task
from crm.selectors.day import SECTION_LIMIT
from segmentation.models import SegmentRuleSet
from tests.crm.day_data import HOME, TODAY, ago, deal, key_client, lapsed, names, task
from tests.factories import ClientFactory
from tests.segmentation._data import run

pytestmark = pytest.mark.django_db


def test_a_manager_sees_the_lists_of_her_own_book(day_data, as_user, km_anna):
    response = as_user(km_anna).get(HOME)
    assert response.status_code == 200
    sections = response.context["sections"]
    assert names(sections["overdue"]) == ["Key, touched 20 days ago"]
    assert sections["overdue"].rows[0].touch_due == ago(20) + dt.timedelta(days=14)
    # Sleeping first, the most recently lapsed first; then lost. The read grant is not her book.
    assert names(sections["reactivation"]) == [
        "Sleeping 100 days",
        "Boris's, granted to Anna",
        "Lost 400 days",
    ]
    assert [r.reactivator for r in sections["reactivation"].rows] == ["Development specialist"] * 3
    assert names(sections["unrated"]) == [
        "Unrated buyer",
        "Boris's, granted to Anna",
        "Sleeping 100 days",
        "Lost 400 days",
    ]
    assert [t.title for t in sections["tasks"].rows] == [
        "Send the contract (late)",
        "Call back today",
    ]
    assert [d.title for d in sections["deals"].rows] == ["Should have closed", "Closes this month"]
    assert {key: s.count for key, s in sections.items()} == {
        "overdue": 1,
        "tasks": 2,
        "reactivation": 3,
        "attempted": 0,
        "unrated": 4,
        "deals": 2,
    }
    body = response.content.decode()
    c = day_data
    # Each row one click from its action.
    assert f'hx-get="{reverse("crm:touch_create", args=[c["overdue"].pk])}"' in body
    assert f"{reverse('crm:touch_create', args=[c['sleeping'].pk])}?reactivation=1" in body
    assert reverse("crm:estimate_create", args=[c["unrated"].pk]) in body
    late = Task.objects.get(title="Send the contract (late)")
    assert reverse("crm:task_status", args=[late.pk, "complete"]) in body
    assert reverse("crm:task_edit", args=[late.pk]) in body
    assert reverse("crm:deal_move", args=[Deal.objects.get(title="Closes this month").pk]) in body
    assert "2,500,000\u00a0₽" in body
    for hidden in ("Outsider&#x27;s, read by Anna", "Boris&#x27;s sleeping", "Boris&#x27;s task"):
        assert hidden not in body


def test_a_head_sees_the_lists_of_his_teams_or_his_own_book(day_data, as_user, head_gleb):
    http = as_user(head_gleb)
    team = http.get(HOME)
    assert team.context["scope"] == "team"
    sections = team.context["sections"]
    assert names(sections["reactivation"]) == [
        "Sleeping 100 days",
        "Boris's, granted to Anna",
        "Boris's sleeping",
        "Lost 400 days",
    ]
    assert sorted(d.title for d in sections["deals"].rows) == [
        "Boris's deal",
        "Closes this month",
        "Should have closed",
    ]
    assert sections["tasks"].rows == []  # tasks are always one's own
    # His people's clients are his to work on: each row keeps its action.
    body = team.content.decode()
    for client in (day_data["sleeping"], day_data["boris"]):
        assert f"{reverse('crm:touch_create', args=[client.pk])}?reactivation=1" in body
    assert reverse("crm:estimate_create", args=[day_data["unrated"].pk]) in body
    # The head keeps the team panels.
    assert team.context["book_sizes"] and "Estimates to verify" in {
        p.title for p in team.context["panels"]
    }
    assert "Books of my teams" in team.content.decode()
    mine = http.get(HOME, {"scope": "mine"}).context["sections"]
    assert all(s.count == 0 for s in mine.values())


def test_a_heads_books_count_each_visible_client_once(day_data, as_user, head_gleb, outsider):
    """The tile and the books table: per owner of a visible client, the head's grants included."""
    from collections import Counter

    from accounts.selectors import clients_visible_to
    from tests.factories import ClientFactory

    foreign = ClientFactory(owner=outsider, name="Outsider's, granted to Gleb")
    ClientGrant.objects.create(client=foreign, user=head_gleb, reason="support")
    page = as_user(head_gleb).get(HOME).context
    visible = list(clients_visible_to(user=head_gleb).values_list("owner_id", flat=True))
    assert page["visible_clients_count"] == len(visible)
    expected = Counter(visible)
    shown = {owner.pk: owner.clients_count for owner in page["book_sizes"]}
    assert shown == {owner_id: expected[owner_id] for owner_id in shown}
    assert shown[outsider.pk] == 1  # only the granted client, not the outsider's whole book
    counts = [owner.clients_count for owner in page["book_sizes"]]
    assert counts == sorted(counts, reverse=True)


def test_an_outsider_sees_nothing_of_other_books(day_data, as_user, outsider):
    sections = as_user(outsider).get(HOME).context["sections"]
    assert names(sections["reactivation"]) == ["Outsider's, read by Anna"]
    assert sections["deals"].rows == [] and sections["overdue"].rows == []
    # A manager cannot widen the scope.
    widened = as_user(outsider).get(HOME, {"scope": "team"})
    assert widened.context["scope"] == "mine"


def test_a_reactivation_attempt_moves_the_client_to_waiting(day_data, as_user, km_anna):
    client = day_data["sleeping"]
    http = as_user(km_anna)
    url = reverse("crm:touch_create", args=[client.pk]) + "?reactivation=1"
    dialog = http.get(url, HTTP_HX_REQUEST="true", HTTP_HX_CURRENT_URL="http://testserver/")
    form = dialog.context["form"]
    assert form["reactivation"].value() is True
    assert form["purpose"].value() == ActivityPurpose.RETENTION
    due = TODAY + dt.timedelta(days=3)
    response = http.post(
        url,
        {
            "kind": "call",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "purpose": "retention",
            "initiated_by": "us",
            "summary": "Asked why they stopped ordering",
            "reactivation": "on",
            "lapse_side": "ours",
            "lapse_reason": "Late deliveries",
            "next_title": "Send the new price list",
            "next_due_on": due.isoformat(),
            "next": HOME,
        },
    )
    assert response.status_code == 302 and response["Location"] == HOME
    activity = Activity.objects.get(client=client)
    assert activity.purpose == ActivityPurpose.RETENTION
    attempt, next_step = Task.objects.filter(client=client).order_by("id")
    assert (attempt.kind, attempt.status) == (TaskKind.REACTIVATION, TaskStatus.DONE)
    assert "Late deliveries" in attempt.description
    assert (next_step.kind, next_step.status, next_step.due_on) == (
        TaskKind.REACTIVATION,
        TaskStatus.OPEN,
        due,
    )
    sections = http.get(HOME).context["sections"]
    assert "Sleeping 100 days" not in names(sections["reactivation"])
    assert names(sections["attempted"]) == ["Sleeping 100 days"]
    assert timezone.localdate(sections["attempted"].rows[0].last_attempt_at) == TODAY
    # An attempt older than the pause brings the client back for another try.
    from crm.selectors.day import REACTIVATION_PAUSE_DAYS

    long_ago = timezone.now() - dt.timedelta(days=REACTIVATION_PAUSE_DAYS + 1)
    Task.objects.filter(client=client).update(created_at=long_ago)
    sections = http.get(HOME).context["sections"]
    assert "Sleeping 100 days" in names(sections["reactivation"])
    assert sections["attempted"].count == 0


def test_tasks_are_done_from_my_day(day_data, as_user, km_anna):
    late = Task.objects.get(title="Send the contract (late)")
    http = as_user(km_anna)
    response = http.post(
        reverse("crm:task_status", args=[late.pk, "complete"]), {"next": HOME}, follow=True
    )
    assert response.redirect_chain[-1][0] == HOME
    assert [t.title for t in response.context["sections"]["tasks"].rows] == ["Call back today"]


@pytest.mark.parametrize("rules", ["kept", "none"])
def test_without_a_metric_run_the_page_says_so_calmly(company, as_user, km_anna, head_gleb, rules):
    """Also with no rule set at all (a database emptied by hand): nothing to read, no error."""
    if rules == "none":
        SegmentRuleSet.objects.all().delete()
    ClientFactory(owner=km_anna)
    for user in (km_anna, head_gleb):
        response = as_user(user).get(HOME)
        assert response.status_code == 200
        body = response.content.decode()
        assert "No touch is overdue." in body and "Every client has a verified wallet." in body
        for section in ("overdue", "reactivation", "unrated"):
            assert as_user(user).get(HOME, {"show": section}).status_code == 200


@pytest.fixture
def busy_day(company, amount_rules, km_anna, km_boris):
    """More rows than a section shows, in every section, for Anna and for Boris."""
    for owner in (km_anna, km_boris):
        for i in range(24):
            key_client(owner, f"{owner.first_name} key {i:02}", touched_days_ago=30)
            sleeping = lapsed(owner, f"{owner.first_name} sleeping {i:02}", 100 + i)
            tried = lapsed(owner, f"{owner.first_name} tried {i:02}", 100 + i)
            task(owner, f"Task {i}", ago(i % 3), client=sleeping)
            task(
                owner, f"Tried {i}", ago(1), client=tried, kind=TaskKind.REACTIVATION, status="done"
            )
            deal(sleeping, f"Deal {i}", TODAY.replace(day=1) + dt.timedelta(days=i % 20))
    run(TODAY)


def test_my_day_keeps_a_bounded_number_of_queries(
    busy_day, as_user, km_anna, head_gleb, django_assert_max_num_queries
):
    anna = as_user(km_anna)
    with django_assert_max_num_queries(17):
        response = anna.get(HOME)
    sections = response.context["sections"]
    for key in ("overdue", "tasks", "reactivation", "attempted", "unrated", "deals"):
        assert sections[key].count == (48 if key == "unrated" else 24), key
        assert len(sections[key].rows) == SECTION_LIMIT and sections[key].more, key
    assert "Show all 24" in response.content.decode()
    gleb = as_user(head_gleb)
    with django_assert_max_num_queries(21):  # a head also reads their people and grants once
        response = gleb.get(HOME)
    assert response.context["sections"]["reactivation"].count == 48
    with django_assert_max_num_queries(16):
        full = anna.get(HOME, {"show": "reactivation"})
    assert len(full.context["section"].rows) == 24


def test_one_s_own_lists_open_with_the_first_rows_of_their_full_lists(busy_day, km_anna):
    """The home page reads one's own book in one pass; its lists must begin as
    their "show all" pages do, ties (equal dates, amounts) ordered by name as the
    database orders names."""
    from crm.selectors import day

    for name in ("anna lower", "Ärger", "Юг", "beta", "Alpha", "alpha"):
        key_client(km_anna, f"{name} key")  # never touched: tied at the top of "overdue"
        lapsed(km_anna, f"{name} sleeping", 100)  # tied on days and on revenue
    lapsed(km_anna, "Lost long ago", 400)  # after every sleeping client
    run(TODAY)
    sections = day.my_day(user=km_anna, scope=day.SCOPE_MINE, today=TODAY)
    for key in ("overdue", "reactivation", "attempted", "unrated"):
        full = list(day.section_rows(key=key, user=km_anna, scope=day.SCOPE_MINE, today=TODAY))
        assert sections[key].count == len(full), key
        assert [row.pk for row in sections[key].rows] == [row.pk for row in full][:SECTION_LIMIT]
        shown = sections[key].rows[0]
        assert shown.client.name == full[0].client.name, key
    overdue = sections["overdue"].rows
    assert overdue[0].last_touch_at is None and overdue[0].max_days_between_touches == 14
    assert all(row.last_attempt_at is not None for row in sections["attempted"].rows)
    assert all(row.has_draft_wallet is False for row in sections["unrated"].rows)


def test_show_all_pages_through_a_whole_section(busy_day, as_user, km_anna):
    http = as_user(km_anna)
    first = http.get(HOME, {"show": "unrated"})
    assert first.context["page"].paginator.count == 48
    assert len(first.context["section"].rows) == 48 or first.context["page"].has_next()
    for key in ("overdue", "tasks", "attempted", "deals"):
        page = http.get(HOME, {"show": key})
        assert page.status_code == 200 and page.context["section"].count == 24, key
    assert http.get(HOME, {"show": "nonsense"}).context.get("sections") is not None
