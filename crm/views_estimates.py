"""Pages of turnover and wallet estimates: add on the card, verify as a head."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import client_can_edit
from crm import selectors, services
from crm.forms import EstimateReviewForm, WalletEstimateForm

ESTIMATES_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def estimate_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    if not client_can_edit(user=user, client=client):
        raise PermissionDenied
    form = WalletEstimateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            estimate = services.wallet_estimate_create(
                client=client,
                acting_user=user,
                kind=data["kind"],
                year=data["year"],
                amount=data["amount"],
                per_month=data["per_month"],
                product_group=data["product_group"],
                basis=data["basis"],
                comment=data["comment"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Estimate saved as a draft: a head will verify it."))
            for warning in selectors.estimate_review_warnings(estimate=estimate):
                messages.warning(request, warning)
            return redirect("crm:client_detail", pk=client.pk)
    context = {
        "form": form,
        "heading": _("New estimate for %(name)s") % {"name": client.name},
        "cancel_url": reverse("crm:client_detail", args=[client.pk]),
    }
    return render(request, "crm/record_form.html", context)


@login_required
def estimates_to_verify(request: HttpRequest) -> HttpResponse:
    """The head's work list: draft estimates of the clients of their teams."""
    user = _user(request)
    if not user.is_head:
        raise PermissionDenied
    page = Paginator(selectors.estimates_to_verify(user=user), ESTIMATES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = selectors.with_review_warnings(estimates=list(page.object_list))
    return render(
        request,
        "crm/estimates_to_verify.html",
        {"page": page, "rows": rows, "review_form": EstimateReviewForm()},
    )


@login_required
@require_POST
def estimate_review(request: HttpRequest, estimate_id: int, decision: str) -> HttpResponse:
    user = _user(request)
    estimate = get_object_or_404(selectors.estimates_visible_to(user=user), pk=estimate_id)
    form = EstimateReviewForm(request.POST)
    if not form.is_valid():
        # A comment that cannot be kept is refused, not dropped: nothing is reviewed.
        for name, problems in form.errors.items():
            for problem in problems:
                messages.error(
                    request,
                    _("%(field)s: %(error)s") % {"field": form[name].label, "error": problem},
                )
    else:
        comment = form.cleaned_data["comment"]
        try:
            if decision == "verify":
                services.wallet_estimate_verify(
                    estimate=estimate, acting_user=user, comment=comment
                )
                messages.success(request, _("Estimate verified."))
            else:
                services.wallet_estimate_reject(
                    estimate=estimate, acting_user=user, comment=comment
                )
                messages.success(request, _("Estimate rejected."))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    next_url = request.POST.get("next") or ""
    if next_url.startswith("/") and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(next_url)
    return redirect("crm:estimates_to_verify")
