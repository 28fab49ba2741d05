"""Redis down: pages keep working from the last metric run, nothing is lost, and the
missed nightly run catches up when Redis returns.

The outage is real as far as the code can tell: the cache and the broker point
at a port where nothing listens, and tasks are no longer run in-process.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from crm.models import ImportRun, ShipmentLine
from segmentation.choices import RunKind, RunStatus, RunTrigger
from segmentation.models import MetricRun
from segmentation.services import metrics_recompute
from segmentation.tasks import metrics_catch_up, yesterday
from tests.crm.importers._files import csv_cp1251
from tests.factories import ClientFactory
from tests.segmentation._data import line

DEAD = "redis://127.0.0.1:1/0"  # nothing listens on port 1


@contextmanager
def redis_down() -> Iterator[None]:
    from config.celery import app

    dead_cache = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": DEAD}
    }
    previous = (app.conf.broker_url, app.conf.task_always_eager)
    app.conf.broker_url, app.conf.task_always_eager = DEAD, False
    _fresh_connections(app)
    try:
        with override_settings(CACHES=dead_cache):
            yield
    finally:
        app.conf.broker_url, app.conf.task_always_eager = previous
        _fresh_connections(app)


def _fresh_connections(app) -> None:  # type: ignore[no-untyped-def]
    """Drop pooled broker connections so the next task uses the broker URL now set."""
    from kombu import pools

    pools.reset()  # kombu keeps producer pools per broker URL, process-wide
    app._pool = None
    app.amqp._producer_pool = None


def test_redis_down_then_back(
    transactional_db,  # commits as in production, so on-commit work happens at once
    company,
    settings,
    as_user,
    head_gleb,
    km_anna,
    monkeypatch,
):
    settings.IMPORT_BACKGROUND_MIN_BYTES = 1
    settings.METRICS_AFTER_IMPORT = True
    client = ClientFactory(external_id="K-1", owner=km_anna)
    line(client, yesterday() - dt.timedelta(days=4), 250)
    before_last_night = yesterday() - dt.timedelta(days=1)
    good = metrics_recompute(as_of=before_last_night, trigger=RunTrigger.NIGHTLY)
    assert good.status == RunStatus.SUCCEEDED
    http = as_user(head_gleb)
    pages = (
        reverse("home"),
        reverse("crm:client_list"),
        reverse("crm:client_detail", args=[client.pk]),
        reverse("crm:import_list"),
    )
    sales = csv_cp1251(
        "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма",
        f"РН-9;{yesterday():%d.%m.%Y};K-1;A-1;Крепёж;1;900",
    )

    with redis_down():
        for url in pages:
            assert http.get(url).status_code == 200, url
        # A password reset mail is sent in-process rather than lost.
        response = http.post(reverse("accounts:password_reset"), {"email": km_anna.email})
        assert response.status_code == 302 and len(mail.outbox) == 1
        # A large upload cannot be queued: it waits, nothing written, for another confirmation.
        upload = SimpleUploadedFile("s.csv", sales)
        http.post(reverse("crm:import_new"), {"kind": "shipments", "file": upload})
        run = ImportRun.objects.get()
        page = http.post(reverse("crm:import_confirm", args=[run.pk]), follow=True)
        assert "The background worker cannot be reached right now" in page.content.decode()
        run.refresh_from_db()
        assert run.status == ImportRun.Status.PENDING
        assert not ShipmentLine.objects.filter(doc_number="РН-9").exists()
        # The progress bar reads the cache: an outage hides it, it does not fail the page.
        assert http.get(reverse("crm:import_run", args=[run.pk])).status_code == 200
        assert list(MetricRun.objects.all()) == [good]  # the last good run still serves

    # Redis is back: the upload is confirmed again, and last night's missed run catches up.
    http.post(reverse("crm:import_confirm", args=[run.pk]))
    run.refresh_from_db()
    assert run.status == ImportRun.Status.SUCCEEDED
    three_am = timezone.localtime().replace(hour=3)
    monkeypatch.setattr(timezone, "localtime", lambda *a: three_am)
    monkeypatch.setattr(timezone, "localdate", lambda *a: three_am.date())
    assert metrics_catch_up() == RunStatus.SUCCEEDED
    caught_up = MetricRun.objects.get(trigger=RunTrigger.NIGHTLY, as_of=yesterday())
    assert caught_up.kind == RunKind.FULL and caught_up.status == RunStatus.SUCCEEDED
    for url in pages:
        assert http.get(url).status_code == 200, url
