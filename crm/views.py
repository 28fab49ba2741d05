from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import client_can_edit
from crm import selectors, services
from crm.duplicates import inn_known_elsewhere, likely_duplicates
from crm.forms import ClientForm, ClientMergeForm, ContactForm
from crm.models import Client

CLIENTS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def client_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = ClientForm(request.POST or None, user=user)
    duplicates: list[Client] = []
    inn_elsewhere = False
    if request.method == "POST" and form.is_valid():
        data = form.service_fields()
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
                form.add_service_error(error)
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
        try:
            services.client_update(
                client=client,
                acting_user=user,
                expected_version=form.cleaned_data.get("version"),
                **form.service_fields(),
            )
        except ValidationError as error:
            form.add_service_error(error)
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
def client_merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Preview, then merge ``other`` into ``pk``: a head's single action."""
    user = _user(request)
    if not user.is_head:
        raise PermissionDenied
    survivor = selectors.client_get_visible(user=user, pk=pk)
    merged = selectors.client_get_visible(user=user, pk=other_pk)
    form = ClientMergeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.clients_merge(
                survivor=survivor,
                merged=merged,
                acting_user=user,
                note=form.cleaned_data["note"],
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
        "form": form,
    }
    return render(request, "crm/client_merge.html", context)
