"""The client's stored last touch follows its touches however they are written,
and "overdue by the service standard" reads it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import Activity, Client
from tests.crm.day_data import HOME, key_client, names, touch
from tests.factories import ClientFactory
from tests.segmentation._data import run

pytestmark = pytest.mark.django_db


def stored(client: Client) -> dt.datetime | None:
    return Client.objects.values_list("last_touch_at", flat=True).get(pk=client.pk)


def at(days_ago: int) -> dt.datetime:
    day = timezone.localdate() - dt.timedelta(days=days_ago)
    return timezone.make_aware(dt.datetime.combine(day, dt.time(12)))


def test_a_touch_logged_on_the_card_is_stored_on_the_client(company, as_user, km_anna):
    client = ClientFactory(owner=km_anna)
    assert stored(client) is None
    when = timezone.localtime().replace(second=0, microsecond=0)
    response = as_user(km_anna).post(
        reverse("crm:touch_create", args=[client.pk]),
        {
            "kind": "call",
            "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
            "purpose": "sale",
            "initiated_by": "us",
            "summary": "Talked about the spring assortment",
            "lapse_side": "unknown",
        },
    )
    assert response.status_code == 302
    assert stored(client) == when


def test_the_newest_touch_wins_and_editing_or_deleting_it_falls_back(company, km_anna):
    client = ClientFactory(owner=km_anna)
    older = touch(client, 20)
    newer = touch(client, 3)
    touch(client, 40)  # an older touch logged later changes nothing
    assert stored(client) == at(3)
    newer.occurred_at = at(30)
    newer.save()
    assert stored(client) == at(20)
    older.delete()
    assert stored(client) == at(30)
    Activity.objects.filter(client=client).delete()
    assert stored(client) is None


def test_a_touch_moved_to_another_client_refreshes_both(company, km_anna):
    first, second = ClientFactory(owner=km_anna), ClientFactory(owner=km_anna)
    touch(first, 10)
    moved = touch(first, 2)
    moved.client = second
    moved.save()
    assert (stored(first), stored(second)) == (at(10), at(2))


def test_a_card_saved_from_an_older_copy_keeps_the_newer_touch(company, as_user, km_anna):
    client = ClientFactory(owner=km_anna, name="Old name")
    copy = Client.objects.get(pk=client.pk)  # loaded before the touch
    versions = client.history.count()
    touch(client, 1)
    assert client.history.count() == versions  # a derived time is no change of the card
    copy.name = "New name"
    copy.save()
    assert stored(client) == at(1)
    assert Client.objects.get(pk=client.pk).name == "New name"
    assert client.history.count() == versions + 1


def test_a_merge_gives_the_survivor_the_newest_touch_of_both(company, head_gleb, km_anna):
    survivor = ClientFactory(owner=km_anna)
    merged = ClientFactory(owner=km_anna)
    touch(survivor, 50)
    touch(merged, 5)
    services.clients_merge(survivor=survivor, merged=merged, acting_user=head_gleb)
    assert stored(survivor) == at(5)
    assert stored(merged) is None


def test_a_bulk_refresh_sets_every_client_from_its_touches(company, km_anna):
    first, second, untouched = (ClientFactory(owner=km_anna) for _ in range(3))
    Activity.objects.bulk_create(  # no signals: as the demo's COPY writes them
        Activity(
            client=client,
            kind="call",
            occurred_at=at(days),
            performed_by=km_anna,
            entered_by=km_anna,
            summary="bulk",
        )
        for client, days in ((first, 8), (first, 2), (second, 9))
    )
    assert stored(first) is None
    assert services.clients_last_touch_refresh() == Client.objects.count()
    assert (stored(first), stored(second), stored(untouched)) == (at(2), at(9), None)
    assert services.clients_last_touch_refresh(client_ids=[]) == 0


def test_a_touch_takes_the_client_off_the_overdue_list_at_once(
    company, amount_rules, as_user, km_anna
):
    """Segment A's standard is a touch every 14 days (the ``amount_rules`` fixture)."""
    stale = key_client(km_anna, "Stale key client", touched_days_ago=30)
    fresh = key_client(km_anna, "Fresh key client", touched_days_ago=2)
    run(timezone.localdate())
    http = as_user(km_anna)
    overdue = names(http.get(HOME).context["sections"]["overdue"])
    assert "Stale key client" in overdue and "Fresh key client" not in overdue
    touch(stale, 0)
    overdue = names(http.get(HOME).context["sections"]["overdue"])
    assert "Stale key client" not in overdue
    assert fresh.last_touch_at is None  # the factory's copy; the stored one is set
    assert stored(fresh) == at(2)
