"""Fixtures shared by the tests of the home page ("my day") and of its counts."""

from __future__ import annotations

import datetime as dt

import pytest

from crm.choices import TaskStatus
from crm.models import ClientGrant
from tests.crm.day_data import TODAY, ago, deal, key_client, lapsed, task
from tests.segmentation._data import run


@pytest.fixture
def day_data(company, amount_rules, km_anna, km_boris, outsider):
    c = {
        "overdue": key_client(km_anna, "Key, touched 20 days ago", touched_days_ago=20),
        "fresh": key_client(km_anna, "Key, touched 5 days ago", touched_days_ago=5),
        "sleeping": lapsed(km_anna, "Sleeping 100 days", 100),
        "lost": lapsed(km_anna, "Lost 400 days", 400),
        "unrated": lapsed(km_anna, "Unrated buyer", 5, amount=5000),
        "granted": lapsed(km_boris, "Boris's, granted to Anna", 110),
        "read_only": lapsed(outsider, "Outsider's, read by Anna", 120),
        "boris": lapsed(km_boris, "Boris's sleeping", 130),
    }
    ClientGrant.objects.create(client=c["granted"], user=km_anna, reason="co_owner", level="edit")
    ClientGrant.objects.create(client=c["read_only"], user=km_anna, reason="support", level="read")
    task(km_anna, "Call back today", TODAY, client=c["fresh"])
    task(km_anna, "Send the contract (late)", ago(2), client=c["overdue"])
    task(km_anna, "Next week", TODAY + dt.timedelta(days=7))
    task(km_anna, "Done already", ago(1), status=TaskStatus.DONE)
    task(km_boris, "Boris's task", TODAY)
    month_start = TODAY.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    deal(c["fresh"], "Closes this month", month_start, amount=2_500_000)
    deal(c["overdue"], "Should have closed", month_start - dt.timedelta(days=5))
    deal(c["fresh"], "Next month", next_month)
    deal(c["fresh"], "Won already", month_start, stage="won", closed_on=TODAY)
    deal(c["boris"], "Boris's deal", month_start)
    run(TODAY)
    return c
