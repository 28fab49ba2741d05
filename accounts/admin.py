from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import SavedClientFilter, Team, User, UserRole


class UserRoleInline(admin.TabularInline):
    model = UserRole
    extra = 1


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Users are switched off, never deleted."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "roles_display", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "roles__role"]
    search_fields = ["email", "first_name", "last_name"]
    inlines = [UserRoleInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("first_name", "last_name", "phone", "language")}),
        (_("Permissions"), {"fields": ("is_active", "is_staff", "is_superuser", "groups")}),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("roles")

    @admin.display(description=_("roles"))
    def roles_display(self, obj: User) -> str:
        return ", ".join(str(r.get_role_display()) for r in obj.roles.all())

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "head"]
    search_fields = ["name"]
    autocomplete_fields = ["head", "parent"]
    filter_horizontal = ["members"]


@admin.register(SavedClientFilter)
class SavedClientFilterAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "query", "created_at"]
    search_fields = ["name", "user__email"]
    list_select_related = ["user"]
    autocomplete_fields = ["user"]
