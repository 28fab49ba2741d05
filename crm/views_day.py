"""The home page: what a user's roles need first today."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.selectors import clients_visible_to
from crm import selectors
from crm.views import _user


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page: what a user's roles need first."""
    user = _user(request)
    visible = clients_visible_to(user=user)
    context = {
        "my_clients_count": visible.filter(owner=user).count(),
        "visible_clients_count": visible.count() if user.is_head else None,
        "today": timezone.localdate(),
        "panels": selectors.home_panels_for(user=user),
        "open_tasks": list(selectors.tasks_open_for(user=user)[:10]),
        "recent_activities": list(selectors.activities_recent_for(user=user, limit=8)),
        "book_sizes": list(selectors.owners_book_sizes(user=user)[:15]) if user.is_head else [],
    }
    return render(request, "crm/home.html", context)
