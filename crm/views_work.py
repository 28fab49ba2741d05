"""Pages of the daily work: touches, tasks, survey answers and the dossier.

Forms open in a ``<dialog>`` loaded by htmx from the card or the client
list; without JavaScript the same URL is a plain page.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from accounts.selectors import client_can_edit
from crm import selectors, services
from crm.choices import ActivityPurpose
from crm.forms import ReassignForm
from crm.forms_work import DossierNoteForm, SurveyAnswerForm, TaskFilterForm, TaskForm, TouchForm
from crm.models import Client, DossierNote

TASKS_PER_PAGE = 50
TOUCHES_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _editable_client(request: HttpRequest, pk: int) -> Client:
    """A client the user may change: 404 when not visible, 403 when read-only."""
    client = selectors.client_get_visible(user=_user(request), pk=pk)
    if not client_can_edit(user=_user(request), client=client):
        raise PermissionDenied
    return client


def _next_url(request: HttpRequest, default: str) -> str:
    """Where to go after saving: the page the dialog was opened on, if it is ours: a
    path or a URL of this host (a bare word such as "-1" would be taken for the name
    of a view, and the redirect would fail after the save)."""
    candidates = [request.POST.get("next"), request.GET.get("next")]
    htmx = getattr(request, "htmx", None)
    if htmx:
        candidates.append(htmx.current_url)
    for url in candidates:
        if (
            url
            and url.startswith(("/", "http://", "https://"))
            and url_has_allowed_host_and_scheme(
                url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
        ):
            return url
    return default


def _done(request: HttpRequest, *, message: str, default: str) -> HttpResponse:
    messages.success(request, message)
    url = _next_url(request, default)
    if getattr(request, "htmx", None):
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _form_page(
    request: HttpRequest,
    *,
    form: forms.BaseForm,
    heading: str,
    cancel_url: str,
    submit_label: str | None = None,
) -> HttpResponse:
    """The form in a dialog for htmx, or as a page of its own."""
    context: dict[str, Any] = {
        "form": form,
        "heading": heading,
        "action_url": request.get_full_path(),
        "cancel_url": cancel_url,
        "next_url": _next_url(request, cancel_url),
        "submit_label": submit_label or _("Save"),
    }
    template = "crm/_work_dialog.html" if getattr(request, "htmx", None) else "crm/work_form.html"
    return render(request, template, context)


def _apply_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's refusal on the form's field, or above the form."""
    if hasattr(error, "error_dict"):
        for field, messages_ in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages_)
    else:
        form.add_error(None, error)


# --- Owners -------------------------------------------------------------------


@login_required
def client_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    """A head gives the client to another owner of their teams.

    The form opens in a dialog from the card: the list of owners is built only
    when the head asks for it, not on every card view.
    """
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    if not user.is_head:
        raise PermissionDenied
    card = reverse("crm:client_detail", args=[client.pk])
    form = ReassignForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            services.client_reassign(
                client=client,
                new_owner=form.cleaned_data["new_owner"],
                acting_user=user,
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("The client has a new owner."), default=card)
    return _form_page(
        request,
        form=form,
        heading=_("Reassign %(name)s to another owner") % {"name": client.name},
        cancel_url=card,
        submit_label=_("Reassign"),
    )


# --- Touches ------------------------------------------------------------------


@login_required
def touch_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = _editable_client(request, pk)
    card = reverse("crm:client_detail", args=[client.pk])
    # A reactivation attempt is a retention touch (domain.md: purposes of activities).
    initial = (
        {"reactivation": True, "purpose": ActivityPurpose.RETENTION}
        if request.GET.get("reactivation")
        else None
    )
    form = TouchForm(request.POST or None, client=client, user=user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.activity_log(client=client, acting_user=user, **form.service_kwargs())
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("Touch logged."), default=card)
    return _form_page(
        request,
        form=form,
        heading=_("Log a touch: %(name)s") % {"name": client.name},
        cancel_url=card,
    )


