from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from config.schedules import SCHEDULES

pytestmark = pytest.mark.django_db


def test_schedules_are_written_once_and_keep_an_admins_pause(capsys):
    call_command("sync_schedules")
    assert PeriodicTask.objects.count() == len(SCHEDULES)
    task = PeriodicTask.objects.get(name=SCHEDULES[0].name)
    assert task.crontab is not None and task.crontab.hour == SCHEDULES[0].hour
    task.enabled = False
    task.save()
    call_command("sync_schedules")
    assert PeriodicTask.objects.count() == len(SCHEDULES)
    assert not PeriodicTask.objects.get(name=SCHEDULES[0].name).enabled


def test_every_scheduled_task_exists():
    from config.celery import app

    app.loader.import_default_modules()
    for schedule in SCHEDULES:
        assert schedule.task in app.tasks, schedule.task


def test_old_failed_logins_are_forgotten(settings):
    from axes.models import AccessAttempt

    from accounts.tasks import login_failures_forget

    old = AccessAttempt.objects.create(
        username="a@x.test",
        ip_address="127.0.0.1",
        user_agent="t",
        failures_since_start=3,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/",
    )
    AccessAttempt.objects.filter(pk=old.pk).update(
        attempt_time=timezone.now() - timezone.timedelta(hours=settings.AXES_COOLOFF_TIME + 1)
    )
    fresh = AccessAttempt.objects.create(
        username="b@x.test",
        ip_address="127.0.0.1",
        user_agent="t",
        failures_since_start=1,
        get_data="",
        post_data="",
        http_accept="",
        path_info="/",
    )
    assert login_failures_forget.delay().get() == 1
    assert list(AccessAttempt.objects.values_list("pk", flat=True)) == [fresh.pk]


def test_expired_sessions_are_cleared():
    from django.contrib.sessions.models import Session

    Session.objects.create(
        session_key="old", session_data="x", expire_date=timezone.now() - timezone.timedelta(days=1)
    )
    Session.objects.create(
        session_key="new", session_data="x", expire_date=timezone.now() + timezone.timedelta(days=1)
    )
    from accounts.tasks import sessions_clear

    sessions_clear.delay()
    assert list(Session.objects.values_list("session_key", flat=True)) == ["new"]
