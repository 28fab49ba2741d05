"""Imports started from the web page or the API: upload, preview, confirm, run.

An upload is kept on disk with a run in "awaiting confirmation"; the page
shows what was detected before anything is written. On confirmation a small
file is imported at once and a large one is handed to a Celery worker, which
reads it from the shared media directory. The worker's task is safe to run
again: a killed worker leaves the data transaction rolled back, and the
redelivered task starts the import from the beginning.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import clients_visible_to
from config.celery import queue
from crm.models import Client, ImportRun

from .reading import ImportFileError, read_table
from .runs import new_run, run_import
from .source import FileData
from .writing import context_for, preparer_for

logger = logging.getLogger(__name__)

PREVIEW_ROWS = 5
BACKGROUND_MIN_BYTES_DEFAULT = 256 * 1024  # about three thousand 1C lines
MAX_UPLOAD_BYTES_DEFAULT = 300 * 1024 * 1024
_NUMBER_RE = re.compile(r"^[+-]?[\d\s\xa0]*[.,]?\d+$")


def import_scope(user: User) -> QuerySet[Client] | None:
    """The clients an import by ``user`` may touch: all for an administrator."""
    return None if user.is_admin else clients_visible_to(user=user)


def may_import(user: User) -> bool:
    return user.is_active and (user.is_admin or user.is_head)


def import_runs_visible_to(*, user: User) -> QuerySet[ImportRun]:
    """The runs a user may look at: every run for an administrator, a head's own ones.

    Newest first. Anyone who may not import sees none.
    """
    if not may_import(user):
        return ImportRun.objects.none()
    runs = ImportRun.objects.select_related("started_by").order_by("-started_at", "-id")
    return runs if user.is_admin else runs.filter(started_by=user)


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", MAX_UPLOAD_BYTES_DEFAULT))


def upload_size_problem(size: int | None) -> str | None:
    """Why a file of ``size`` bytes is not accepted, or None; the form and the API say the same."""
    limit = max_upload_bytes()
    if size is None or size <= limit:
        return None
    return _(
        "The file is %(size)s; the largest file accepted is %(limit)s: "
        "split it or ask an administrator to import it."
    ) % {"size": filesizeformat(size), "limit": filesizeformat(limit)}


def import_upload(
    *,
    kind: str,
    upload: UploadedFile,
    user: User,
    create_missing_clients: bool = False,
    skip_invalid: bool = False,
    sheet: str | None = None,
) -> ImportRun:
    """Keep the uploaded file with a run awaiting confirmation."""
    name = Path(upload.name or "upload").name
    context = context_for(
        kind=kind,
        data=_upload_path_or_bytes(upload),
        filename=name,
        user=user,
        create_missing_clients=create_missing_clients,
        sheet=sheet or None,
        skip_invalid=skip_invalid,
        scope=import_scope(user),
    )
    run = new_run(context, status=ImportRun.Status.PENDING)
    upload.seek(0)
    run.stored_file.save(name, upload, save=False)
    run.file_size = upload.size or 0
    run.save(update_fields=["stored_file", "file_size"])
    return run


def import_refuse_unreadable(*, run: ImportRun) -> ImportRun:
    """Close an upload the reader cannot open as rejected, with the reader's reason.

    There is nothing to confirm in such a file, and a rejected import is
    recorded like any other; the stored file goes, as it holds no rows to give back.
    """
    if run.status != ImportRun.Status.PENDING:
        return run
    problem = import_preview(run).error
    if not problem:
        return run
    run.status = ImportRun.Status.REJECTED
    run.errors = [{"row": None, "column": "", "value": "", "message": problem}]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "errors", "finished_at"])
    _delete_stored_file(run)
    return run


def has_bad_rows_file(run: ImportRun) -> bool:
    """Whether the file of bad rows can be made: row errors and the upload still on disk."""
    return bool(run.stored_file) and any(e.get("row") is not None for e in run.errors)


def _upload_path_or_bytes(upload: UploadedFile) -> FileData:
    """A temporary file's path when Django spooled the upload to disk, else its bytes."""
    path = getattr(upload, "temporary_file_path", None)
    if path is not None:
        return Path(path())
    upload.seek(0)
    return upload.read()


@dataclass
class Preview:
    """What the reader made of an upload, shown before the user confirms."""

    format: str = ""
    encoding: str = ""
    delimiter: str = ""
    sheet: str = ""
    header_row: int | None = None
    columns: list[tuple[str, str]] = field(default_factory=list)  # (canonical, as written)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""


def import_preview(run: ImportRun) -> Preview:
    """The detected format, columns and first rows of a stored upload, or why it cannot be read."""
    gone = Preview(error=_("The uploaded file is no longer on the server: upload it again."))
    if not run.stored_file:
        return gone
    try:
        result = read_table(
            data=stored_path(run),
            filename=run.file_name,
            kind=run.kind,
            sheet=run.options.get("sheet") or None,
        )
    except ImportFileError as exc:
        return Preview(error=str(exc.message))
    except OSError:
        return gone
    columns = list(result.columns.items())
    rows: list[tuple[int, list[str]]] = []
    for raw in result.iter_rows():
        rows.append((raw.row, [str(raw.values.get(name, "")) for name, _header in columns]))
        if len(rows) == PREVIEW_ROWS:
            break
    return Preview(
        format=result.format,
        encoding=result.encoding or "",
        delimiter=_delimiter_name(result.delimiter),
        sheet=result.sheet or "",
        header_row=result.header_row,
        columns=columns,
        rows=rows,
        notes=result.notes(),
    )


