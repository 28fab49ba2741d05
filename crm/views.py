from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import client_can_edit, clients_visible_to
from crm import selectors, services
from crm.duplicates import inn_known_elsewhere, likely_duplicates
from crm.filtersets import ClientFilterSet
from crm.forms import ClientForm, ContactForm, ReassignForm
from crm.models import Client
from crm.wallet import client_share_of_wallet, suggested_wallet

CLIENTS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


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


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filterset = ClientFilterSet(
        request.GET,
        queryset=clients_visible_to(user=user).select_related("owner"),
        request=request,
    )
    queryset = filterset.qs if filterset.is_valid() else clients_visible_to(user=user).none()
    page = Paginator(queryset.order_by("name", "id"), CLIENTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    template = "crm/_client_rows.html" if request.htmx else "crm/client_list.html"  # type: ignore[attr-defined]
    # One query for the whole page: which rows offer "log a touch".
    editable_ids = selectors.client_ids_editable_by(
        user=user, client_ids=[client.pk for client in page.object_list]
    )
    return render(
        request, template, {"filter": filterset, "page": page, "editable_ids": editable_ids}
    )


@login_required
def client_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    survivor_pk = selectors.merged_client_survivor(user=user, pk=pk)
    if survivor_pk is not None:
        return redirect("crm:client_detail", pk=survivor_pk)
    client = selectors.client_get_visible(user=user, pk=pk)
    context = {
        "client": client,
        "can_edit": client_can_edit(user=user, client=client),
        "co_owners": list(selectors.client_co_owners(client=client)),
        "contacts": list(
            client.contacts.select_related("reports_to").annotate(reports_count=Count("reports"))
        ),
        "deals": list(client.deals.select_related("owner")[:20]),
        "reassign_form": ReassignForm(user=user) if user.is_head else None,
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
        "share_of_wallet": client_share_of_wallet(client=client, as_of=timezone.localdate()),
        "wallet_suggestion": suggested_wallet(client=client, as_of=timezone.localdate()),
        "estimates": list(
            client.estimates.select_related("product_group", "entered_by", "reviewed_by")[:20]
        ),
        "ownership_changes": list(
            client.ownership_changes.select_related("from_user", "to_user", "changed_by")[:20]
        ),
        # Touches, tasks, surveys and the dossier (crm/views_work.py writes them).
        **selectors.client_card_work(user=user, client=client),
    }
    return render(request, "crm/client_detail.html", context)


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ClientForm(request.POST or None, user=user)
    duplicates: list[Client] = []
    inn_elsewhere = False
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k not in ("owner", "version")}
        duplicates = likely_duplicates(
            user=user, name=data["name"], inn=data["inn"], region=data["region"]
        )
        inn_elsewhere = inn_known_elsewhere(user=user, inn=data["inn"])
        confirmed = request.POST.get("not_a_duplicate") == "on"
        if confirmed or not (duplicates or inn_elsewhere):
            try:
                client = services.client_create(
                    acting_user=user, owner=form.cleaned_data.get("owner"), **data
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Client created."))
                return redirect("crm:client_detail", pk=client.pk)
    context = {
        "form": form,
        "heading": _("New client"),
        "cancel_url": reverse("crm:client_list"),
        "duplicates": duplicates,
        "inn_elsewhere": inn_elsewhere,
    }
    return render(request, "crm/record_form.html", context)


@login_required
def client_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    if not client_can_edit(user=user, client=client):
        raise PermissionDenied
    form = ClientForm(request.POST or None, instance=client, user=user)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            services.client_update(
                client=client,
                acting_user=user,
                expected_version=form.cleaned_data.get("version"),
                **data,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("crm:client_detail", pk=client.pk)
    context = {
        "form": form,
        "heading": client.name,
        "cancel_url": reverse("crm:client_detail", args=[client.pk]),
    }
    return render(request, "crm/record_form.html", context)


@login_required
def contact_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    if not client_can_edit(user=user, client=client):
        raise PermissionDenied
    form = ContactForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        services.contact_save(contact=form.instance, acting_user=user)
        messages.success(request, _("Contact added."))
        return redirect("crm:client_detail", pk=client.pk)
    context = {
        "form": form,
        "heading": _("New contact of %(name)s") % {"name": client.name},
        "cancel_url": reverse("crm:client_detail", args=[client.pk]),
    }
    return render(request, "crm/record_form.html", context)


@login_required
@require_POST
def client_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    if not user.is_head:
        raise PermissionDenied
    form = ReassignForm(request.POST, user=user)
    if form.is_valid():
        services.client_reassign(
            client=client,
            new_owner=form.cleaned_data["new_owner"],
            acting_user=user,
            note=form.cleaned_data["note"],
        )
        messages.success(request, _("The client has a new owner."))
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("crm:client_detail", pk=client.pk)


@login_required
def client_merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Preview, then merge ``other`` into ``pk``: a head's single action."""
    user = _user(request)
    if not user.is_head:
        raise PermissionDenied
    survivor = selectors.client_get_visible(user=user, pk=pk)
    merged = selectors.client_get_visible(user=user, pk=other_pk)
    if request.method == "POST":
        try:
            services.clients_merge(
                survivor=survivor,
                merged=merged,
                acting_user=user,
                note=request.POST.get("note", "")[:2000],
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Clients merged. Nothing was lost: see the card."))
            return redirect("crm:client_detail", pk=survivor.pk)
    context = {
        "survivor": survivor,
        "merged": merged,
        "moved": services.clients_merge_preview(survivor=survivor, merged=merged),
    }
    return render(request, "crm/client_merge.html", context)
