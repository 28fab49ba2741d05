"""Base-wide results of a run: retention cohorts, reactivation, team development."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from segmentation.choices import ScopeKind, Segment


class RetentionCohort(models.Model):
    """New clients of one calendar month and how many bought again (seed 003).

    Every month from the first cohort to the run's month has a row, empty
    months included, so "the 12 most recent mature cohort months" are
    calendar months.
    """

    run = models.ForeignKey(
        "segmentation.MetricRun",
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="retention_cohorts",
    )
    cohort_month = models.DateField(_("cohort month"), help_text=_("The first day of the month."))
    size = models.PositiveIntegerField(_("new clients"))
    retained = models.PositiveIntegerField(_("bought again"))
    ratio = models.DecimalField(
        _("retention"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    mature = models.BooleanField(_("mature"))

    class Meta:
        verbose_name = _("retention cohort")
        verbose_name_plural = _("retention cohorts")
        ordering = ["run", "cohort_month"]
        constraints = [
            models.UniqueConstraint(fields=["run", "cohort_month"], name="cohort_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.cohort_month:%Y-%m} @ {self.run_id}"


class ReactivationConversion(models.Model):
    """Reactivation attempts of one month by one person (or everyone) and their outcome.

    An attempt is a reactivation task on a client that the latest stored run
    before the task showed as sleeping or lost; it converts when the client
    orders within METRIC_REACTIVATION_DAYS after it.
    """

    run = models.ForeignKey(
        "segmentation.MetricRun",
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="reactivations",
    )
    period = models.DateField(_("month"), help_text=_("The first day of the month."))
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: everyone."),
    )
    attempted = models.PositiveIntegerField(_("clients attempted"))
    converted = models.PositiveIntegerField(_("clients who ordered"))
    ratio = models.DecimalField(
        _("conversion"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    mature = models.BooleanField(_("mature"))

    class Meta:
        verbose_name = _("reactivation conversion")
        verbose_name_plural = _("reactivation conversions")
        ordering = ["run", "period", "person"]
        constraints = [
            models.UniqueConstraint(
                fields=["run", "period", "person"],
                condition=Q(person__isnull=False),
                name="reactivation_person_unique",
            ),
            models.UniqueConstraint(
                fields=["run", "period"],
                condition=Q(person__isnull=True),
                name="reactivation_everyone_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period:%Y-%m} {self.person_id or '*'} @ {self.run_id}"


class DevelopmentMetric(models.Model):
    """Seed 000's development metrics of one team, manager, segment or the whole base.

    Counts are stored with their bases (grew / could grow) so that a page can
    show both the ratio and how many clients it rests on.
    """

    run = models.ForeignKey(
        "segmentation.MetricRun",
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="development_metrics",
    )
    scope = models.CharField(_("scope"), max_length=10, choices=ScopeKind.choices)
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    segment = models.CharField(_("segment"), max_length=8, choices=Segment.choices, blank=True)
    clients = models.PositiveIntegerField(_("clients"))
    buying_clients = models.PositiveIntegerField(_("clients with orders, 12 months"))
    avg_orders = models.DecimalField(
        _("orders per client"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    avg_skus = models.DecimalField(
        _("SKUs per client"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    avg_groups = models.DecimalField(
        _("product groups per client"), max_digits=14, decimal_places=4, null=True, blank=True
    )
    # {"<product group id>": average check, …}
    avg_check_by_group = models.JSONField(_("average check per product group"), default=dict)
    share_of_wallet_weighted = models.DecimalField(
        _("share of wallet, revenue-weighted"),
        max_digits=24,
        decimal_places=8,
        null=True,
        blank=True,
    )
    share_of_wallet_median = models.DecimalField(
        _("share of wallet, median"), max_digits=24, decimal_places=8, null=True, blank=True
    )
    grew_ytd = models.PositiveIntegerField(_("grew since 1 January"))
    grew_ytd_base = models.PositiveIntegerField(_("had revenue a year earlier"))
    grew_12m = models.PositiveIntegerField(_("grew over 12 months"))
    grew_12m_base = models.PositiveIntegerField(_("had revenue in the previous 12 months"))
    revenue_retention = models.DecimalField(
        _("revenue retention"), max_digits=24, decimal_places=8, null=True, blank=True
    )
    moved_up = models.PositiveIntegerField(_("moved up by share"), default=0)
    moved_by_potential = models.PositiveIntegerField(_("moved by the potential axis"), default=0)
    moved_down = models.PositiveIntegerField(_("moved down"), default=0)
    development_time_share = models.DecimalField(
        _("time spent on development"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    coverage_abc_a = models.DecimalField(
        _("potential known, ABC-A clients"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    coverage_rest = models.DecimalField(
        _("potential known, other clients"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    # Survey answers of the last 12 months (see segmentation.engine.team).
    satisfaction_answers = models.PositiveIntegerField(_("satisfaction answers"), default=0)
    satisfied = models.PositiveIntegerField(_("satisfied answers (4–5 of 5)"), default=0)
    satisfaction_ratio = models.DecimalField(
        _("satisfaction"), max_digits=9, decimal_places=6, null=True, blank=True
    )
    nps_answers = models.PositiveIntegerField(_("NPS answers"), default=0)
    nps_promoters = models.PositiveIntegerField(_("promoters (9–10)"), default=0)
    nps_detractors = models.PositiveIntegerField(_("detractors (0–6)"), default=0)
    nps = models.DecimalField(
        _("NPS"),
        max_digits=9,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Promoters minus detractors, per cent of the answers: from −100 to 100."),
    )

    class Meta:
        verbose_name = _("development metric")
        verbose_name_plural = _("development metrics")
        indexes = [models.Index(fields=["run", "scope"], name="devmetric_run_scope_idx")]

    def __str__(self) -> str:
        return f"{self.scope} @ {self.run_id}"
