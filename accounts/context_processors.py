from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from crm.importers.jobs import may_import


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The menu a user sees, by role."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    items: list[tuple[str, Any]] = [
        (reverse("home"), _("Home")),
        (reverse("crm:client_list"), _("Clients")),
        (reverse("crm:deal_board"), _("Deals")),
        # Managers enter forecasts there; heads set plans.
        (reverse("crm:plans"), _("Plans")),
        # Everyone works by the service standards of their segments; heads edit them.
        (reverse("segmentation:rules"), _("Segments")),
    ]
    if user.is_head:
        items.append((reverse("crm:estimates_to_verify"), _("Estimates")))
        items.append((reverse("accounts:team_list"), _("Teams")))
    if may_import(user):
        items.append((reverse("crm:import_list"), _("Imports")))
    if user.is_head:
        items.append((reverse("segmentation:run_list"), _("Metric runs")))
    if user.is_admin:
        items.append((reverse("admin:index"), _("Administration")))
    items.append((reverse("api-docs"), _("API")))
    current = request.path
    # The deepest menu entry that contains the page is the active one.
    matches = [
        url for url, _label in items if current == url or (url != "/" and current.startswith(url))
    ]
    active = max(matches, key=len) if matches else None
    return {
        "nav_items": [{"url": url, "label": label, "active": url == active} for url, label in items]
    }
