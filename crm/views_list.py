"""The client list: search, filters, pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from accounts.selectors import clients_visible_to
from crm import selectors
from crm.filtersets import ClientFilterSet
from crm.views import _user

CLIENTS_PER_PAGE = 50


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