def _delimiter_name(delimiter: str | None) -> str:
    names = {";": _("semicolon"), ",": _("comma"), "\t": _("tab")}
    return names.get(delimiter or "", delimiter or "")


def stored_path(run: ImportRun) -> Path:
    return Path(run.stored_file.path)


def background_min_bytes() -> int:
    return int(getattr(settings, "IMPORT_BACKGROUND_MIN_BYTES", BACKGROUND_MIN_BYTES_DEFAULT))


def import_confirm(*, run: ImportRun, user: User) -> ImportRun:
    """Start a confirmed upload: at once when small, as a background job when large.

    Only the user who uploaded may confirm, and only once: a second click or
    a second tab finds the run already queued and changes nothing. When the
    broker cannot be reached the run stays awaiting confirmation.
    """
    from crm.tasks import import_run_execute

    with transaction.atomic():
        locked = ImportRun.objects.select_for_update().get(pk=run.pk)
        if locked.status != ImportRun.Status.PENDING or locked.started_by_id != user.pk:
            return locked
        locked.status = ImportRun.Status.QUEUED
        locked.save(update_fields=["status"])
    if locked.file_size >= background_min_bytes():

        def send() -> None:
            if not queue(import_run_execute, run_id=locked.pk):
                # No broker: the upload waits for another confirmation.
                ImportRun.objects.filter(pk=locked.pk).update(status=ImportRun.Status.PENDING)
                locked.status = ImportRun.Status.PENDING

        # After the commit, so that the worker finds the run queued.
        transaction.on_commit(send)
        return locked
    return import_execute(locked.pk)


def import_execute(run_id: int) -> ImportRun:
    """Run a queued import; what the background task calls. Safe to call twice."""
    run = ImportRun.objects.select_related("started_by").get(pk=run_id)
    if run.status not in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING):
        return run  # finished already, or never confirmed
    user = run.started_by
    options: dict[str, Any] = run.options
    context = context_for(
        kind=run.kind,
        data=stored_path(run),
        filename=run.file_name,
        user=user,
        dry_run=bool(options.get("dry_run")),
        create_missing_clients=bool(options.get("create_missing_clients")),
        sheet=options.get("sheet") or None,
        skip_invalid=bool(options.get("skip_invalid")),
        scope=import_scope(user) if user is not None and options.get("scoped") else None,
    )
    # A run found "running" was cut short (a killed worker): its data
    # transaction was rolled back, so it starts again from the beginning.
    run.errors, run.rows_read, run.rejected = [], 0, 0
    return run_import(context, preparer_for(run.kind), run=run)


def import_cancel(*, run: ImportRun, user: User) -> bool:
    """Drop an upload the user decided not to import; its file goes too."""
    if run.status != ImportRun.Status.PENDING or run.started_by_id != user.pk:
        return False
    run.status = ImportRun.Status.REJECTED
    run.errors = [{"row": None, "column": "", "value": "", "message": _("Cancelled by the user.")}]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "errors", "finished_at"])
    _delete_stored_file(run)
    return True


def _delete_stored_file(run: ImportRun) -> None:
    if run.stored_file:
        run.stored_file.delete(save=True)


def error_report_csv(run: ImportRun) -> str:
    """The run's errors as a CSV a spreadsheet opens: row, column, value, message."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow([_("Row"), _("Column"), _("Value"), _("Problem")])
    for error in run.errors:
        writer.writerow(
            [
                error.get("row") or "",
                error.get("column", ""),
                spreadsheet_safe(error.get("value", "")),
                error.get("message", ""),
            ]
        )
    return buffer.getvalue()


def bad_rows_csv(run: ImportRun) -> Iterator[str]:
    """The file's bad rows as they were, plus a column with the problems: fix and upload again.

    The header is the file's own, so the corrected file imports as it is.
    """
    problems: dict[int, list[str]] = {}
    for error in run.errors:
        if error.get("row") is not None:
            text = f"{error.get('column', '')}: {error.get('message', '')}"
            problems.setdefault(int(error["row"]), []).append(text)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    if not run.stored_file or not problems:
        return
    try:
        result = read_table(
            data=stored_path(run),
            filename=run.file_name,
            kind=run.kind,
            sheet=run.options.get("sheet") or None,
        )
    except (ImportFileError, OSError):
        return
    columns = list(result.columns.items())
    writer.writerow([header for _name, header in columns] + [_("Problems")])
    for raw in result.iter_rows():
        if raw.row in problems:
            cells = [spreadsheet_safe(str(raw.values.get(name, ""))) for name, _h in columns]
            writer.writerow([*cells, "; ".join(problems[raw.row])])
            yield _drain(buffer)
    yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def spreadsheet_safe(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula; numbers (a return's -5) stay numbers."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@") and not _NUMBER_RE.match(text):
        return "'" + text
    return text
