"""The deals pipeline: a board with a column per stage, deal forms, moves.

A card is dragged to another column (static/js/deals.js posts the move);
without JavaScript each card has a small move form posting to the same URL.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import client_can_edit
from crm import selectors
from crm.forms_deals import DealBoardFilterForm, DealForm, DealMoveForm
from crm.models import Client
from crm.selectors.deals import (
    BOARD_CARDS_PER_COLUMN,
    BOARD_CLOSED_DAYS,
    deal_board,
    deal_get_visible,
)
from crm.services.deals import (
    OPEN_STAGES,
    deal_can_change,
    deal_create,
    deal_move,
    deal_update,
)
from crm.views_work import _apply_errors, _done, _form_page, _next_url


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    filters = DealBoardFilterForm(request.GET or None, user=user)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    owner = cleaned.get("owner")
    columns = deal_board(
        user=user, kind=cleaned.get("kind") or None, owner_id=owner.pk if owner else None
    )
    context = {
        "filters": filters,
        "columns": columns,
        "open_stages": [str(stage) for stage in OPEN_STAGES],
        "cards_per_column": BOARD_CARDS_PER_COLUMN,
        "closed_days": BOARD_CLOSED_DAYS,
        "today": timezone.localdate(),
    }
    template = "crm/deals/_board.html" if getattr(request, "htmx", None) else "crm/deals/board.html"
    return render(request, template, context)


@login_required
def deal_new(request: HttpRequest) -> HttpResponse:
    """A new deal; ``?client=<pk>`` (a link from the card) fixes the client."""
    user = _user(request)
    client: Client | None = None
    client_param = request.GET.get("client")
    if client_param:
        try:
            client = selectors.client_get_visible(user=user, pk=int(client_param))
        except ValueError:
            raise Http404 from None
        if not client_can_edit(user=user, client=client):
            raise PermissionDenied
    back = reverse("crm:client_detail", args=[client.pk]) if client else reverse("crm:deal_board")
    form = DealForm(request.POST or None, user=user, client=client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            deal_create(
                acting_user=user,
                client=data["client"],
                stage=data["stage"],
                **form.service_fields(),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        except PermissionDenied:
            form.add_error("client", _("You may not change this client."))
        else:
            return _done(request, message=_("Deal created."), default=back)
    heading = _("New deal: %(name)s") % {"name": client.name} if client else _("New deal")
    return _form_page(request, form=form, heading=heading, cancel_url=back)


@login_required
def deal_edit(request: HttpRequest, deal_id: int) -> HttpResponse:
    user = _user(request)
    deal = deal_get_visible(user=user, pk=deal_id)
    if not deal_can_change(user=user, deal=deal):
        raise PermissionDenied
    back = reverse("crm:deal_board")
    form = DealForm(request.POST or None, instance=deal, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            deal_update(
                deal=deal,
                acting_user=user,
                expected_updated_at=form.cleaned_data.get("updated_at_seen"),
                **form.service_fields(),
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("Deal saved."), default=back)
    heading = _("Deal: %(title)s") % {"title": deal.title}
    return _form_page(request, form=form, heading=heading, cancel_url=back)


@login_required
@require_POST
def deal_move_view(request: HttpRequest, deal_id: int) -> HttpResponse:
    """Move a card; the answer is always the page it came from, with a message."""
    user = _user(request)
    deal = deal_get_visible(user=user, pk=deal_id)
    if not deal_can_change(user=user, deal=deal):
        raise PermissionDenied
    back = _next_url(request, reverse("crm:deal_board"))
    form = DealMoveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(
                    request, _("%(deal)s: %(error)s") % {"deal": deal.title, "error": error}
                )
        return redirect(back)
    data = form.cleaned_data
    reason = (data.get("reason") or "").strip()
    try:
        moved = deal_move(
            deal=deal,
            acting_user=user,
            stage=data["stage"],
            expected_updated_at=data.get("updated_at"),
            lost_reason=reason,
            won_reason=reason,
        )
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, _("%(deal)s: %(error)s") % {"deal": deal.title, "error": text})
    else:
        messages.success(
            request,
            _("%(title)s moved to %(stage)s.")
            % {"title": moved.title, "stage": moved.get_stage_display()},
        )
    return redirect(back)
