"""The log of ERP file imports: one row per attempt, rejected and failed ones included."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ImportRun(models.Model):
    """Who imported which file when, what it did, and every error it found."""

    class Kind(models.TextChoices):
        CLIENTS = "clients", _("Clients")
        WALLET_ESTIMATES = "wallet_estimates", _("Turnover and wallet estimates")
        SHIPMENTS = "shipments", _("Shipments")

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", pgettext_lazy("import status", "Succeeded")
        PARTIAL = "partial", _("Imported without the bad rows")
        REJECTED = "rejected", pgettext_lazy("import status", "Rejected")
        FAILED = "failed", pgettext_lazy("import status", "Failed")

    FINISHED = (Status.SUCCEEDED, Status.PARTIAL, Status.REJECTED, Status.FAILED)

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.RUNNING, db_index=True
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    file_name = models.CharField(_("file name"), max_length=255)
    # An upload kept for the background job and for the file of bad rows;
    # command imports read the file where it lies and keep nothing.
    stored_file = models.FileField(_("stored file"), upload_to="imports/%Y/%m/", blank=True)
    file_size = models.PositiveBigIntegerField(_("file size, bytes"), default=0)
    checksum = models.CharField(_("SHA-256 checksum"), max_length=64, db_index=True)
    file_format = models.CharField(_("format"), max_length=10, blank=True)
    encoding = models.CharField(_("encoding"), max_length=20, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=5, blank=True)
    sheet = models.CharField(_("sheet"), max_length=200, blank=True)
    header_row = models.PositiveIntegerField(_("header row"), null=True, blank=True)
    rows_read = models.PositiveIntegerField(_("rows read"), default=0)
    created = models.PositiveIntegerField(_("created"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected rows"), default=0)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    notes = models.JSONField(_("notes"), default=list, blank=True)
    # [{"row": 12, "column": "ИНН", "value": "123", "message": "…"}], the message
    # rendered in the language active during the import.
    errors = models.JSONField(_("errors"), default=list, blank=True)
    options = models.JSONField(_("options"), default=dict, blank=True)
    started_at = models.DateTimeField(_("started"), default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import run")
        verbose_name_plural = _("import runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "started_at"], name="importrun_kind_idx")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.kind}, {self.status})"

    @property
    def dry_run(self) -> bool:
        return bool(self.options.get("dry_run"))

    @property
    def skip_invalid(self) -> bool:
        return bool(self.options.get("skip_invalid"))

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED
