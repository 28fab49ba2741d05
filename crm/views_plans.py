"""Plan – forecast – report: the period's plans, forecasts and actuals.

Heads see the teams they head → managers, open a manager to see the clients,
and set plans in the row (htmx swaps the row for its form; without
JavaScript the same link is a page of its own). Managers see their own book
and enter forecasts the same way.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import Team, User
from accounts.selectors import teams_headed_by
from crm import selectors
from crm.forms_plans import ForecastForm, PeriodForm, PlanForm
from crm.models import Client, Period, PeriodKind, PlanLevel, SalesForecast, SalesPlan
from crm.selectors import plans as plan_selectors
from crm.services import plans as plan_services
from crm.views_work import _next_url

# Plans are set for teams, managers and clients; forecasts for managers and clients.
PLAN_LEVELS = {PlanLevel.TEAM, PlanLevel.MANAGER, PlanLevel.CLIENT}
FORECAST_LEVELS = {PlanLevel.MANAGER, PlanLevel.CLIENT}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _picker(request: HttpRequest) -> tuple[PeriodForm, Period]:
    data = request.GET if "kind" in request.GET or "start" in request.GET else None
    form = PeriodForm(data)
    period = form.period()
    if data is None:
        form = PeriodForm(initial={"kind": period.kind, "start": period.start})
    return form, period


def _period_query(period: Period, **extra: Any) -> str:
    return urlencode({"kind": period.kind, "start": period.start.isoformat(), **extra})


def _page_context(request: HttpRequest, period: Period, picker: PeriodForm) -> dict[str, Any]:
    path = request.path
    return {
        "period": period,
        "picker": picker,
        "period_query": _period_query(period),
        "previous_url": f"{path}?{_period_query(period.shifted(-1))}",
        "next_url": f"{path}?{_period_query(period.shifted(1))}",
        "current_path": request.get_full_path(),
        "kinds": PeriodKind.choices,
    }


@login_required
def plans_page(request: HttpRequest) -> HttpResponse:
    """Heads: the roll-up of their teams. Everyone else: their own book."""
    user = _user(request)
    picker, period = _picker(request)
    context = _page_context(request, period, picker)
    if user.is_head:
        tree = plan_selectors.plan_tree(user=user, period=period)
        rows = [row for root in tree for row in root.walk()]
        context.update({"rows": rows, "tree_view": True})
        return render(request, "crm/plans/page.html", context)
    return _manager_page(request, user=user, manager=user, period=period, context=context)


@login_required
def plans_manager(request: HttpRequest, pk: int) -> HttpResponse:
    """One manager's own row and their clients (a head's drill-down)."""
    user = _user(request)
    manager = plan_selectors.plan_manager_get(user=user, pk=pk)
    picker, period = _picker(request)
    context = _page_context(request, period, picker)
    return _manager_page(request, user=user, manager=manager, period=period, context=context)


def _manager_page(
    request: HttpRequest, *, user: User, manager: User, period: Period, context: dict[str, Any]
) -> HttpResponse:
    book = plan_selectors.manager_plans(
        user=user, manager=manager, period=period, page_number=request.GET.get("page")
    )
    context.update(
        {
            "manager": manager,
            "rows": [book.manager, *book.clients],
            "page": book.page,
            "tree_view": False,
            "back_url": f"{reverse('crm:plans')}?{context['period_query']}" if user.is_head else "",
        }
    )
    return render(request, "crm/plans/page.html", context)


# --- Setting a plan or a forecast ----------------------------------------------


def _target(request: HttpRequest, level: str, pk: int, *, forecast: bool) -> dict[str, Any]:
    """The client, manager or team a plan or forecast is for; 404 when out of sight."""
    user = _user(request)
    if level not in (FORECAST_LEVELS if forecast else PLAN_LEVELS):
        raise Http404
    if level == PlanLevel.CLIENT:
        return {"client": selectors.client_get_visible(user=user, pk=pk)}
    if level == PlanLevel.MANAGER:
        return {"manager": plan_selectors.plan_manager_get(user=user, pk=pk)}
    if not user.is_admin and pk not in teams_headed_by(user=user):
        raise Http404
    try:
        return {"team": Team.objects.get(pk=pk)}
    except Team.DoesNotExist:
        raise Http404 from None


def _initial_period(request: HttpRequest) -> Period:
    return PeriodForm(request.GET).period()


def _existing(
    model: type[SalesPlan] | type[SalesForecast], target: dict[str, Any], period: Period
) -> SalesPlan | SalesForecast | None:
    level = next(iter(target))
    return model.objects.filter(
        level=level, period_kind=period.kind, period_start=period.start, **target
    ).first()


def _share_percent(share: Decimal | None) -> Decimal | None:
    return None if share is None else (share * 100).normalize()


def _edit(request: HttpRequest, level: str, pk: int, *, forecast: bool) -> HttpResponse:
    user = _user(request)
    target = _target(request, level, pk, forecast=forecast)
    target_object = next(iter(target.values()))
    if not forecast and not user.is_head:
        raise PermissionDenied(_("Only a head of sales sets plans."))
    if forecast:
        owner_id = target_object.owner_id if isinstance(target_object, Client) else target_object.pk
        if owner_id != user.pk:
            raise PermissionDenied(_("Only the client's owner forecasts its sales."))
    period = _initial_period(request)
    back = _next_url(request, f"{reverse('crm:plans')}?{_period_query(period)}")
    form_class = ForecastForm if forecast else PlanForm
    initial: dict[str, Any] = {}
    existing = _existing(SalesForecast if forecast else SalesPlan, target, period)
    if existing is not None:
        initial = {"amount": existing.amount, "share_percent": _share_percent(existing.share)}
        text_field = "comment" if forecast else "note"
        initial[text_field] = getattr(existing, text_field)
    posted = request.POST if request.method == "POST" else None
    form = form_class(posted, period=period, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if forecast:
                plan_services.forecast_set(
                    acting_user=user,
                    period_kind=data["period_kind"],
                    period_start=data["period_start"],
                    amount=data["amount"],
                    share=form.share(),
                    comment=data["comment"],
                    **target,
                )
            else:
                plan_services.plan_set(
                    acting_user=user,
                    period_kind=data["period_kind"],
                    period_start=data["period_start"],
                    amount=data["amount"],
                    share=form.share(),
                    note=data["note"],
                    **target,
                )
        except ValidationError as error:
            form.apply_errors(error)
        except PermissionDenied as refusal:
            form.add_error(None, str(refusal) or _("You may not set this plan."))
        else:
            message = _("Forecast saved.") if forecast else _("Plan saved.")
            messages.success(request, message)
            if getattr(request, "htmx", None):
                return HttpResponseClientRedirect(back)
            return redirect(back)
    heading = (
        _("Forecast for %(target)s, %(period)s")
        if forecast
        else _("Plan for %(target)s, %(period)s")
    ) % {"target": target_object, "period": period.label}
    context = {
        "form": form,
        "heading": heading,
        "action_url": request.get_full_path(),
        "next_url": back,
        "cancel_url": back,
        "row_key": f"{level}-{pk}",
        "submit_label": _("Save forecast") if forecast else _("Save plan"),
    }
    template = (
        "crm/plans/_edit_row.html" if getattr(request, "htmx", None) else "crm/plans/edit.html"
    )
    return render(request, template, context)


@login_required
def plan_edit(request: HttpRequest, level: str, pk: int) -> HttpResponse:
    return _edit(request, level, pk, forecast=False)


@login_required
def forecast_edit(request: HttpRequest, level: str, pk: int) -> HttpResponse:
    return _edit(request, level, pk, forecast=True)
