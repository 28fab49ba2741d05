"""A head's home page counts per owner and keeps the counts in the cache: whatever
changes a client, its touches, tasks or estimates, the page's figures stay
those of the full lists, and an unchanged owner is not counted again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.selectors import clients_visible_to
from crm.choices import TaskKind
from crm.models import Activity, ClientGrant, Task
from crm.selectors import estimates_to_verify
from crm.selectors.day import RUN_SECTIONS, section_rows
from crm.services import clients_last_touch_refresh, clients_merge, clients_transfer_book
from tests.crm.day_data import HOME, key_client, lapsed, touch
from tests.factories import ClientFactory
from tests.segmentation._data import run, wallet

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("counts_cached")]

TO_VERIFY = reverse("crm:estimates_to_verify")


@pytest.fixture
def counts_cached():
    with override_settings(BOOK_COUNTS_CACHE=True):
        yield


def shown(http) -> dict[str, int]:
    """What the head's home page says: the lists' counts, the clients, the drafts."""
    page = http.get(HOME).context
    figures = {key: page["sections"][key].count for key in RUN_SECTIONS}
    figures["clients"] = page["visible_clients_count"]
    figures["drafts"] = next(p.count for p in page["panels"] if p.url == TO_VERIFY)
    figures["books"] = sum(owner.clients_count for owner in page["book_sizes"])
    return figures


def expected(head) -> dict[str, int]:
    """The same figures, counted on the full lists the page links to."""
    today = timezone.localdate()
    figures = {}
    for key in RUN_SECTIONS:
        rows = section_rows(key=key, user=head, scope="team", today=today)
        assert rows is not None
        figures[key] = rows.count()
    figures["clients"] = figures["books"] = clients_visible_to(user=head).count()
    figures["drafts"] = estimates_to_verify(user=head).count()
    return figures


def test_a_heads_counts_follow_every_change(
    day_data,
    as_user,
    head_gleb,
    km_anna,
    km_boris,
    outsider,
    django_capture_on_commit_callbacks,
):
    foreign = lapsed(outsider, "Outsider's, granted to Gleb", 200)
    ClientGrant.objects.create(client=foreign, user=head_gleb, reason="support")
    run(timezone.localdate())
    http = as_user(head_gleb)
    before = shown(http)
    assert before == expected(head_gleb)
    assert before["overdue"] and before["reactivation"] and before["unrated"]

    def change(action) -> dict[str, int]:
        with django_capture_on_commit_callbacks(execute=True):
            action()
        now = shown(http)
        assert now == expected(head_gleb)
        return now

    # A touch takes the key client off the overdue list.
    after = change(lambda: touch(day_data["overdue"], 1))
    assert after["overdue"] == before["overdue"] - 1
    # A reactivation attempt moves a sleeping client to the waiting list.
    after = change(
        lambda: Task.objects.create(
            title="Why did you stop?",
            due_on=timezone.localdate(),
            assignee=km_anna,
            created_by=km_anna,
            client=day_data["sleeping"],
            kind=TaskKind.REACTIVATION,
        )
    )
    assert (after["reactivation"], after["attempted"]) == (
        before["reactivation"] - 1,
        before["attempted"] + 1,
    )
    # A wallet estimate waits for a head.
    after = change(lambda: wallet(day_data["unrated"], 900_000, status="draft"))
    assert after["drafts"] == before["drafts"] + 1
    # A new client, then one given away beyond the head's teams.
    after = change(lambda: ClientFactory(owner=km_boris, name="Brand new"))
    assert after["clients"] == before["clients"] + 1

    def give_away() -> None:
        client = day_data["boris"]
        client.owner = outsider
        client.save()

    after = change(give_away)
    assert after["clients"] == before["clients"] and after["reactivation"] < before["reactivation"]
    # A whole book moved in bulk, and moved back.
    change(
        lambda: clients_transfer_book(from_user=km_anna, to_user=km_boris, acting_user=head_gleb)
    )
    change(
        lambda: clients_transfer_book(from_user=km_boris, to_user=km_anna, acting_user=head_gleb)
    )
    # A merge retires a card.
    after = change(
        lambda: clients_merge(
            survivor=day_data["fresh"], merged=day_data["unrated"], acting_user=head_gleb
        )
    )
    assert after["clients"] == before["clients"] - 1 and after["unrated"] < before["unrated"]
    # Touches written in bulk (the demo, a merge) and refreshed in one go.
    noon = timezone.now() - dt.timedelta(hours=1)

    def bulk_touches() -> None:
        Activity.objects.bulk_create(
            Activity(
                client=client,
                kind="call",
                occurred_at=noon,
                performed_by=km_anna,
                entered_by=km_anna,
                summary="bulk",
            )
            for client in (day_data["sleeping"], key_client(km_anna, "Key, new"))
        )
        clients_last_touch_refresh()

    change(bulk_touches)
    # A new metric run: the rows themselves change.
    after = change(lambda: run(timezone.localdate()))
    assert after == expected(head_gleb)
    # The client granted from outside the teams is counted too, and follows its changes.
    change(lambda: touch(foreign, 0))
    change(lambda: ClientGrant.objects.filter(user=head_gleb).delete())


def test_an_unchanged_owner_is_not_counted_again(
    day_data, as_user, head_gleb, km_anna, django_capture_on_commit_callbacks
):
    http = as_user(head_gleb)

    def visit() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            http.get(HOME)
        return [q["sql"] for q in queries.captured_queries if "GROUP BY" in q["sql"]]

    first = visit()
    assert len(first) == 3  # clients, drafts and the lists, per owner
    assert visit() == []  # nothing changed: every owner's counts come from the cache
    with django_capture_on_commit_callbacks(execute=True):
        touch(day_data["fresh"], 0)
    recounted = visit()
    assert len(recounted) == 3
    # Anna's clients only: "IN (id)", or on PostgreSQL one array of ids.
    only_anna = (f"IN ({km_anna.pk})", f"ANY(ARRAY[{km_anna.pk}])")
    assert all(any(term in sql for term in only_anna) for sql in recounted)
    assert visit() == []


def test_without_the_cache_every_visit_counts(day_data, as_user, head_gleb):
    http = as_user(head_gleb)
    with override_settings(BOOK_COUNTS_CACHE=False):
        for _ in range(2):
            with CaptureQueriesContext(connection) as queries:
                figures = shown(http)
            assert sum("GROUP BY" in q["sql"] for q in queries.captured_queries) == 3
            assert figures == expected(head_gleb)


def test_an_administrator_counts_every_book(
    day_data, as_user, admin_olga, km_anna, outsider, django_capture_on_commit_callbacks
):
    http = as_user(admin_olga)
    before = shown(http)
    assert before == expected(admin_olga)
    assert before["clients"] == len(day_data)  # the outsider's clients too
    with django_capture_on_commit_callbacks(execute=True):
        touch(day_data["overdue"], 0)
        clients_transfer_book(from_user=outsider, to_user=km_anna, acting_user=admin_olga)
    after = shown(http)
    assert after == expected(admin_olga)
    assert after["overdue"] == before["overdue"] - 1
    with CaptureQueriesContext(connection) as queries:
        assert shown(http) == after
    assert not any("GROUP BY" in q["sql"] for q in queries.captured_queries)  # from the cache
