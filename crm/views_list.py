"""The client list: search, filters, metric sorting, columns, saved filters,
holdings, and actions on a selection (a task for each client, exports).

htmx replaces ``#client-rows`` and pushes the URL; without JavaScript the
same forms submit normally.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import SavedClientFilter, User
from accounts.selectors import clients_editable_among, clients_visible_to
from crm import exports
from crm.filtersets import ClientFilterSet
from crm.forms_list import BulkTaskForm, ColumnsForm, SavedFilterForm, SelectionForm
from crm.models import Client
from crm.selectors import client_list as rows_of
from crm.services import client_list as list_services
from segmentation.models import MetricRun

CLIENTS_PER_PAGE = rows_of.CLIENTS_PER_PAGE
# Metrics read best biggest first; text columns A to Z.
_FIRST_DESCENDING = frozenset(rows_of.METRIC_FIELDS)


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", None))


def _list_url(query: str) -> str:
    base = reverse("crm:client_list")
    return f"{base}?{query}" if query else base


# --- The list -----------------------------------------------------------------


def _sort_headers(
    params: QueryDict, columns: list[rows_of.Column], current: str, *, grouped: bool
) -> list[dict[str, Any]]:
    """Each column's header with the URL that sorts by it (toggling the direction)."""
    headers = []
    for column in [rows_of.Column("name", _("Name"), ordering="name"), *columns]:
        url = state = ""
        if column.ordering and not grouped:
            field = column.ordering
            if current == field:
                state, target = "ascending", f"-{field}"
            elif current == f"-{field}":
                state, target = "descending", field
            else:
                target = f"-{field}" if field in _FIRST_DESCENDING else field
            query = params.copy()
            query["ordering"] = target
            query.pop("page", None)
            url = "?" + query.urlencode()
        headers.append({"column": column, "url": url, "sort": state})
    return headers


def _page_url(params: QueryDict, number: int) -> str:
    query = params.copy()
    query["page"] = str(number)
    return "?" + query.urlencode()


def _with_groups(
    rows: list[rows_of.ListRow], *, run: MetricRun | None, visible: QuerySet[Client]
) -> list[dict[str, Any]]:
    """Rows of the holdings view: a heading where a group starts without its holding."""
    figures = rows_of.group_figures(
        run=run, group_ids={row.group_id for row in rows if row.group_id}, visible=visible
    )
    # Groups of more than one visible client are holdings: they show the group's revenue.
    totals = {group: total for group, (count, total) in figures.items() if count > 1}
    on_page = {row.client.pk for row in rows}
    items: list[dict[str, Any]] = []
    previous = None
    for row in rows:
        if row.group_id in totals:
            row.group_revenue = totals[row.group_id]
        if row.group_id != previous and row.group_id not in on_page and row.group_id:
            items.append(
                {
                    "heading": row.holding_name,
                    "group_id": row.group_id,
                    "revenue": totals.get(row.group_id),
                }
            )
        items.append({"row": row})
        previous = row.group_id
    return items


def _options(choices: Iterable[Any], selected: str | None) -> list[tuple[str, str, bool]]:
    """(value, label, selected) for a select of records, the chosen one marked once.

    A head's owner list runs to hundreds of people: comparing each option
    with the bound form field in the template cost more than the page's SQL.
    """
    return [(str(choice.pk), str(choice), str(choice.pk) == selected) for choice in choices]


def _people_options(people: QuerySet[User], selected: str | None) -> list[tuple[str, str, bool]]:
    """``_options`` of people, read as columns: a head's hundreds of owners as model
    instances cost more than their query."""
    return [
        (str(pk), User.name_of(first, last, email), str(pk) == selected)
        for pk, first, last, email in people.values_list("pk", "first_name", "last_name", "email")
    ]


