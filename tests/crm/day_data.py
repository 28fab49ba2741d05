"""Helpers of the "my day" tests: clients made to land on each list of the home page
(crm/conftest.py builds them into a company's day)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.urls import reverse
from django.utils import timezone

from crm.models import Activity, Deal, Task
from tests.factories import ClientFactory
from tests.segmentation._data import line, wallet

TODAY = timezone.localdate()
HOME = reverse("home")


def ago(days: int) -> dt.date:
    return TODAY - dt.timedelta(days=days)


def touch(client, days_ago: int) -> Activity:
    noon = timezone.make_aware(dt.datetime.combine(ago(days_ago), dt.time(12)))
    return Activity.objects.create(
        client=client,
        kind="call",
        occurred_at=noon,
        performed_by=client.owner,
        entered_by=client.owner,
        summary="touch",
    )


def key_client(owner, name, *, touched_days_ago: int | None = None):
    """Segment A (wallet 2 M, revenue 300 k; the standard: a touch every 14 days)."""
    client = ClientFactory(owner=owner, name=name)
    wallet(client, 2_000_000, year=TODAY.year)
    line(client, ago(10), 300_000)
    if touched_days_ago is not None:
        touch(client, touched_days_ago)
    return client


def lapsed(owner, name, days: int, amount: int = 500):
    """One order ``days`` ago: sleeping after 90 days, lost after 365 (no wallet: unrated)."""
    client = ClientFactory(owner=owner, name=name)
    line(client, ago(days), amount)
    return client


def task(user, title, due, **kw):
    return Task.objects.create(
        title=title, due_on=due, assignee=user, created_by=kw.pop("created_by", user), **kw
    )


def deal(client, title, close_on, stage="proposal", **kw):
    return Deal.objects.create(
        client=client,
        owner=client.owner,
        kind="new_business",
        title=title,
        stage=stage,
        amount=Decimal(kw.pop("amount", 1000)),
        expected_close_on=close_on,
        **kw,
    )


def names(section) -> list[str]:
    """The client names of a section's rows, in order."""
    return [row.client.name for row in section.rows]
