"""The client card."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from accounts.selectors import client_can_edit
from crm import selectors
from crm.duplicates import likely_duplicates
from crm.forms import ReassignForm
from crm.views import _user
from crm.wallet import client_share_of_wallet, suggested_wallet


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
