"""Clients, who may work on them (grants) and the ledger of their owners."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
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
    # The newest touch (Activity) of the client: a copy kept by
    # crm.services.clients_last_touch_refresh whenever a touch is written, moved
    # or deleted, so "overdue by the service standard" is a column comparison
    # instead of a lookup per client. Never written by a card's save.
    last_touch_at = models.DateTimeField(_("last touch"), null=True, blank=True, editable=False)

    # The version is kept in the history so that a refused edit can name what
    # changed since the version its editor loaded (crm.services.client_update).
    history = HistoricalRecords(excluded_fields=["updated_at", "last_touch_at"])

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
            elif not self._state.adding:
                # A card loaded before a touch was logged must not put back the
                # older last-touch time it carries.
                kwargs["update_fields"] = {
                    field.name
                    for field in self._meta.concrete_fields
                    if not field.primary_key and field.name != "last_touch_at"
                }
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.inn = normalize_inn(self.inn)
        self.kpp = (self.kpp or "").strip().upper()
        self.external_id = (self.external_id or "").strip()
        if self.parent_id:
            self._check_holding(self.parent_id)

    def _check_holding(self, parent_id: int) -> None:
        """Holdings have two levels: a holding and its subsidiaries (so never a circle)."""
        if parent_id == self.pk:
            raise ValidationError({"parent": _("A client cannot be its own holding.")})
        parent = (
            Client.objects.filter(pk=parent_id)
            .values("name", "parent_id", "merged_into_id")
            .first()
        )
        if parent is None:
            return  # the field's own check names an unknown client
        if parent["merged_into_id"] is not None:
            raise ValidationError(
                {
                    "parent": _(
                        "%(name)s was merged into another card: choose the card it lives on in."
                    )
                    % {"name": parent["name"]}
                }
            )
        if parent["parent_id"] is not None:
            raise ValidationError(
                {
                    "parent": _(
                        "%(name)s belongs to a holding itself: choose the holding at the top."
                    )
                    % {"name": parent["name"]}
                }
            )
        if self.pk and Client.objects.filter(parent_id=self.pk).exists():
            raise ValidationError(
                {
                    "parent": _(
                        "This client is the holding of its own subsidiaries: "
                        "it cannot belong to another holding."
                    )
                }
            )

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


class ClientMerge(models.Model):
    """Two cards of one company became one: what moved, who did it, when."""

    survivor = models.ForeignKey(
        Client, verbose_name=_("kept client"), on_delete=models.PROTECT, related_name="merges"
    )
    merged = models.ForeignKey(
        Client, verbose_name=_("merged client"), on_delete=models.PROTECT, related_name="+"
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    merged_at = models.DateTimeField(_("merged"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    moved = models.JSONField(_("records moved"), default=dict)

    class Meta:
        verbose_name = _("client merge")
        verbose_name_plural = _("client merges")
        ordering = ["-merged_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["merged"], name="clientmerge_merged_once"),
            models.CheckConstraint(
                condition=~Q(survivor=models.F("merged")), name="clientmerge_two_clients"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.merged} → {self.survivor}"
