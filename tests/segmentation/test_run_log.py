"""The run log: heads and administrators only, newest first, recompute now, skipped shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.models import MetricRun, SegmentRuleSet
from segmentation.services import recompute_lock
from segmentation.tasks import yesterday
from tests.factories import ClientFactory
from tests.segmentation._data import D, day, line, run

pytestmark = pytest.mark.django_db

RUNS = reverse("segmentation:run_list")
RECOMPUTE = reverse("segmentation:run_recompute")


def failed_run(as_of: dt.date = D) -> MetricRun:
    return MetricRun.objects.create(
        as_of=as_of,
        kind=RunKind.FULL,
        trigger=RunTrigger.NIGHTLY,
        status=RunStatus.FAILED,
        rule_set=SegmentRuleSet.objects.active(),
        finished_at=timezone.now(),
        duration_ms=2500,
        error="OperationalError: the disk is full",
    )


def test_only_heads_and_admins_see_the_run_log(
    company, as_user, km_anna, outsider, kam_oleg, head_gleb, admin_olga, client
):
    good = run(D)
    for user in (km_anna, outsider, kam_oleg):
        http = as_user(user)
        assert http.get(RUNS).status_code == 403
        assert http.get(reverse("segmentation:run_detail", args=[good.pk])).status_code == 403
        assert http.post(RECOMPUTE).status_code == 403
    assert MetricRun.objects.count() == 1
    assert client.get(RUNS).status_code == 302  # to the login page
    for user in (head_gleb, admin_olga):
        assert as_user(user).get(RUNS).status_code == 200
    missing = reverse("segmentation:run_detail", args=[good.pk + 100])
    assert as_user(head_gleb).get(missing).status_code == 404


def test_the_menu_offers_segments_to_everyone_and_runs_to_heads(
    company, as_user, km_anna, head_vera, admin_olga
):
    anna_menu = as_user(km_anna).get("/").content.decode()
    assert f'href="{reverse("segmentation:rules")}"' in anna_menu
    assert f'href="{RUNS}"' not in anna_menu
    for user in (head_vera, admin_olga):
        menu = as_user(user).get(RUNS).content.decode()
        assert f'href="{RUNS}" aria-current="page"' in menu
        assert "Segments" in menu and "Clients" in menu and "Estimates" in menu


def test_runs_are_listed_newest_first_with_their_facts(company, as_user, km_anna, head_vera):
    client = ClientFactory(owner=km_anna)
    line(client, day(-5), 700)
    good = run(D)
    bad = failed_run()
    page = as_user(head_vera).get(RUNS).content.decode()
    assert page.index("Failed") < page.index("Succeeded")  # newest first
    assert "OperationalError: the disk is full" in page
    assert "2.5 s" in page and "Nightly" in page and "Manual" in page
    assert "v1" in page

    detail = as_user(head_vera).get(reverse("segmentation:run_detail", args=[good.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200
    assert "Succeeded" in body and "Full" in body
    assert "unrated 1" in body  # the one client has no wallet
    bad_page = as_user(head_vera).get(reverse("segmentation:run_detail", args=[bad.pk]))
    assert "the disk is full" in bad_page.content.decode()


def test_a_full_run_and_the_incremental_run_that_updated_it_link_to_each_other(
    company, as_user, km_anna, head_vera
):
    client = ClientFactory(owner=km_anna)
    line(client, day(-5), 700)
    full = run(D)
    line(client, day(-1), 300)
    incremental = run(D, client_ids=[client.pk])
    http = as_user(head_vera)
    full_page = http.get(reverse("segmentation:run_detail", args=[full.pk])).content.decode()
    assert "Rows last updated by" in full_page
    assert f'href="{reverse("segmentation:run_detail", args=[incremental.pk])}"' in full_page
    step_page = http.get(reverse("segmentation:run_detail", args=[incremental.pk])).content.decode()
    assert "Rows updated in run" in step_page and "Rows last updated by" not in step_page
    assert f'href="{reverse("segmentation:run_detail", args=[full.pk])}"' in step_page
    assert "1 recomputed" in http.get(RUNS).content.decode()
    api = http.get(f"/api/v1/metric-runs/{incremental.pk}/").json()
    assert (api["base_run"], api["holds_rows"], api["clients_recomputed"]) == (full.pk, False, 1)


def test_recompute_now_queues_the_full_run_as_of_yesterday(company, as_user, km_anna, head_vera):
    ClientFactory(owner=km_anna)
    response = as_user(head_vera).post(RECOMPUTE, follow=True)
    assert response.redirect_chain[-1][0] == RUNS
    new = MetricRun.objects.get()  # the task ran in-process
    assert (new.as_of, new.kind, new.trigger, new.started_by, new.status) == (
        yesterday(),
        RunKind.FULL,
        RunTrigger.MANUAL,
        head_vera,
        RunStatus.SUCCEEDED,
    )
    assert "is queued" in response.content.decode()


def test_a_second_click_while_a_run_is_running_is_recorded_as_skipped(company, as_user, head_vera):
    with recompute_lock() as acquired:  # the first click's run still holds the lock
        assert acquired
        response = as_user(head_vera).post(RECOMPUTE, follow=True)
    skipped = MetricRun.objects.get()
    assert skipped.status == RunStatus.SKIPPED
    assert skipped.started_by == head_vera
    assert "Skipped: another recompute was running" in response.content.decode()
    detail = as_user(head_vera).get(reverse("segmentation:run_detail", args=[skipped.pk]))
    assert "Another recompute was running, so this one did nothing." in detail.content.decode()


def test_a_running_run_makes_the_list_poll_and_htmx_gets_the_table_only(
    company, as_user, head_vera
):
    MetricRun.objects.create(as_of=D, kind=RunKind.FULL, trigger=RunTrigger.MANUAL)
    http = as_user(head_vera)
    page = http.get(RUNS).content.decode()
    assert 'hx-trigger="every 3s"' in page and "Running" in page
    partial = http.get(RUNS, HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="metric-runs"')
    assert "<html" not in partial


def test_the_run_log_is_paginated_with_bounded_queries(
    company, as_user, head_vera, django_assert_max_num_queries
):
    for n in range(55):
        failed_run(D - dt.timedelta(days=n))
    http = as_user(head_vera)
    http.get(RUNS)
    with django_assert_max_num_queries(8):
        first = http.get(RUNS)
    assert first.content.decode().count("badge run-failed") == 50
    assert "Page 1 of 2" in first.content.decode()
    with django_assert_max_num_queries(8):
        second = http.get(RUNS + "?page=2")
    assert second.content.decode().count("badge run-failed") == 5