@login_required
def client_touches(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole timeline of a client's touches, newest first."""
    client = selectors.client_get_visible(user=_user(request), pk=pk)
    page = Paginator(selectors.client_activities(client=client), TOUCHES_PER_PAGE).get_page(
        request.GET.get("page")
    )
    return render(request, "crm/client_touches.html", {"client": client, "page": page})


@login_required
def client_knowledge(request: HttpRequest, pk: int) -> HttpResponse:
    """The dossier and survey answers of a client: a panel the card loads with
    htmx (its own queries, off the card's path), or a page of its own."""
    user = _user(request)
    client = selectors.client_get_visible(user=user, pk=pk)
    context = {
        "client": client,
        "can_edit": client_can_edit(user=user, client=client),
        **selectors.client_knowledge(user=user, client=client),
    }
    template = (
        "crm/_client_knowledge.html"
        if getattr(request, "htmx", None)
        else "crm/client_knowledge.html"
    )
    return render(request, template, context)


# --- Tasks --------------------------------------------------------------------


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks: filtered by status, kind, overdue; open ones first by default."""
    user = _user(request)
    data = request.GET if request.GET else {"status": "open"}
    filters = TaskFilterForm(data)
    cleaned = filters.cleaned_data if filters.is_valid() else {}
    tasks = selectors.tasks_of(
        user=user,
        status=cleaned.get("status") or None,
        kind=cleaned.get("kind") or None,
        overdue=bool(cleaned.get("overdue")),
    )
    page = Paginator(tasks, TASKS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"filters": filters, "page": page, "today": timezone.localdate()}
    return render(request, "crm/task_list.html", context)


@login_required
def task_create(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    user = _user(request)
    client = _editable_client(request, pk) if pk is not None else None
    back = reverse("crm:client_detail", args=[client.pk]) if client else reverse("crm:task_list")
    form = TaskForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.task_create(
                acting_user=user,
                client=client,
                title=data["title"],
                kind=data["kind"],
                due_on=data["due_on"],
                assignee=data["assignee"],
                description=data["description"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("Task created."), default=back)
    heading = _("New task: %(name)s") % {"name": client.name} if client else _("New task")
    return _form_page(request, form=form, heading=heading, cancel_url=back)


@login_required
def task_edit(request: HttpRequest, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.task_get_visible(user=user, pk=task_id)
    if not selectors.task_can_change(user=user, task=task):
        raise PermissionDenied
    back = reverse("crm:task_list")
    form = TaskForm(request.POST or None, instance=task, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in services.TASK_EDITABLE_FIELDS}
        try:
            with transaction.atomic():
                task = services.task_update(
                    task=task, acting_user=user, expected_version=data["version"], **fields
                )
                services.task_reassign(task=task, assignee=data["assignee"], acting_user=user)
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("Task saved."), default=back)
    return _form_page(request, form=form, heading=task.title, cancel_url=back)


_STATUS_ACTIONS = {
    "complete": (services.task_complete, _("Task done.")),
    "cancel": (services.task_cancel, _("Task cancelled.")),
    "reopen": (services.task_reopen, _("Task reopened.")),
}


@login_required
@require_POST
def task_status(request: HttpRequest, task_id: int, action: str) -> HttpResponse:
    user = _user(request)
    task = selectors.task_get_visible(user=user, pk=task_id)
    if action not in _STATUS_ACTIONS:
        raise Http404
    change, message = _STATUS_ACTIONS[action]
    try:
        change(task=task, acting_user=user)
    except ValidationError as error:
        for text in error.messages:
            messages.error(request, text)
        url = _next_url(request, reverse("crm:task_list"))
        return HttpResponseClientRedirect(url) if getattr(request, "htmx", None) else redirect(url)
    return _done(request, message=str(message), default=reverse("crm:task_list"))


# --- Surveys and the dossier --------------------------------------------------


@login_required
def survey_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = _editable_client(request, pk)
    card = reverse("crm:client_detail", args=[client.pk])
    form = SurveyAnswerForm(request.POST or None, client=client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            answer = services.survey_answer_record(
                client=client,
                acting_user=user,
                kind=data["kind"],
                score=data["score"],
                contact=data.get("contact"),
                comment=data["comment"],
                answered_on=data["answered_on"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            message = (
                _("Answer saved. A follow-up task is open for the owner.")
                if answer.follow_up_id
                else _("Answer saved.")
            )
            return _done(request, message=message, default=card)
    heading = _("Survey answer: %(name)s") % {"name": client.name}
    return _form_page(request, form=form, heading=heading, cancel_url=card)


@login_required
def note_create(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    client = _editable_client(request, pk)
    card = reverse("crm:client_detail", args=[client.pk])
    form = DossierNoteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_note_create(
                client=client,
                acting_user=user,
                text=form.cleaned_data["text"],
                visibility=form.cleaned_data["visibility"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("Note added to the dossier."), default=card)
    heading = _("Dossier note: %(name)s") % {"name": client.name}
    return _form_page(request, form=form, heading=heading, cancel_url=card)


@login_required
def note_edit(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _user(request)
    try:
        note = (
            selectors.dossier_notes_visible_to(user=user).select_related("client").get(pk=note_id)
        )
    except DossierNote.DoesNotExist:
        raise Http404 from None
    if not selectors.dossier_note_can_change(user=user, note=note):
        raise PermissionDenied
    card = reverse("crm:client_detail", args=[note.client_id])
    form = DossierNoteForm(request.POST or None, instance=note)
    if request.method == "POST" and form.is_valid():
        try:
            services.dossier_note_update(
                note=note,
                acting_user=user,
                text=form.cleaned_data["text"],
                visibility=form.cleaned_data["visibility"],
            )
        except ValidationError as error:
            _apply_errors(form, error)
        else:
            return _done(request, message=_("Note saved."), default=card)
    heading = _("Dossier note: %(name)s") % {"name": note.client.name}
    return _form_page(request, form=form, heading=heading, cancel_url=card)
