"""The run log of the metric engine, and the lock row of its portable fallback."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from segmentation.choices import RunKind, RunStatus, RunTrigger


class MetricRunQuerySet(models.QuerySet["MetricRun"]):
    def holding_rows(self) -> MetricRunQuerySet:
        """Good full runs: the runs whose stored rows pages, exports and the engine read.

        An incremental run stores no rows of its own; it brings its base run's
        rows up to date (see ``MetricRun.rows_run_id``).
        """
        return self.filter(status=RunStatus.SUCCEEDED, holds_rows=True)


class MetricRun(models.Model):
    """One recompute as of a date: what ran, on which rules, and how it ended.

    The row is committed before the work starts, so a crash leaves a visible
    ``running``/``failed`` row while readers keep using the last good run.
    """

    as_of = models.DateField(_("as of"), db_index=True)
    rule_set = models.ForeignKey(
        "segmentation.SegmentRuleSet",
        verbose_name=_("segment rules"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="runs",
    )
    base_run = models.ForeignKey(
        "self",
        verbose_name=_("base run"),
        # Pruning deletes an incremental run with the rows it brought up to date
        # (services.metric_runs_prune); one holding rows of its own stays.
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The full run whose rows an incremental run brought up to date."),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.RUNNING
    )
    kind = models.CharField(_("kind"), max_length=12, choices=RunKind.choices)
    trigger = models.CharField(_("trigger"), max_length=10, choices=RunTrigger.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration, ms"), default=0)
    # {"clients": …, "rated": …, "segments": {"A": …}, "statuses": {…}, …}
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    client_ids = models.JSONField(
        _("clients recomputed"),
        null=True,
        blank=True,
        help_text=_("Empty for a full run."),
    )
    is_month_end = models.BooleanField(
        _("month end"),
        default=False,
        help_text=_("Runs as of a month's last day are kept when old daily runs are pruned."),
    )
    holds_rows = models.BooleanField(
        _("holds its rows"),
        default=True,
        help_text=_(
            "Off for an incremental run that rewrote its clients' rows in its base run "
            "instead of storing rows of its own."
        ),
    )
    potential_threshold = models.DecimalField(
        _("potential threshold used"), max_digits=18, decimal_places=2, null=True, blank=True
    )

    objects = MetricRunQuerySet.as_manager()

    class Meta:
        verbose_name = _("metric run")
        verbose_name_plural = _("metric runs")
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["status", "as_of"], name="metricrun_status_asof_idx")]

    def __str__(self) -> str:
        return f"{self.as_of:%Y-%m-%d} {self.get_kind_display()} ({self.get_status_display()})"

    @property
    def rows_run_id(self) -> int | None:
        """The run whose stored rows hold this run's results.

        A full run stores its own rows. An incremental run rewrites, in its
        base run (a full run of the same date), the rows of the clients it
        recomputed: copying the other 50 000 clients' rows under a new run
        id cost more than the whole recompute. Its results are therefore read
        under the base run's id; the base run's counts say which run last
        brought them up to date (``updated_by_run``). Incremental runs stored
        before this way of working hold full copies (``holds_rows``).
        """
        return self.pk if self.holds_rows else self.base_run_id


class MetricLock(models.Model):
    """Holder of the recompute lock where PostgreSQL advisory locks are not available.

    The unique name makes a second insert fail; a row older than
    METRIC_LOCK_STALE_SECONDS belongs to a crashed worker and is taken over.
    """

    name = models.CharField(_("name"), max_length=64, unique=True)
    acquired_at = models.DateTimeField(_("acquired"), default=timezone.now)

    class Meta:
        verbose_name = _("metric lock")
        verbose_name_plural = _("metric locks")

    def __str__(self) -> str:
        return self.name
