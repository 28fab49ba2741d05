"""Turnover and wallet estimates, verified by a head."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm import choices


class WalletEstimate(models.Model):
    """A turnover or wallet estimate of a client for a year, verified by a head."""

    client = models.ForeignKey(
        "crm.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="estimates"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=choices.EstimateKind.choices)
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000)])
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)]
    )
    product_group = models.ForeignKey(
        "crm.ProductGroup",
        verbose_name=_("product group"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: the overall amount."),
    )
    basis = models.CharField(
        _("basis"), max_length=20, choices=choices.EstimateBasis.choices, blank=True
    )
    comment = models.TextField(_("comment"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=choices.EstimateStatus.choices,
        default=choices.EstimateStatus.DRAFT,
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed"), null=True, blank=True)
    review_comment = models.TextField(_("review comment"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("turnover or wallet estimate")
        verbose_name_plural = _("turnover and wallet estimates")
        ordering = ["-year", "-entered_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="estimate_amount_not_negative"),
        ]
        indexes = [
            models.Index(fields=["client", "kind", "status", "year"], name="estimate_lookup_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client} {self.get_kind_display()} {self.year}"
