"""The client card: a header and tabs (plain ``?tab=`` links; htmx swaps a tab in).

Each tab reads only what it shows, so every tab has its own bounded number of
queries; the header's facts come from the latest good metric run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import client_can_edit
from crm import selectors, services
from crm.duplicates import likely_duplicates
from crm.forms import ContactForm
from crm.models import Client, Contact, SurveyAnswer
from crm.selectors import card
from crm.views import _user
from crm.wallet import client_share_of_wallet, suggested_wallet
from segmentation.models import ClientMetricSnapshot, MetricRun

TABS: tuple[tuple[str, Any], ...] = (
    ("overview", gettext_lazy("Overview")),
    ("contacts", gettext_lazy("Contacts")),
    ("activities", gettext_lazy("Touches")),
    ("tasks", gettext_lazy("Tasks")),
    ("deals", gettext_lazy("Deals")),
    ("estimates", gettext_lazy("Estimates")),
    ("history", gettext_lazy("History")),
    ("dossier", gettext_lazy("Dossier")),
    ("surveys", gettext_lazy("Surveys")),
)
TAB_NAMES = frozenset(name for name, _label in TABS)
TOUCHES_PER_PAGE = 50
LIST_CAP = card.LIST_CAP


class _Card:
    """The request's client with the run facts read once, when a part needs them."""

    def __init__(self, request: HttpRequest, user: User, client: Client) -> None:
        self.request = request
        self.user = user
        self.client = client
        self.can_edit = client_can_edit(user=user, client=client)
        self._metrics: tuple[MetricRun | None, ClientMetricSnapshot | None] | None = None

    @property
    def metrics(self) -> tuple[MetricRun | None, ClientMetricSnapshot | None]:
        if self._metrics is None:
            self._metrics = card.client_metrics(client=self.client)
        return self._metrics


def _live_share(client: Client) -> dict[str, object]:
    """The share of wallet as of today from the estimates (``_share_of_wallet.html``)."""
    today = timezone.localdate()
    return {
        "share_of_wallet": client_share_of_wallet(client=client, as_of=today),
        "wallet_suggestion": suggested_wallet(client=client, as_of=today),
    }


def _overview(c: _Card) -> dict[str, object]:
    client, user = c.client, c.user
    run, snapshot = c.metrics
    chart = card.client_revenue_chart(client=client, today=timezone.localdate())
    context: dict[str, object] = {
        "chart": chart,
        "chart_data": chart.chart_data(),
        "group_shares": card.client_group_shares(client=client, run=run if snapshot else None),
        "white_space": card.client_white_space(client=client, run=run, snapshot=snapshot),
        "white_space_percent": int(card.WHITE_SPACE_MIN_SHARE * 100),
        "holding": card.holding_rollup(user=user, client=client, run=run, snapshot=snapshot),
        "duplicates": likely_duplicates(
            user=user,
            name=client.name,
            inn=client.inn,
            region=client.region,
            exclude_pk=client.pk,
        )
        if user.is_head
        else [],
        "merges": list(client.merges.select_related("merged", "merged_by")),
        # Touches and open tasks (crm/views_work.py writes them).
        **selectors.client_card_work(user=user, client=client),
    }
    if snapshot is None:
        # No run has covered the client yet: the share as of today, from the estimates.
        context.update(_live_share(client))
        context["estimates"] = list(
            client.estimates.select_related("product_group", "entered_by", "reviewed_by")[:20]
        )
    return context


def _contacts(c: _Card) -> dict[str, object]:
    roots, former = card.client_org_chart(client=c.client)
    return {"org_chart": roots, "former_contacts": former}


def _activities(c: _Card) -> dict[str, object]:
    paginator = Paginator(selectors.client_activities(client=c.client), TOUCHES_PER_PAGE)
    return {"page": paginator.get_page(c.request.GET.get("page"))}


