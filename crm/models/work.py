"""Touches and tasks: the daily work on a client."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm import choices


class Activity(models.Model):
    """A touch: a call, meeting, visit, e-mail or letter."""

    client = models.ForeignKey(
        "crm.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("contact"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="activities",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=choices.ActivityKind.choices)
    purpose = models.CharField(
        _("purpose"),
        max_length=20,
        choices=choices.ActivityPurpose.choices,
        default=choices.ActivityPurpose.SALE,
    )
    initiated_by = models.CharField(
        _("initiated by"),
        max_length=10,
        choices=choices.Initiator.choices,
        default=choices.Initiator.US,
    )
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    duration_minutes = models.PositiveIntegerField(_("duration, minutes"), null=True, blank=True)
    performed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("performed by"),
        on_delete=models.PROTECT,
        related_name="activities",
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    summary = models.TextField(_("summary"))
    outcome = models.TextField(_("outcome"), blank=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["client", "occurred_at"], name="activity_client_when_idx"),
            models.Index(fields=["performed_by", "occurred_at"], name="activity_user_when_idx"),
            # "Recent touches" of a head's teams: newest first, each checked on its client.
            models.Index(fields=["-occurred_at", "-id"], name="activity_recent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Task(models.Model):
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="tasks",
    )
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(
        _("kind"),
        max_length=20,
        choices=choices.TaskKind.choices,
        default=choices.TaskKind.OTHER,
    )
    due_on = models.DateField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        related_name="tasks",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    status = models.CharField(
        _("status"),
        max_length=20,
        choices=choices.TaskStatus.choices,
        default=choices.TaskStatus.OPEN,
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)
    # Bumped on every save, and kept in the history: an edit that carries an
    # older version is refused, naming what changed since (crm.services.task_update).
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_due_idx"),
            # Recent reactivation attempts ("my day" keeps those clients waiting).
            models.Index(fields=["kind", "created_at"], name="task_kind_created_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk and not self._state.adding:
            self.version = (self.version or 0) + 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version"}
        super().save(*args, **kwargs)
