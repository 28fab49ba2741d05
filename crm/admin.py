from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from accounts.selectors import clients_visible_to
from crm import models


class ScopedToVisibleClients:
    """Admin lists show only records of clients the user may see."""

    client_field = "client"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        qs = super().get_queryset(request)  # type: ignore[misc]
        visible = clients_visible_to(user=request.user).values("id")
        if self.client_field == "pk":
            return qs.filter(pk__in=visible)
        return qs.filter(**{f"{self.client_field}__in": visible})


class ContactInline(admin.TabularInline):
    model = models.Contact
    extra = 0
    fields = ["full_name", "position", "decision_role", "influence", "attitude", "is_active"]
    show_change_link = True


class GrantInline(admin.TabularInline):
    model = models.ClientGrant
    fk_name = "client"
    extra = 0
    autocomplete_fields = ["user"]
    exclude = ["granted_by"]


@admin.register(models.Client)
class ClientAdmin(ScopedToVisibleClients, SimpleHistoryAdmin):
    client_field = "pk"
    list_display = ["name", "inn", "kpp", "external_id", "owner", "sales_type", "conveyor_stage"]
    list_filter = ["sales_type", "conveyor_stage", "region"]
    search_fields = ["name", "inn", "external_id"]
    list_select_related = ["owner"]
    autocomplete_fields = ["owner", "parent"]
    inlines = [ContactInline, GrantInline]


@admin.register(models.Contact)
class ContactAdmin(ScopedToVisibleClients, SimpleHistoryAdmin):
    list_display = ["full_name", "client", "position", "decision_role", "attitude"]
    search_fields = ["full_name", "email", "phone"]
    list_select_related = ["client"]
    autocomplete_fields = ["client", "reports_to"]


@admin.register(models.ClientGrant)
class ClientGrantAdmin(ScopedToVisibleClients, SimpleHistoryAdmin):
    list_display = ["client", "user", "level", "reason", "expires_at"]
    list_select_related = ["client", "user"]
    autocomplete_fields = ["client", "user", "granted_by"]


@admin.register(models.OwnershipChange)
class OwnershipChangeAdmin(ScopedToVisibleClients, admin.ModelAdmin):
    list_display = ["client", "from_user", "to_user", "kind", "changed_by", "changed_at"]
    list_select_related = ["client", "from_user", "to_user", "changed_by"]
    list_filter = ["kind"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.ProductGroup)
class ProductGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["sku", "name", "group"]
    search_fields = ["sku", "name"]
    list_select_related = ["group"]
    autocomplete_fields = ["group"]


@admin.register(models.ShipmentLine)
class ShipmentLineAdmin(ScopedToVisibleClients, admin.ModelAdmin):
    list_display = ["doc_number", "doc_date", "client", "product", "qty", "amount"]
    list_select_related = ["client", "product"]
    date_hierarchy = "doc_date"
    search_fields = ["doc_number"]
    raw_id_fields = ["client", "product"]
    show_full_result_count = False


@admin.register(models.Deal)
class DealAdmin(ScopedToVisibleClients, SimpleHistoryAdmin):
    list_display = ["title", "client", "kind", "stage", "amount", "expected_close_on", "owner"]
    list_select_related = ["client", "owner"]
    list_filter = ["kind", "stage"]
    autocomplete_fields = ["client", "owner"]


@admin.register(models.Activity)
class ActivityAdmin(ScopedToVisibleClients, admin.ModelAdmin):
    list_display = ["occurred_at", "kind", "client", "performed_by", "purpose"]
    list_select_related = ["client", "performed_by"]
    list_filter = ["kind", "purpose"]
    autocomplete_fields = ["client", "contact", "performed_by", "entered_by"]


@admin.register(models.Task)
class TaskAdmin(ScopedToVisibleClients, SimpleHistoryAdmin):
    list_display = ["title", "client", "assignee", "due_on", "status", "kind"]
    list_select_related = ["client", "assignee"]
    list_filter = ["status", "kind"]
    autocomplete_fields = ["client", "assignee", "created_by"]


@admin.register(models.WalletEstimate)
class WalletEstimateAdmin(ScopedToVisibleClients, SimpleHistoryAdmin):
    list_display = ["client", "kind", "year", "amount", "product_group", "status"]
    list_select_related = ["client", "product_group"]
    list_filter = ["kind", "status", "year"]
    autocomplete_fields = ["client", "product_group", "entered_by", "reviewed_by"]


@admin.register(models.ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    """Import runs are a log: read-only."""

    list_display = [
        "started_at",
        "kind",
        "file_name",
        "status",
        "rows_read",
        "created",
        "updated",
        "rejected",
        "started_by",
    ]
    list_filter = ["kind", "status"]
    list_select_related = ["started_by"]
    search_fields = ["file_name", "checksum"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.SurveyAnswer)
class SurveyAnswerAdmin(ScopedToVisibleClients, admin.ModelAdmin):
    list_display = ["client", "kind", "score", "contact", "answered_on", "entered_by"]
    list_select_related = ["client", "contact", "entered_by"]
    list_filter = ["kind"]
    autocomplete_fields = ["client", "contact", "entered_by"]
    raw_id_fields = ["follow_up"]


class ScopedDossierNotes:
    """Team-only notes stay inside the owner's team chain, in the admin too."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        from crm.selectors import dossier_notes_visible_to

        qs = super().get_queryset(request)  # type: ignore[misc]
        return qs.filter(pk__in=dossier_notes_visible_to(user=request.user).values("id"))  # type: ignore[arg-type]


@admin.register(models.DossierNote)
class DossierNoteAdmin(ScopedDossierNotes, SimpleHistoryAdmin):
    list_display = ["client", "author", "visibility", "created_at"]
    list_select_related = ["client", "author"]
    list_filter = ["visibility"]
    autocomplete_fields = ["client", "author"]


class _PlanLikeAdmin(SimpleHistoryAdmin):
    """Plans and forecasts change on the plans page, where the rules are checked:
    read-only here, with their history."""

    list_filter = ["level", "period_kind"]
    date_hierarchy = "period_start"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.SalesPlan)
class SalesPlanAdmin(_PlanLikeAdmin):
    list_display = ["level", "client", "manager", "team", "period_kind", "period_start", "amount"]
    list_select_related = ["client", "manager", "team"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        from crm.selectors.plans import plans_visible_to

        visible = plans_visible_to(user=request.user)  # type: ignore[arg-type]
        return super().get_queryset(request).filter(pk__in=visible.values("id"))


@admin.register(models.SalesForecast)
class SalesForecastAdmin(_PlanLikeAdmin):
    list_display = ["level", "client", "manager", "period_kind", "period_start", "amount"]
    list_select_related = ["client", "manager"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        from crm.selectors.plans import forecasts_visible_to

        visible = forecasts_visible_to(user=request.user)  # type: ignore[arg-type]
        return super().get_queryset(request).filter(pk__in=visible.values("id"))
