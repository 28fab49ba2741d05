"""Tables derived from shipment lines, rebuilt set-wise for the clients whose lines changed."""

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


def _derived_client() -> models.ForeignKey:
    """The client of a derived row: no constraint, no cascade, no own index.

    Derived rows are rebuilt from the lines whenever a client's lines change
    (``StaleMonth``); a deleted client's lines mark it stale, and the rebuild
    removes its rows. Django's cascade would only read them first.
    """
    return models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )


class ClientDocument(models.Model):
    """One shipment document of a client: its lines added up.

    Money is kept in kopecks (whole units of 0.01), so the engine's sums over
    millions of documents are integer additions, exact on every database.
    A document with a positive total is an order (domain.md "Metrics").
    """

    client = _derived_client()
    doc_number = models.CharField(_("document number"), max_length=64)
    doc_date = models.DateField(_("document date"))
    total_kopecks = models.BigIntegerField(_("total, kopecks"))
    margin_kopecks = models.BigIntegerField(
        _("margin, kopecks"), help_text=_("Amount less cost, over the lines that have a cost.")
    )

    class Meta:
        verbose_name = _("client document")
        verbose_name_plural = _("client documents")
        indexes = [
            models.Index(fields=["client", "doc_date"], name="clientdocument_client_date"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.doc_number} {self.doc_date}"


class ClientProduct(models.Model):
    """A product a client has bought, with the date of its latest positive line."""

    client = _derived_client()
    product = models.ForeignKey(
        "crm.Product",
        verbose_name=_("product"),
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    last_bought_on = models.DateField(_("last bought"))

    class Meta:
        verbose_name = _("client product")
        verbose_name_plural = _("client products")
        indexes = [models.Index(fields=["client", "product"], name="clientproduct_client_product")]

    def __str__(self) -> str:
        return f"{self.client_id} {self.product_id} {self.last_bought_on}"


class StaleMonth(models.Model):
    """A month of a client whose shipment lines changed since its derived rows were built.

    Database triggers on shipment lines (and on a product changing group)
    write these marks, so every writer is covered: imports, merges, the admin
    and bulk loads alike. Each engine run first rebuilds the marked months'
    summary rows and documents, and the marked clients' products, and
    removes the marks it took.
    """

    pk = models.CompositePrimaryKey("client_id", "month")
    client_id = models.BigIntegerField(_("client"))
    month = models.DateField(_("month"), help_text=_("The first day of the month."))

    class Meta:
        verbose_name = _("month with changed lines")
        verbose_name_plural = _("months with changed lines")

    def __str__(self) -> str:
        return f"{self.client_id} {self.month:%Y-%m}"
