"""Core records of the CRM: clients, their people, products, sales and work."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm import choices
from crm.validators import normalize_inn, validate_inn, validate_kpp

# Which field a violated client constraint is shown on.
_CONSTRAINT_FIELDS = {
    "duplicate_external_id": "external_id",
    "duplicate_inn_kpp": "inn",
    "kpp_needs_inn": "kpp",
}


class Client(models.Model):
    """A company we sell to (or want to). Exactly one accountable owner."""

    name = models.CharField(_("name"), max_length=300, db_index=True)
    inn = models.CharField(_("INN"), max_length=12, blank=True, validators=[validate_inn])
    kpp = models.CharField(_("KPP"), max_length=9, blank=True, validators=[validate_kpp])
    external_id = models.CharField(
        _("external id"),
        max_length=64,
        blank=True,
        help_text=_("The client's code in the ERP (1C)."),
    )
    region = models.CharField(_("region"), max_length=120, blank=True, db_index=True)
    industry = models.CharField(_("industry"), max_length=120, blank=True, db_index=True)
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    outlets = models.PositiveIntegerField(
        _("outlets"), null=True, blank=True, help_text=_("Points of sale or branches.")
    )
    sales_type = models.CharField(
        _("sales type"),
        max_length=20,
        choices=choices.SalesType.choices,
        default=choices.SalesType.MIXED,
    )
    conveyor_stage = models.CharField(
        _("conveyor stage"),
        max_length=20,
        choices=choices.ConveyorStage.choices,
        default=choices.ConveyorStage.LEAD,
        db_index=True,
    )
    motivation_type = models.CharField(
        _("motivation type"), max_length=20, choices=choices.MotivationType.choices, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="owned_clients",
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("holding"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="subsidiaries",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    # Bumped on every save: a form that carries an older version is refused
    # instead of overwriting someone else's edit.
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["updated_at", "version"])

    class Meta:
        verbose_name = _("client")
        verbose_name_plural = _("clients")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=~Q(external_id=""),
                name="client_external_id_unique",
                violation_error_message=_("A client with this external id already exists."),
                violation_error_code="duplicate_external_id",
            ),
            models.UniqueConstraint(
                fields=["inn", "kpp"],
                condition=~Q(inn=""),
                name="client_inn_kpp_unique",
                violation_error_message=_("A client with this INN and KPP already exists."),
                violation_error_code="duplicate_inn_kpp",
            ),
            models.CheckConstraint(
                condition=Q(kpp="") | ~Q(inn=""),
                name="client_kpp_needs_inn",
                violation_error_message=_("A KPP is only meaningful with an INN."),
                violation_error_code="kpp_needs_inn",
            ),
        ]
        indexes = [
            models.Index(fields=["inn"], name="client_inn_idx"),
            models.Index(fields=["owner", "name"], name="client_owner_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk:
            self.version = (self.version or 0) + 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "version", "updated_at"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.inn = normalize_inn(self.inn)
        self.kpp = (self.kpp or "").strip().upper()
        self.external_id = (self.external_id or "").strip()
        if self.parent_id and self.parent_id == self.pk:
            raise ValidationError({"parent": _("A client cannot be its own holding.")})

    def validate_constraints(self, exclude: Collection[str] | None = None) -> None:
        """Show a broken uniqueness rule on the field it concerns, not above the form."""
        try:
            super().validate_constraints(exclude=exclude)
        except ValidationError as error:
            errors: dict[str, list[ValidationError]] = {}
            for field, messages in error.error_dict.items():
                for message in messages:
                    target = field
                    if field == NON_FIELD_ERRORS:
                        target = _CONSTRAINT_FIELDS.get(message.code or "", field)
                    errors.setdefault(target, []).append(message)
            raise ValidationError(errors) from None


class ClientGrantQuerySet(models.QuerySet["ClientGrant"]):
    def active(self) -> ClientGrantQuerySet:
        """Grants in force now: without an expiry, or expiring later."""
        return self.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))


class ClientGrant(models.Model):
    """Access to a client beyond its owner: co-owners, KAMs, project members."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="grants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        related_name="client_grants",
    )
    level = models.CharField(
        _("access"), max_length=10, choices=choices.GrantLevel.choices, default="read"
    )
    reason = models.CharField(_("reason"), max_length=20, choices=choices.GrantReason.choices)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("granted by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)

    objects = ClientGrantQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("access grant")
        verbose_name_plural = _("access grants")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "user", "reason"], name="clientgrant_unique_reason"
            ),
        ]
        indexes = [models.Index(fields=["user", "client"], name="clientgrant_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.client} ({self.get_reason_display()})"


class OwnershipChange(models.Model):
    """One row per change of a client's owner: the ledger handoff reports read."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="ownership_changes"
    )
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("previous owner"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("new owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=choices.OwnershipChangeKind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("changed"), default=timezone.now, db_index=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("ownership change")
        verbose_name_plural = _("ownership changes")
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["client", "changed_at"], name="ownership_client_idx")]

    def __str__(self) -> str:
        return f"{self.client}: {self.from_user} → {self.to_user}"


class Contact(models.Model):
    """A person at a client, with their part in the client's decisions."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    department = models.CharField(_("department"), max_length=200, blank=True)
    level = models.CharField(
        _("level"), max_length=20, choices=choices.ContactLevel.choices, blank=True
    )
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=choices.DecisionRole.choices, blank=True
    )
    influence = models.PositiveSmallIntegerField(
        _("influence"), choices=choices.Influence.choices, null=True, blank=True
    )
    attitude = models.CharField(
        _("attitude"),
        max_length=20,
        choices=choices.Attitude.choices,
        default=choices.Attitude.UNKNOWN,
    )
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    is_active = models.BooleanField(_("works there"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["full_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reports_to=models.F("id")), name="contact_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def clean(self) -> None:
        if self.reports_to_id is None:
            return
        if self.reports_to is not None and self.reports_to.client_id != self.client_id:
            raise ValidationError(
                {"reports_to": _("A contact can only report to a person of the same client.")}
            )
        seen = {self.pk} if self.pk else set()
        boss = self.reports_to
        while boss is not None:
            if boss.pk in seen:
                raise ValidationError(
                    {"reports_to": _("This would make the reporting lines a circle.")}
                )
            seen.add(boss.pk)
            boss = boss.reports_to


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
    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.PROTECT, related_name="shipment_lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
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
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="deals"
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


class Activity(models.Model):
    """A touch: a call, meeting, visit, e-mail or letter."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        Contact,
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
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


class Task(models.Model):
    client = models.ForeignKey(
        Client,
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

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ["due_on", "id"]
        indexes = [
            models.Index(fields=["assignee", "status", "due_on"], name="task_assignee_due_idx"),
        ]

    def __str__(self) -> str:
        return self.title


class WalletEstimate(models.Model):
    """A turnover or wallet estimate of a client for a year, verified by a head."""

    client = models.ForeignKey(
        Client, verbose_name=_("client"), on_delete=models.CASCADE, related_name="estimates"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=choices.EstimateKind.choices)
    year = models.PositiveSmallIntegerField(_("year"), validators=[MinValueValidator(2000)])
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)]
    )
    product_group = models.ForeignKey(
        ProductGroup,
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
