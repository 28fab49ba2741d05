"""Pages of ERP imports: upload, preview and confirm, watch the progress, read the result.

Heads and administrators only (others get 403, like the other head pages); a
head sees the runs they started, an administrator every run, and a run
outside that answers 404. The work is done by ``crm.importers.jobs``.
"""

from __future__ import annotations

from itertools import chain
from pathlib import PurePath
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from crm.importers import jobs
from crm.importers.progress import CHECKING, WRITING, progress_of
from crm.models import ImportRun

RUNS_PER_PAGE = 50
ERRORS_SHOWN = 200
BOM = "\ufeff"  # so that Excel opens the UTF-8 file as UTF-8

ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": gettext_lazy("UTF-8 with BOM"),
    "utf-16": "UTF-16",
    "cp1251": "Windows-1251",
}


class ImportUploadForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("The file holds"), choices=ImportRun.Kind.choices)
    # An empty file is the reader's to refuse: it says so and the run is recorded.
    file = forms.FileField(
        label=gettext_lazy("File"),
        allow_empty_file=True,
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,.xlsx,.xlsm"}),
        help_text=gettext_lazy(
            "CSV (UTF-8 or Windows-1251; semicolon, comma or tab) or XLSX, as the ERP exports it."
        ),
    )
    sheet = forms.CharField(
        label=gettext_lazy("Sheet"),
        required=False,
        max_length=200,
        help_text=gettext_lazy("XLSX only: the sheet to read. Empty means the first sheet."),
    )
    create_missing_clients = forms.BooleanField(
        label=gettext_lazy(
            "Shipments: create the clients the base does not have yet (the row must name them)"
        ),
        required=False,
    )
    skip_invalid = forms.BooleanField(
        label=gettext_lazy("Import the valid rows and give me the bad ones back as a file"),
        required=False,
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        problem = jobs.upload_size_problem(upload.size)
        if problem:
            raise ValidationError(problem, code="too_large")
        return upload


def _importer(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    if not jobs.may_import(user):
        raise PermissionDenied
    return user


def _run_of(user: User, run_id: int) -> ImportRun:
    return get_object_or_404(jobs.import_runs_visible_to(user=user), pk=run_id)


def _duration(ms: int) -> str:
    if ms < 1000:
        return _("%(ms)s ms") % {"ms": ms}
    if ms < 60_000:
        return _("%(seconds)s s") % {"seconds": f"{ms / 1000:.1f}"}
    return _("%(minutes)s min %(seconds)s s") % {
        "minutes": ms // 60_000,
        "seconds": ms // 1000 % 60,
    }


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    page = Paginator(jobs.import_runs_visible_to(user=user), RUNS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    rows = [(run, _duration(run.duration_ms) if run.is_finished else "") for run in page]
    return render(request, "crm/imports/list.html", {"page": page, "rows": rows})


@login_required
def import_new(request: HttpRequest) -> HttpResponse:
    user = _importer(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        run = jobs.import_upload(
            kind=data["kind"],
            upload=data["file"],
            user=user,
            create_missing_clients=data["create_missing_clients"]
            and data["kind"] == ImportRun.Kind.SHIPMENTS,
            skip_invalid=data["skip_invalid"],
            sheet=data["sheet"].strip() or None,
        )
        jobs.import_refuse_unreadable(run=run)
        return redirect("crm:import_run", run_id=run.pk)
    return render(request, "crm/imports/new.html", {"form": form})


@login_required
def import_run(request: HttpRequest, run_id: int) -> HttpResponse:
    """The run through its life: preview and confirm, then progress, then the result."""
    user = _importer(request)
    run = _run_of(user, run_id)
    context: dict[str, Any] = {"run": run, "is_uploader": run.started_by_id == user.pk}
    if run.status == ImportRun.Status.PENDING:
        preview = jobs.import_preview(run)
        context.update(
            stage="preview",
            preview=preview,
            encoding=ENCODING_NAMES.get(preview.encoding, preview.encoding),
        )
    elif not run.is_finished:
        context.update(stage="progress", progress=_progress(run))
    else:
        context.update(
            stage="result",
            outcome=_outcome(run),
            duration=_duration(run.duration_ms),
            encoding=ENCODING_NAMES.get(run.encoding, run.encoding),
            errors=run.errors[:ERRORS_SHOWN],
            errors_hidden=max(len(run.errors) - ERRORS_SHOWN, 0),
            bad_rows=jobs.has_bad_rows_file(run),
        )
    return render(request, "crm/imports/run.html", context)


def _progress(run: ImportRun) -> dict[str, Any]:
    state = progress_of(run.pk) or {}
    phases = {CHECKING: _("Checking the rows"), WRITING: _("Writing to the database")}
    label = phases.get(state.get("phase", ""))
    if label is None:
        waiting = run.status == ImportRun.Status.QUEUED
        label = _("Waiting for a worker") if waiting else _("Starting")
    fraction = state.get("fraction")
    return {
        "label": label,
        "rows": int(state.get("rows") or 0),
        "percent": None if fraction is None else round(float(fraction) * 100),
    }


def _outcome(run: ImportRun) -> str:
    texts = {
        ImportRun.Status.SUCCEEDED: _("The file was imported."),
        ImportRun.Status.PARTIAL: _(
            "The valid rows were imported and the bad ones left out: "
            "download them, fix them and upload that file again."
        ),
        ImportRun.Status.REJECTED: _("Nothing was imported, for the reasons below."),
        ImportRun.Status.FAILED: _("The import failed and nothing was changed."),
    }
    return texts.get(ImportRun.Status(run.status), "")


@login_required
def import_progress(request: HttpRequest, run_id: int) -> HttpResponse:
    """The progress bar, polled by the run page; a finished run sends the browser to its result."""
    user = _importer(request)
    run = _run_of(user, run_id)
    url = reverse("crm:import_run", args=[run.pk])
    if run.status not in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING):
        if request.htmx:  # type: ignore[attr-defined]
            return HttpResponseClientRedirect(url)
        return redirect(url)
    return render(request, "crm/imports/_progress.html", {"run": run, "progress": _progress(run)})


def _uploaded_run(request: HttpRequest, run_id: int) -> tuple[User, ImportRun]:
    """A run the user may act on: only whoever uploaded it confirms or cancels it."""
    user = _importer(request)
    run = _run_of(user, run_id)
    if run.started_by_id != user.pk:
        raise PermissionDenied
    return user, run


@login_required
@require_POST
def import_confirm(request: HttpRequest, run_id: int) -> HttpResponse:
    user, run = _uploaded_run(request, run_id)
    run = jobs.import_confirm(run=run, user=user)
    if run.status == ImportRun.Status.PENDING:
        messages.error(
            request,
            _(
                "The background worker cannot be reached right now, so the import has not "
                "started. Nothing was written; confirm again in a few minutes."
            ),
        )
    elif not run.is_finished:
        messages.info(request, _("The import runs in the background; this page shows how far."))
    return redirect("crm:import_run", run_id=run.pk)


@login_required
@require_POST
def import_cancel(request: HttpRequest, run_id: int) -> HttpResponse:
    user, run = _uploaded_run(request, run_id)
    if jobs.import_cancel(run=run, user=user):
        messages.success(request, _("Import cancelled; nothing was written."))
        return redirect("crm:import_list")
    return redirect("crm:import_run", run_id=run.pk)


def _attachment_name(run: ImportRun, suffix: str) -> str:
    return f"{PurePath(run.file_name).stem or 'import'}-{suffix}.csv"


@login_required
def import_errors_csv(request: HttpRequest, run_id: int) -> HttpResponse:
    run = _run_of(_importer(request), run_id)
    response = HttpResponse(
        BOM + jobs.error_report_csv(run), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _attachment_name(run, "errors")
    )
    return response


@login_required
def import_bad_rows_csv(request: HttpRequest, run_id: int) -> StreamingHttpResponse:
    """The bad rows with the file's own header and a column of problems: fix and upload again."""
    run = _run_of(_importer(request), run_id)
    if not jobs.has_bad_rows_file(run):
        raise Http404
    response = StreamingHttpResponse(
        chain([BOM], jobs.bad_rows_csv(run)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(
        True, _attachment_name(run, "bad-rows")
    )
    return response