def _tasks(c: _Card) -> dict[str, object]:
    tasks = list(
        c.client.tasks.filter(status="open")
        .select_related("assignee", "created_by")
        .order_by("due_on", "id")[:LIST_CAP]
    )
    closed = list(
        c.client.tasks.exclude(status="open")
        .select_related("assignee")
        .order_by("-completed_at", "-due_on", "-id")[:20]
    )
    return {
        "tasks": tasks,
        "closed_tasks": closed,
        "changeable_task_ids": selectors.task_ids_changeable_by(user=c.user, tasks=tasks),
        "today": timezone.localdate(),
    }


def _deals(c: _Card) -> dict[str, object]:
    return {"deals": list(c.client.deals.select_related("owner")[:LIST_CAP])}


def _estimates(c: _Card) -> dict[str, object]:
    return {
        **_live_share(c.client),
        "estimates": list(
            c.client.estimates.select_related("product_group", "entered_by", "reviewed_by")[
                :LIST_CAP
            ]
        ),
    }


def _history(c: _Card) -> dict[str, object]:
    return {
        "segment_history": card.client_segment_history(client=c.client),
        "ownership_changes": card.client_ownership_changes(client=c.client, limit=LIST_CAP),
        "field_history": card.client_field_history(client=c.client),
    }


def _dossier(c: _Card) -> dict[str, object]:
    return {
        "dossier_notes": list(
            selectors.client_dossier_notes(user=c.user, client=c.client)[:LIST_CAP]
        )
    }


def _surveys(c: _Card) -> dict[str, object]:
    return {
        "survey_answers": list(
            SurveyAnswer.objects.filter(client=c.client)
            .select_related("contact", "entered_by", "follow_up")
            .order_by("-answered_on", "-id")[:LIST_CAP]
        )
    }


_TAB_READERS: dict[str, Callable[[_Card], dict[str, object]]] = {
    "overview": _overview,
    "contacts": _contacts,
    "activities": _activities,
    "tasks": _tasks,
    "deals": _deals,
    "estimates": _estimates,
    "history": _history,
    "dossier": _dossier,
    "surveys": _surveys,
}


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    survivor_pk = selectors.merged_client_survivor(user=user, pk=pk)
    if survivor_pk is not None:
        return redirect("crm:client_detail", pk=survivor_pk)
    client = selectors.client_get_visible(user=user, pk=pk)
    tab = request.GET.get("tab") or "overview"
    if tab not in TAB_NAMES:
        tab = "overview"
    c = _Card(request, user, client)
    context: dict[str, object] = {
        "client": client,
        "can_edit": c.can_edit,
        "tab": tab,
        "tabs": TABS,
        "tab_template": f"crm/card/_tab_{tab}.html",
        **_TAB_READERS[tab](c),
    }
    htmx = getattr(request, "htmx", None)
    if htmx and htmx.target == "card-tabs":
        return render(request, "crm/card/_tabs.html", context)
    run, snapshot = c.metrics
    context["header"] = card.card_header(client=client, run=run, snapshot=snapshot)
    context["can_reassign"] = user.is_head
    return render(request, "crm/client_detail.html", context)


@login_required
def contact_edit(request: HttpRequest, pk: int, contact_id: int) -> HttpResponse:
    """Change a contact; the reporting line is checked for circles (``Contact.clean``)."""
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    try:
        contact = client.contacts.get(pk=contact_id)
    except (Contact.DoesNotExist, ValueError):
        raise Http404 from None
    if not client_can_edit(user=user, client=client):
        raise PermissionDenied
    heading = _("%(contact)s, %(client)s") % {"contact": contact.full_name, "client": client}
    form = ContactForm(request.POST or None, instance=contact, client=client)
    card_url = reverse("crm:client_detail", args=[client.pk]) + "?tab=contacts"
    if request.method == "POST" and form.is_valid():
        try:
            services.contact_save(
                contact=form.instance,
                acting_user=user,
                expected_version=form.cleaned_data["version"],
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for name, errors in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, errors)
            else:
                form.add_error(None, error)
        else:
            messages.success(request, _("Contact saved."))
            return redirect(card_url)
    context = {
        "form": form,
        "heading": heading,
        "cancel_url": card_url,
    }
    return render(request, "crm/record_form.html", context)
