"""The metric jobs: nightly, catch-up, and the incremental run an import starts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from crm.importers.writing import import_shipments
from crm.models import ShipmentLine
from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.models import ClientMetricSnapshot, MetricRun
from segmentation.services import metrics_recompute
from segmentation.tasks import metrics_catch_up, metrics_recompute_nightly, yesterday
from tests.crm.importers._files import csv_cp1251
from tests.factories import ClientFactory
from tests.segmentation._data import line
from tests.workers import empty_task_queue, needs_services, start_worker, stop_worker, wait_for

HEADER = "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма"


def _sales(client_code: str, on: dt.date, amount: int) -> bytes:
    return csv_cp1251(HEADER, f"РН-{amount};{on:%d.%m.%Y};{client_code};A-1;Крепёж;1;{amount}")


def test_the_nightly_job_computes_yesterday_and_prunes(db, km_anna):
    client = ClientFactory(owner=km_anna)
    line(client, yesterday() - dt.timedelta(days=3), 500)
    assert metrics_recompute_nightly() == RunStatus.SUCCEEDED
    run = MetricRun.objects.get()
    assert (run.as_of, run.kind, run.trigger) == (yesterday(), RunKind.FULL, RunTrigger.NIGHTLY)
    assert ClientMetricSnapshot.objects.get(run=run, client=client).revenue_12m == 500


def test_catch_up_runs_only_when_last_night_was_missed(db, km_anna, monkeypatch):
    ClientFactory(owner=km_anna)
    three_am = timezone.localtime().replace(hour=3, minute=20)
    monkeypatch.setattr(timezone, "localtime", lambda *a: three_am)
    monkeypatch.setattr(timezone, "localdate", lambda *a: three_am.date())
    assert metrics_catch_up() == RunStatus.SUCCEEDED  # the broker was down at 02:00
    assert metrics_catch_up() == "up to date"
    assert MetricRun.objects.filter(trigger=RunTrigger.NIGHTLY).count() == 1
    one_am = three_am.replace(hour=1)
    monkeypatch.setattr(timezone, "localtime", lambda *a: one_am)
    monkeypatch.setattr(timezone, "localdate", lambda *a: one_am.date())
    assert metrics_catch_up() == "not yet"  # tonight's run has not been due yet


def test_an_import_recomputes_the_clients_it_touched(db, settings, km_anna):
    settings.METRICS_AFTER_IMPORT = True
    touched = ClientFactory(external_id="K-1", owner=km_anna)
    other = ClientFactory(external_id="K-2", owner=km_anna)
    as_of = yesterday()
    line(other, as_of - dt.timedelta(days=10), 100)
    base = metrics_recompute(as_of=as_of, trigger=RunTrigger.MANUAL)
    assert base.status == RunStatus.SUCCEEDED
    run = import_shipments(
        data=_sales("K-1", as_of - dt.timedelta(days=2), 700), filename="s.csv", user=None
    )
    assert run.status == "succeeded"
    incremental = MetricRun.objects.exclude(pk=base.pk).get()
    assert (incremental.kind, incremental.trigger, incremental.status) == (
        RunKind.INCREMENTAL,
        RunTrigger.IMPORT,
        RunStatus.SUCCEEDED,
    )
    assert incremental.client_ids == [touched.pk]
    # Its results are the base run's rows, brought up to date.
    assert incremental.base_run == base
    assert ClientMetricSnapshot.objects.get(run=base, client=touched).revenue_12m == 700


@pytest.mark.services
@needs_services
def test_nightly_and_incremental_runs_through_a_real_worker(
    transactional_db, tmp_path, settings, km_anna
):
    from config.celery import app

    settings.METRICS_AFTER_IMPORT = True
    client = ClientFactory(external_id="K-1", owner=km_anna)
    as_of = yesterday()
    line(client, as_of - dt.timedelta(days=5), 300)
    app.conf.task_always_eager = False
    empty_task_queue()
    worker = start_worker(tmp_path)
    try:
        metrics_recompute_nightly.delay()

        def nightly_done() -> bool:
            return MetricRun.objects.filter(
                trigger=RunTrigger.NIGHTLY, status=RunStatus.SUCCEEDED
            ).exists()

        wait_for(nightly_done, 90, "the nightly run", tmp_path)
        import_shipments(
            data=_sales("K-1", as_of - dt.timedelta(days=1), 900), filename="s.csv", user=None
        )

        def incremental_done() -> bool:
            return MetricRun.objects.filter(
                kind=RunKind.INCREMENTAL, status=RunStatus.SUCCEEDED
            ).exists()

        wait_for(incremental_done, 90, "the incremental run after the import", tmp_path)
    finally:
        app.conf.task_always_eager = True
        stop_worker(worker)
    run = MetricRun.objects.get(kind=RunKind.INCREMENTAL)
    assert run.client_ids == [client.pk] and run.trigger == RunTrigger.IMPORT
    nightly = MetricRun.objects.get(trigger=RunTrigger.NIGHTLY)
    assert run.base_run == nightly  # whose client's row the incremental run rewrote
    assert ClientMetricSnapshot.objects.get(run=nightly, client=client).revenue_12m == 1200
    assert ShipmentLine.objects.count() == 2