def _list_context(request: HttpRequest, params: QueryDict, **extra: Any) -> dict[str, Any]:
    user = _user(request)
    teams = rows_of.teams_for_list(user=user)
    team_ids = rows_of.headed_team_ids(user=user, teams=teams)
    visible = clients_visible_to(user=user)
    filterset = ClientFilterSet(params, queryset=visible.select_related("owner"), request=request)
    run = filterset.metric_run
    queryset = filterset.qs if filterset.is_valid() else visible.none()
    grouped = params.get("view") == "holdings"
    if grouped:
        # The grouping joins the holding anyway: its name comes with the rows.
        queryset = rows_of.grouped_by_holding(queryset, visible=visible).select_related("parent")
    page = Paginator(queryset, CLIENTS_PER_PAGE).get_page(params.get("page"))
    clients = list(page.object_list)
    columns = rows_of.columns_of(user=user)
    editable = clients_editable_among(
        user=user, owners={client.pk: client.owner_id for client in clients}
    )
    rows = rows_of.list_rows(
        clients=clients,
        run=run,
        columns=columns,
        editable_ids=editable,
        with_holding_names=grouped,
    )
    items = (
        _with_groups(rows, run=run, visible=visible) if grouped else [{"row": row} for row in rows]
    )
    query = list_services.list_query_normalized(params.urlencode())
    current_ordering = (
        filterset.form.cleaned_data.get("ordering", "") if filterset.is_valid() else ""
    ) or rows_of.DEFAULT_ORDERING
    context: dict[str, Any] = {
        "filter": filterset,
        "page": page,
        "items": items,
        "columns": columns,
        # The holdings view keeps its own order: holdings by name.
        "headers": _sort_headers(params, columns, current_ordering, grouped=grouped),
        "column_count": len(columns) + 3,
        "run": run,
        "grouped": grouped,
        "query": query,
        "list_url": _list_url(query),
        "previous_url": _page_url(params, page.previous_page_number())
        if page.has_previous()
        else "",
        "next_url": _page_url(params, page.next_page_number()) if page.has_next() else "",
        "team_options": _options(teams, params.get("team")),
        "owner_options": _people_options(
            rows_of.owners_for_list(user=user, team_ids=team_ids), params.get("owner_id")
        )
        if user.is_head
        else None,
        "saved_filters": list(user.saved_client_filters.all()),
        "save_form": extra.pop("save_form", None) or SavedFilterForm(initial={"query": query}),
        "columns_form": ColumnsForm(
            initial={"columns": [c.key for c in columns], "query": query}, auto_id="columns_%s"
        ),
        "bulk_max": number_format(list_services.BULK_TASK_MAX, force_grouping=True),
        "export_max": number_format(list_services.export_max_rows(), force_grouping=True),
        "view_choices": [("", _("List")), ("holdings", _("Grouped by holding"))],
    }
    context.update(extra)
    return context


def _render_list(
    request: HttpRequest, params: QueryDict, *, status: int = 200, **extra: Any
) -> HttpResponse:
    template = "crm/_client_rows.html" if _htmx(request) else "crm/client_list.html"
    return render(request, template, _list_context(request, params, **extra), status=status)


@login_required
def client_list(request: HttpRequest) -> HttpResponse:
    return _render_list(request, request.GET)


# --- Columns and saved filters --------------------------------------------------


@login_required
@require_POST
def client_list_columns(request: HttpRequest) -> HttpResponse:
    form = ColumnsForm(request.POST)
    query = list_services.list_query_normalized(request.POST.get("query", ""))
    if form.is_valid():
        list_services.client_list_columns_save(
            user=_user(request), columns=form.cleaned_data["columns"]
        )
        messages.success(request, _("Columns saved."))
    else:
        messages.error(request, _("Columns: choose among the columns offered."))
    if _htmx(request):
        return HttpResponseClientRedirect(_list_url(query))
    return redirect(_list_url(query))


@login_required
@require_POST
def saved_filter_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    form = SavedFilterForm(request.POST)
    saved = None
    # Both fields are optional: the service names the problems. A field the form
    # refuses (a NUL character) is not saved as empty instead.
    if form.is_valid():
        try:
            saved = list_services.saved_filter_create(
                user=user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]
            )
        except ValidationError as error:
            for field_name, problems in error.message_dict.items():
                # The query travels in a hidden field: its problems show above the form.
                form.add_error("name" if field_name == "name" else None, problems)
    if saved is None:
        query = form.cleaned_data.get("query", "")
        params = QueryDict(list_services.list_query_normalized(query))
        return _render_list(request, params, status=400, save_form=form, save_open=True)
    messages.success(request, _("Filter “%(name)s” saved.") % {"name": saved.name})
    url = _list_url(saved.query)
    return HttpResponseClientRedirect(url) if _htmx(request) else redirect(url)


