"""Per-client results of a run: the metrics of domain.md and the segment."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils.translation import gettext_lazy as _

from crm.choices import SalesType, ShareBand
from segmentation.choices import AbcClass, LifecycleStatus, Segment, XyzClass


def lapse_order() -> Case:
    """0 for a sleeping client, 1 for a lost one: the reactivation list shows sleeping ones first.

    One definition for the list's ORDER BY and the index that serves it.
    """
    return Case(
        When(status=LifecycleStatus.SLEEPING, then=Value(0)),
        default=Value(1),
        output_field=models.IntegerField(),
    )


class ClientMetricSnapshot(models.Model):
    """Every per-client metric of one run, with the owner and team at that time.

    Stored per run so that movements between runs (segment, status) stay
    visible and the ``reactivated`` rule can read earlier statuses.

    The keys carry no database constraints (as shipment lines): a run writes
    50 000 rows in one COPY and PostgreSQL would check each deferred key at
    commit, about a second per run. The ids come from the engine's own reads
    in the same transaction; clients are merged, never deleted, and Django
    still cascades or protects on delete. Nor do the keys have indexes of
    their own: the composite indexes below start with each key that is read
    by, and every extra index is written 50 000 times per run.
    """

    run = models.ForeignKey(
        "segmentation.MetricRun",
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="snapshots",
        db_constraint=False,
        db_index=False,
    )
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        # The client list sorts and filters clients by their row in a run.
        related_name="metric_snapshots",
        db_constraint=False,
        db_index=False,
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner at the time"),
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team at the time"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    sales_type = models.CharField(_("sales type"), max_length=20, choices=SalesType.choices)
    revenue_12m = models.DecimalField(_("revenue, 12 months"), max_digits=18, decimal_places=2)
    revenue_prev_12m = models.DecimalField(
        _("revenue, previous 12 months"), max_digits=18, decimal_places=2
    )
    revenue_ytd = models.DecimalField(_("revenue since 1 January"), max_digits=18, decimal_places=2)
    revenue_prev_ytd = models.DecimalField(
        _("revenue, same dates a year earlier"), max_digits=18, decimal_places=2
    )
    margin_12m = models.DecimalField(_("gross margin, 12 months"), max_digits=18, decimal_places=2)
    yoy_growth = models.DecimalField(
        _("growth year on year"), null=True, blank=True, max_digits=24, decimal_places=8
    )
    orders_12m = models.PositiveIntegerField(_("orders, 12 months"))
    avg_check_12m = models.DecimalField(
        _("average check, 12 months"), null=True, blank=True, max_digits=18, decimal_places=2
    )
    skus_12m = models.PositiveIntegerField(_("SKUs, 12 months"))
    groups_12m = models.PositiveIntegerField(_("product groups, 12 months"))
    first_order_on = models.DateField(_("first order"), null=True, blank=True)
    second_order_on = models.DateField(
        _("second order"),
        null=True,
        blank=True,
        help_text=_("The first order on a later date than the first order (retention)."),
    )
    last_order_on = models.DateField(_("last order"), null=True, blank=True)
    days_since_last_order = models.PositiveIntegerField(
        _("days since the last order"), null=True, blank=True
    )
    usual_gap_days = models.DecimalField(
        _("usual gap between orders, days"), max_digits=7, decimal_places=1, null=True, blank=True
    )
    suggested_sales_type = models.CharField(
        _("suggested sales type"), max_length=20, choices=SalesType.choices, blank=True
    )
    wallet = models.DecimalField(
        _("wallet"), null=True, blank=True, max_digits=18, decimal_places=2
    )
    wallet_year = models.PositiveSmallIntegerField(_("wallet year"), null=True, blank=True)
    wallet_verified_on = models.DateField(_("wallet verified"), null=True, blank=True)
    share_of_wallet = models.DecimalField(
        _("share of wallet"), null=True, blank=True, max_digits=24, decimal_places=8
    )
    share_band = models.CharField(
        _("share band"), max_length=20, choices=ShareBand.choices, blank=True
    )
    status = models.CharField(_("status"), max_length=12, choices=LifecycleStatus.choices)
    segment = models.CharField(_("segment"), max_length=8, choices=Segment.choices)
    # The segment the rule set gives; differs from ``segment`` only under a
    # head's override. Development credit is reckoned on it, never on overrides.
    rule_segment = models.CharField(
        _("segment by the rules"), max_length=8, choices=Segment.choices, blank=True
    )
    abc = models.CharField(_("ABC by revenue"), max_length=1, choices=AbcClass.choices, blank=True)
    abc_margin = models.CharField(
        _("ABC by margin"), max_length=1, choices=AbcClass.choices, blank=True
    )
    xyz = models.CharField(_("XYZ"), max_length=1, choices=XyzClass.choices, blank=True)
    xyz_cv = models.DecimalField(
        _("coefficient of variation"), max_digits=16, decimal_places=6, null=True, blank=True
    )

    class Meta:
        verbose_name = _("client metric snapshot")
        verbose_name_plural = _("client metric snapshots")
        constraints = [
            models.UniqueConstraint(fields=["run", "client"], name="snapshot_run_client_unique"),
        ]
        indexes = [
            # A segment's clients, biggest buyers first ("find out the wallet",
            # the list filtered by segment and sorted by revenue) come off
            # snapshot_segment_revenue_idx: (run, segment, revenue_12m DESC NULLS
            # LAST, client). It is written per database by migration 0015, as
            # SQLite cannot declare NULLS LAST in an index.
            models.Index(fields=["run", "status"], name="snapshot_run_status_idx"),
            # The reactivation list in its order (sleeping first, the most recently
            # lapsed first): its first rows come off the index over a whole base.
            models.Index(
                "run",
                lapse_order(),
                "days_since_last_order",
                name="snapshot_lapse_order_idx",
                condition=Q(status__in=[LifecycleStatus.SLEEPING, LifecycleStatus.LOST]),
            ),
            models.Index(fields=["run", "owner"], name="snapshot_run_owner_idx"),
            models.Index(fields=["client", "run"], name="snapshot_client_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} @ {self.run_id}"


class ClientGroupShare(models.Model):
    """A client's figures in one product group for one run.

    A table rather than JSON on the snapshot: reports filter and sum by
    group in SQL (average check per group of a team, white space in a
    group), and the foreign key keeps group ids honest.
    """

    run = models.ForeignKey(
        "segmentation.MetricRun",
        verbose_name=_("run"),
        on_delete=models.CASCADE,
        related_name="group_shares",
        db_constraint=False,
        db_index=False,
    )
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    product_group = models.ForeignKey(
        "crm.ProductGroup",
        verbose_name=_("product group"),
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    revenue_12m = models.DecimalField(_("revenue, 12 months"), max_digits=18, decimal_places=2)
    orders_12m = models.PositiveIntegerField(
        _("orders with a line of the group, 12 months"), default=0
    )
    avg_check_12m = models.DecimalField(
        _("average check, 12 months"), null=True, blank=True, max_digits=18, decimal_places=2
    )
    skus_12m = models.PositiveIntegerField(_("SKUs, 12 months"), default=0)
    wallet = models.DecimalField(
        _("wallet"), null=True, blank=True, max_digits=18, decimal_places=2
    )
    share_of_wallet = models.DecimalField(
        _("share of wallet"), null=True, blank=True, max_digits=24, decimal_places=8
    )
    # By the group's own band limits where the rule set gives them (else the standard ones).
    share_band = models.CharField(
        _("share band"), max_length=20, choices=ShareBand.choices, blank=True
    )
    high_share = models.BooleanField(
        _("high share"),
        default=False,
        help_text=_(
            "Share of wallet at or above the group's share threshold (the rule set's when "
            "the group has none); false without a share."
        ),
    )

    class Meta:
        verbose_name = _("client share in a product group")
        verbose_name_plural = _("client shares in product groups")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "client", "product_group"], name="groupshare_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}/{self.product_group_id} @ {self.run_id}"
