"""Products, shipment lines from the ERP, and deals."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm import choices


class ProductGroup(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    code = models.CharField(_("code"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("product group")
        verbose_name_plural = _("product groups")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=300, blank=True)
    group = models.ForeignKey(
        ProductGroup,
        verbose_name=_("product group"),
        on_delete=models.PROTECT,
        related_name="products",
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku"]

    def __str__(self) -> str:
        return f"{self.sku} {self.name}".strip()


class ShipmentLine(models.Model):
    """A line of a shipment document as the ERP exported it; returns are negative."""

    doc_number = models.CharField(_("document number"), max_length=64)
    doc_date = models.DateField(_("date"))
    # No database-level foreign keys on this fact table: checking two keys per
    # line costs more than loading the line (measured: 30 s of a one-million-line
    # import). The importers take every client and product id from a join with
    # existing rows in the same transaction; clients are merged, never deleted,
    # and PROTECT still stops Django from deleting a client or product with lines.
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.PROTECT,
        related_name="shipment_lines",
        db_constraint=False,
    )
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    qty = models.DecimalField(_("quantity"), max_digits=16, decimal_places=3)
    amount = models.DecimalField(_("amount"), max_digits=16, decimal_places=2)
    cost = models.DecimalField(_("cost"), max_digits=16, decimal_places=2, null=True, blank=True)
    manager_email = models.CharField(_("manager"), max_length=254, blank=True)
    import_run_id = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("shipment line")
        verbose_name_plural = _("shipment lines")
        indexes = [
            models.Index(fields=["client", "doc_date"], name="shipment_client_date_idx"),
            models.Index(fields=["doc_number", "doc_date"], name="shipment_doc_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_number} {self.doc_date:%Y-%m-%d}"


class Deal(models.Model):
    """A new-business or project deal with a client."""

    client = models.ForeignKey(
        "crm.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="deals"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=choices.DealKind.choices)
    title = models.CharField(_("title"), max_length=300)
    stage = models.CharField(
        _("stage"),
        max_length=20,
        choices=choices.DealStage.choices,
        default=choices.DealStage.QUALIFICATION,
    )
    amount = models.DecimalField(
        _("amount"),
        max_digits=16,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    expected_close_on = models.DateField(_("expected close"), null=True, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="deals",
    )
    closed_on = models.DateField(_("closed"), null=True, blank=True)
    lost_reason = models.CharField(_("reason lost"), max_length=300, blank=True)
    won_reason = models.CharField(_("reason won"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="deal_amount_not_negative"),
            models.CheckConstraint(
                condition=~Q(stage="lost") | ~Q(lost_reason=""),
                name="deal_lost_has_reason",
                violation_error_message=_("A lost deal needs the reason it was lost."),
            ),
        ]
        indexes = [models.Index(fields=["owner", "stage"], name="deal_owner_stage_idx")]

    def __str__(self) -> str:
        return self.title
