"""Writes on users: deactivation moves the book; users are never deleted."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User


@transaction.atomic
def user_deactivate(*, user: User, successor: User, acting_user: User) -> int:
    """Switch a leaving user off and hand every client they own to a successor."""
    from crm.models import Task
    from crm.services import clients_transfer_book

    if not acting_user.is_admin:
        raise PermissionDenied(_("Only an administrator may deactivate users."))
    if successor.pk == user.pk or not successor.is_active:
        raise ValidationError({"successor": _("Choose an active user other than the one leaving.")})
    moved = clients_transfer_book(
        from_user=user,
        to_user=successor,
        acting_user=acting_user,
        note=_("%(user)s left the company") % {"user": user},
    )
    open_tasks = list(Task.objects.filter(assignee=user, status="open"))
    for task in open_tasks:
        task.assignee = successor
    bulk_update_with_history(
        open_tasks,
        Task,
        ["assignee"],
        default_user=acting_user,
        default_change_reason=_("Assignee left the company"),
    )
    user.is_active = False
    user.save(update_fields=["is_active"])
    return moved


def email_send(*, subject: str, body: str, to: list[str], html_body: str | None = None) -> None:
    from django.conf import settings
    from django.core.mail import EmailMultiAlternatives

    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, to)
    if html_body:
        message.attach_alternative(html_body, "text/html")
    message.send()


def sessions_clear() -> None:
    from django.core.management import call_command

    call_command("clearsessions")


def login_failures_forget() -> int:
    from axes.helpers import get_cool_off
    from axes.models import AccessAttempt
    from django.utils import timezone

    cool_off = get_cool_off()
    if cool_off is None:
        return 0
    threshold = timezone.now() - cool_off
    deleted, _rows = AccessAttempt.objects.filter(attempt_time__lt=threshold).delete()
    return deleted


def schedules_sync() -> int:
    """Write config/schedules.py into the beat tables; keep an admin's pause."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from config.schedules import SCHEDULES

    for schedule in SCHEDULES:
        crontab, _created = CrontabSchedule.objects.get_or_create(
            minute=schedule.minute,
            hour=schedule.hour,
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        PeriodicTask.objects.update_or_create(
            name=schedule.name,
            defaults={"task": schedule.task, "crontab": crontab, "description": schedule.why},
        )
    return len(SCHEDULES)
