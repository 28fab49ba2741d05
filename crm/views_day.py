"""'My day': the home page of managers, and the team panels of heads.

Sections (crm/selectors/day.py): touches overdue by the service standard,
tasks due, sleeping and lost clients to reactivate, clients whose wallet
must be found out, deals closing this month. Each row leads to its action
in one click (the work dialogs of views_work open over the page with htmx;
without JavaScript they are pages of their own). ``?show=<section>`` lists
one section in full, page by page; heads switch between their teams'
lists and their own book with ``?scope=team|mine``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import clients_editable_among
from crm import selectors
from crm.selectors import book_counts, day
from crm.views import _user

FULL_LIST_PER_PAGE = 50

SECTION_TITLES = {
    "overdue": _("Touches overdue"),
    "tasks": _("Tasks due"),
    "reactivation": _("Sleeping clients to reactivate"),
    "attempted": _("Reactivation attempted, waiting for an order"),
    "unrated": _("Find out the wallet"),
    "deals": _("Deals closing this month"),
}


def _editable_ids(user: User, scope: str, sections: list[day.Section]) -> set[int] | None:
    """Clients among the rows the user may change; None: all of them (their own book)."""
    if scope == day.SCOPE_MINE:
        return None
    owners = {
        row.client_id: row.client.owner_id
        for section in sections
        for row in section.rows
        if getattr(row, "client_id", None)
    }
    return clients_editable_among(user=user, owners=owners)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The home page: what a user's roles need first today."""
    user = _user(request)
    today = timezone.localdate()
    scope = request.GET.get("scope") or day.default_scope(user=user)
    if scope not in (day.SCOPE_MINE, day.SCOPE_TEAM) or not user.is_head:
        scope = day.SCOPE_MINE if not user.is_head else day.default_scope(user=user)
    show = request.GET.get("show")
    context: dict[str, Any] = {
        "today": today,
        "scope": scope,
        "is_team": scope == day.SCOPE_TEAM,
        "section_titles": SECTION_TITLES,
        "pause_days": day.REACTIVATION_PAUSE_DAYS,
    }
    if show in day.SECTIONS:
        rows = day.section_rows(key=show, user=user, scope=scope, today=today)
        assert rows is not None
        page = Paginator(rows, FULL_LIST_PER_PAGE).get_page(request.GET.get("page"))
        section = day.Section(key=show, rows=list(page.object_list), count=page.paginator.count)
        if show == "overdue":
            day.with_touch_due(section.rows)
        if show == "reactivation":
            day.with_reactivator(section.rows)
        context.update(
            show=show,
            page=page,
            section=section,
            title=SECTION_TITLES[show],
            editable_ids=_editable_ids(user, scope, [section]),
        )
        return render(request, "crm/day/full_list.html", context)

    team = day.team_of(user=user) if scope == day.SCOPE_TEAM else None
    book = selectors.own_book_counts(user=user)
    basis = day.day_basis()
    # A head's counts over everything they see, per owner and mostly from the cache.
    counts = (
        book_counts.head_counts(user=user, run=basis.run, today=today, norms=basis.norms)
        if user.is_head
        else None
    )
    sections = day.my_day(
        user=user,
        scope=scope,
        today=today,
        team=team,
        basis=basis,
        counts=counts.sections() if counts and scope == day.SCOPE_TEAM else None,
    )
    context.update(
        sections=sections,
        editable_ids=_editable_ids(user, scope, list(sections.values())),
        panels=selectors.home_panels_for(
            user=user, book=book, drafts=counts.total.drafts if counts else None
        ),
        my_clients_count=book["total"],
    )
    if user.is_head:
        per_owner = (
            {owner_id: c.clients for owner_id, c in counts.by_owner.items()} if counts else None
        )
        books = selectors.team_books(user=user, per_owner=per_owner)
        context.update(visible_clients_count=books.total, book_sizes=books.biggest)
        if scope == day.SCOPE_TEAM:
            context["recent_activities"] = list(selectors.activities_recent_for(user=user, limit=8))
    return render(request, "crm/home.html", context)