@login_required
@require_POST
def saved_filter_delete(request: HttpRequest, filter_id: int) -> HttpResponse:
    user = _user(request)
    saved = get_object_or_404(SavedClientFilter, pk=filter_id, user=user)
    list_services.saved_filter_delete(saved_filter=saved, acting_user=user)
    messages.success(request, _("Filter “%(name)s” deleted.") % {"name": saved.name})
    url = reverse("crm:client_list")
    return HttpResponseClientRedirect(url) if _htmx(request) else redirect(url)


# --- Actions on a selection -------------------------------------------------------


def _selection(
    request: HttpRequest, form: SelectionForm
) -> tuple[QuerySet[Client], MetricRun | None, str]:
    """The selected clients the user may see, in the list's order; 404 on a broken query."""
    data = form.cleaned_data
    query = list_services.list_query_normalized(data.get("query") or "")
    visible = clients_visible_to(user=_user(request))
    filterset = ClientFilterSet(
        QueryDict(query), queryset=visible.select_related("owner"), request=request
    )
    if not filterset.is_valid():
        raise Http404
    clients = filterset.qs
    if not data.get("all"):
        clients = clients.filter(pk__in=data.get("ids") or [])
    return clients, filterset.metric_run, query


def _back_to_list(request: HttpRequest, query: str) -> HttpResponse:
    url = _list_url(query)
    return HttpResponseClientRedirect(url) if _htmx(request) else redirect(url)


def _report_bulk_task(request: HttpRequest, result: list_services.BulkTaskResult) -> None:
    created = len(result.created)
    if created:
        messages.success(
            request,
            ngettext(
                "Task created for %(count)d client.", "Task created for %(count)d clients.", created
            )
            % {"count": created},
        )
    if result.read_only:
        names = ", ".join(client.name for client in result.read_only)
        messages.error(
            request,
            _("No task for the clients you may not change: %(names)s.") % {"names": names},
        )
    for client, problem in result.failed:
        messages.error(
            request,
            _("No task for %(name)s: %(problem)s") % {"name": client.name, "problem": problem},
        )


@login_required
@require_POST
def client_bulk_task(request: HttpRequest) -> HttpResponse:
    """Step 1 (from the list): the task form for the selection; step 2: create the tasks."""
    user = _user(request)
    confirming = "title" in request.POST
    selection_form = SelectionForm(request.POST)
    if not selection_form.is_valid():
        raise Http404
    clients, _run, query = _selection(request, selection_form)
    count = clients.count()
    try:
        list_services.bulk_check_size(count=count)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_list(request, query)
    form = BulkTaskForm(request.POST if confirming else None, initial=selection_form.cleaned_data)
    if confirming and form.is_valid():
        data = form.cleaned_data
        try:
            result = list_services.clients_bulk_task(
                acting_user=user,
                clients=list(clients.select_related("owner")),
                title=data["title"],
                due_on=data["due_on"],
                kind=data["kind"],
                description=data["description"],
                to_owners=bool(data["to_owners"]),
            )
        except ValidationError as error:
            for field_name, problems in error.message_dict.items():
                form.add_error(field_name if field_name in form.fields else None, problems)
        else:
            _report_bulk_task(request, result)
            return _back_to_list(request, query)
    heading = ngettext(
        "A task for %(count)d client", "A task for each of %(count)d clients", count
    ) % {"count": count}
    context = {
        "form": form,
        "heading": heading,
        "action_url": reverse("crm:client_bulk_task"),
        "cancel_url": _list_url(query),
        "next_url": _list_url(query),
        "submit_label": _("Create the tasks"),
    }
    template = "crm/_work_dialog.html" if _htmx(request) else "crm/work_form.html"
    # htmx swaps only successful answers: the dialog with its errors comes as 200.
    status = 400 if confirming and not _htmx(request) else 200
    return render(request, template, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def client_export(request: HttpRequest, fmt: str) -> HttpResponseBase:
    """The selection (POST) or everything the query matches (GET) as CSV or XLSX."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    if request.method == "POST":
        form = SelectionForm(request.POST)
    else:
        form = SelectionForm({"all": True, "query": request.GET.urlencode()})
    if not form.is_valid():
        raise Http404
    clients, run, query = _selection(request, form)
    if not form.cleaned_data.get("all") and not form.cleaned_data.get("ids"):
        messages.error(request, _("Choose at least one client, or all matching clients."))
        return _back_to_list(request, query)
    try:
        list_services.export_check_size(count=clients.count())
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return _back_to_list(request, query)
    return exports.export_response(clients, run=run, user=_user(request), fmt=fmt)
