"""Pages of the segmentation app: the segment rules and their versions, and the run log.

Anyone logged in may read the rules: every manager works by the service
standards of their clients' segments, and the rules hold no client data.
Only heads (and administrators) change them: others get 403 on the edit
page, as on the other head pages. The run log is for heads and
administrators (403 for others): it is the engine's operations page, and
its counts are base-wide.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.selectors import clients_visible_to
from segmentation import selectors, services, tasks
from segmentation.choices import RunStatus, ServingRole
from segmentation.forms import SegmentOverrideForm, SegmentOverrideRemoveForm, SegmentRuleSetForm
from segmentation.models import ClientMetricSnapshot, MetricRun, SegmentOverride, SegmentRuleSet
from segmentation.models.rules import default_band_limits, percent_text

RUNS_PER_PAGE = 50
VERSIONS_PER_PAGE = 20
# Where a model error of the rule set shows in the form; others go above it.
_FORM_FIELD_OF = {
    "potential_value": "potential_value",
    "share_threshold": "share_threshold_percent",
    # Per-group problems name their group; the form's own checks put them on the row.
    "group_limits": None,
}


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _head(request: HttpRequest) -> User:
    user = _user(request)
    if not user.is_head:
        raise PermissionDenied
    return user


def duration_text(ms: int) -> str:
    if ms < 1000:
        return _("%(ms)s ms") % {"ms": ms}
    if ms < 60_000:
        return _("%(seconds)s s") % {"seconds": f"{ms / 1000:.1f}"}
    return _("%(minutes)s min %(seconds)s s") % {
        "minutes": ms // 60_000,
        "seconds": ms // 1000 % 60,
    }


def _segment_rows(rule_set: SegmentRuleSet) -> list[dict[str, Any]]:
    """The rated segments in priority order, as the rules page shows them."""
    roles = dict(ServingRole.choices)
    rows = []
    for place, key in enumerate(rule_set.priority, start=1):
        values = rule_set.segments.get(key) or {}
        rows.append(
            {
                "key": key,
                "place": place,
                "name": rule_set.segment_name(key),
                "colour": values.get("colour", ""),
                "strategy": rule_set.segment_strategy(key),
                "max_days_between_touches": values.get("max_days_between_touches"),
                "serving_role": roles.get(values.get("serving_role", ""), ""),
                "key_account_plan_required": values.get("key_account_plan_required"),
                "review_cadence_days": values.get("review_cadence_days"),
            }
        )
    return rows


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """The rules in force and every earlier version with what it changed."""
    user = _user(request)
    active = SegmentRuleSet.objects.select_related("created_by").active()
    page = Paginator(selectors.rule_sets_listed(), VERSIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {
        "rule_set": active,
        "share_percent": selectors.rule_set_facts(active)["share_threshold"][1],
        "segments": _segment_rows(active),
        "group_limits": active.group_limit_rows(),
        "standard_bands": " / ".join(percent_text(limit) for limit in default_band_limits()),
        "latest_run": selectors.latest_successful_run(),
        "page": page,
        "history": selectors.rule_set_history(list(page.object_list)),
        "can_edit": user.is_head,
    }
    return render(request, "segmentation/rules.html", context)


@login_required
def rules_edit(request: HttpRequest) -> HttpResponse:
    """Heads only: save changed rules as a new version and recompute on them."""
    user = _head(request)
    current = SegmentRuleSet.objects.active()
    form = SegmentRuleSetForm(request.POST or None, rule_set=current)
    if request.method == "POST" and form.is_valid():
        try:
            new = services.segment_rule_set_save(
                changes=form.changes(), acting_user=user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as error:
            for name, problems in error.message_dict.items():
                form.add_error(_FORM_FIELD_OF.get(name), problems)
        else:
            tasks.queue_on_commit(tasks.metrics_recompute_after_rules, rule_set_id=new.pk)
            messages.success(
                request,
                _(
                    "The rules are saved as version %(version)s. The metrics are being "
                    "recomputed on them; the run log shows when it is done."
                )
                % {"version": new.version},
            )
            return redirect("segmentation:rules")
    context = {
        "form": form,
        "rule_set": current,
        "standard_bands": " / ".join(percent_text(limit) for limit in default_band_limits()),
    }
    return render(request, "segmentation/rules_edit.html", context)


@login_required
def run_list(request: HttpRequest) -> HttpResponse:
    """The run log, newest first; polled while a run is running."""
    _head(request)
    page = Paginator(selectors.metric_runs_listed(), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(run, duration_text(run.duration_ms) if run.finished_at else "") for run in page]
    context = {
        "page": page,
        "rows": rows,
        "polling": any(run.status == RunStatus.RUNNING for run in page),
        "yesterday": tasks.yesterday(),
    }
    template = "segmentation/_runs_table.html" if request.htmx else "segmentation/runs.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    _head(request)
    run: MetricRun = get_object_or_404(selectors.metric_runs_listed(), pk=run_id)
    context = {
        "run": run,
        "duration": duration_text(run.duration_ms) if run.finished_at else "",
        "recomputed_clients": len(run.client_ids or []),
        "timings": sorted((run.counts.get("timings_ms") or {}).items()),
        # The incremental run that last rewrote this run's rows (its finish is when).
        "updated_by": MetricRun.objects.filter(pk=run.counts.get("updated_by_run") or 0).first(),
    }
    return render(request, "segmentation/run_detail.html", context)


@login_required
@require_POST
def run_recompute(request: HttpRequest) -> HttpResponse:
    """Queue the full run as of yesterday. A recompute already running makes it "skipped"."""
    user = _head(request)
    if tasks.queue(tasks.metrics_recompute_now, user_id=user.pk):
        messages.success(
            request,
            _(
                "A full recompute as of %(date)s is queued. If another recompute is "
                "running, this one is recorded as skipped."
            )
            % {"date": tasks.yesterday().isoformat()},
        )
    else:
        messages.error(
            request,
            _("The recompute could not be queued; the nightly run will do it. Try again later."),
        )
    return redirect("segmentation:run_list")


@login_required
def override_list(request: HttpRequest) -> HttpResponse:
    """The overrides in force on the clients a head may see."""
    user = _head(request)
    page = Paginator(selectors.segment_overrides_visible_to(user), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "segmentation/overrides.html", {"page": page})


@login_required
def override_edit(request: HttpRequest, client_id: int) -> HttpResponse:
    """Set, change or remove one client's segment override (heads; 404 outside scope)."""
    user = _head(request)
    client = get_object_or_404(clients_visible_to(user=user), pk=client_id)
    current = SegmentOverride.objects.filter(client=client).first()
    initial = {"segment": current.segment, "reason": current.reason} if current else None
    form = SegmentOverrideForm(initial=initial)
    remove_form = SegmentOverrideRemoveForm()
    if request.method == "POST":
        if request.POST.get("action") == "remove":
            remove_form = SegmentOverrideRemoveForm(request.POST)
            if remove_form.is_valid():
                services.segment_override_remove(
                    client=client, reason=remove_form.cleaned_data["reason"], acting_user=user
                )
                messages.success(request, _("Override removed: the rules decide the segment."))
                return redirect("segmentation:override_edit", client_id=client.pk)
        else:
            form = SegmentOverrideForm(request.POST)
            if form.is_valid():
                try:
                    services.segment_override_set(
                        client=client, acting_user=user, **form.cleaned_data
                    )
                except ValidationError as error:
                    form.add_error(None, error)
                else:
                    messages.success(
                        request, _("Segment overridden. The client's figures are being updated.")
                    )
                    return redirect("segmentation:override_edit", client_id=client.pk)
    latest = selectors.latest_successful_run()
    snapshot = (
        ClientMetricSnapshot.objects.filter(run=latest, client=client).first() if latest else None
    )
    context = {
        "client": client,
        "current": current,
        "snapshot": snapshot,
        "form": form,
        "remove_form": remove_form,
        "history": list(selectors.segment_override_history(client)[:50]),
    }
    return render(request, "segmentation/override_edit.html", context)
