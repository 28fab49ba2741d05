"""Client × month × product group totals, rebuilt set-wise from shipment lines."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class MonthlySummary(models.Model):
    """Shipments of one client in one calendar month and one product group.

    A cache of ``ShipmentLine`` (every line, whatever the run's date), rebuilt
    by ``segmentation.engine.summary`` with one INSERT … SELECT. Returns are
    negative lines: they lower ``revenue`` and ``qty``. ``orders`` counts the
    orders (documents with a positive total) that have a positive line of the
    group, so a whole-return document is never an order; the same order
    counts in each of its groups, so ``orders`` does not add up across groups.
    """

    # No database constraints and no single-column indexes on this cache's keys:
    # its rows come from shipment lines, whose own keys are constrained, and a
    # full run rewrites millions of them, where a deferred check per row and
    # key cost more than the rewrite (the unique constraint's index starts with
    # the client). Deleting a client or a group still removes its rows
    # (Django's cascade).
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    product_group = models.ForeignKey(
        "crm.ProductGroup",
        verbose_name=_("product group"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    revenue = models.DecimalField(_("revenue"), max_digits=18, decimal_places=2)
    lines = models.PositiveIntegerField(_("lines"))
    qty = models.DecimalField(_("quantity"), max_digits=18, decimal_places=3)
    orders = models.PositiveIntegerField(_("orders"))

    class Meta:
        verbose_name = _("monthly summary")
        verbose_name_plural = _("monthly summaries")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "month", "product_group"], name="monthlysummary_unique"
            ),
        ]
        indexes = [models.Index(fields=["month"], name="monthlysummary_month_idx")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.month:%Y-%m} {self.product_group_id}"
