"""The frame every import runs in: read, validate all rows, write in one transaction.

The ``ImportRun`` row is saved outside the data transaction, so a rejected or
crashed import is recorded while its data changes are not.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from accounts.models import User
from crm.models import Client, ImportRun
from crm.selectors import book_counts

from . import progress
from .parsing import RowError
from .reading import ImportFileError, Message, RawRow, ReadResult, fmt, read_table
from .source import FileData, sha256_of

logger = logging.getLogger(__name__)

CHUNK = 5000  # rows per bulk statement
LOOKUP_CHUNK = 900  # values per ``IN (…)``: SQLite's limit on query parameters is low


@dataclass
class ImportContext:
    kind: str
    data: FileData
    filename: str
    user: User | None
    dry_run: bool = False
    create_missing_clients: bool = False
    sheet: str | None = None
    run_id: int | None = None
    # Import the valid rows and report the bad ones, instead of rejecting the file.
    skip_invalid: bool = False
    # The clients the import may touch; None means every client (a command run
    # by the operator, or an administrator).
    scope: QuerySet[Client] | None = None
    phase: str = progress.CHECKING
    # The clients whose data the write changed: their metrics are recomputed.
    touched: set[int] = field(default_factory=set)
    # Called when the run ends, however it ends (e.g. to drop staging tables).
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def read(self) -> ReadResult:
        """Open the file again: rows are streamed, so every pass reads it anew."""
        result = read_table(
            data=self.data, filename=self.filename, kind=self.kind, sheet=self.sheet
        )
        if self.run_id is not None:
            result._rows = self._reporting(result, result._rows)
        return result

    def _reporting(self, result: ReadResult, rows: Iterator[RawRow]) -> Iterator[RawRow]:
        """Pass the rows through, telling the progress bar how far the pass has got."""
        assert self.run_id is not None
        reporter = progress.Reporter(self.run_id)
        count = 0
        for count, row in enumerate(rows, start=1):
            if count % progress.EVERY_ROWS == 0:
                reporter.report(self.phase, count, result.fraction_read())
            yield row
        reporter.report(self.phase, count, 1.0, force=True)

    @property
    def change_reason(self) -> str:
        return gettext("Import of %(file)s") % {"file": self.filename}


@dataclass
class Plan:
    """What validation found and what writing would do."""

    rows_read: int = 0
    errors: list[RowError] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    write: Callable[[], None] | None = None
    # Worth a look but no reason to refuse a row (a likely duplicate, say).
    warnings: list[str] = field(default_factory=list)

    @property
    def rejected_rows(self) -> int:
        return len({e.row for e in self.errors})

    def reject(self, row: int, column: str, value: Any, message: Message, header: str) -> None:
        text = "" if value is None else str(value)
        self.errors.append(RowError(row, column, text, message, header))


Preparer = Callable[[ImportContext, ReadResult], Plan]


def chunked[T](items: Iterable[T], size: int = LOOKUP_CHUNK) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def error_record(error: RowError) -> dict[str, Any]:
    """An error as stored on the run: its text in the language active now."""
    return {
        "row": error.row,
        "column": error.header or error.column,
        "value": error.value,
        "message": str(error.message),
    }


def new_run(context: ImportContext, status: str = ImportRun.Status.RUNNING) -> ImportRun:
    """The run row of an import, saved at once so that even a crash leaves a trace."""
    return ImportRun.objects.create(
        kind=context.kind,
        status=status,
        started_by=context.user,
        file_name=context.filename[:255],
        checksum=sha256_of(context.data),
        options=options_of(context),
    )


def options_of(context: ImportContext) -> dict[str, Any]:
    return {
        "dry_run": context.dry_run,
        "create_missing_clients": context.create_missing_clients,
        "sheet": context.sheet or "",
        "skip_invalid": context.skip_invalid,
        "scoped": context.scope is not None,
    }


def run_import(
    context: ImportContext, prepare: Preparer, run: ImportRun | None = None
) -> ImportRun:
    """Execute the import on ``run`` (a new one unless given); the run says what happened."""
    started = time.monotonic()
    if run is None:
        run = new_run(context)
    elif run.status != ImportRun.Status.RUNNING:
        run.status = ImportRun.Status.RUNNING
        run.started_at = timezone.now()
        run.save(update_fields=["status", "started_at"])
    context.run_id = run.pk
    try:
        with import_lock():
            _execute(context, prepare, run)
    except Exception as exc:  # recorded on the run; the data transaction rolled back
        logger.exception("Import run %s failed", run.pk)
        run.status = ImportRun.Status.FAILED
        message = gettext("The import failed and nothing was changed: %(error)s") % {"error": exc}
        run.errors = [{"row": None, "column": "", "value": "", "message": message}]
    finally:
        for cleanup in context.cleanups:
            cleanup()
    run.finished_at = timezone.now()
    run.duration_ms = int((time.monotonic() - started) * 1000)
    run.save()
    written = run.status in (ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL)
    if written and context.touched:
        _recompute_touched(run.pk, sorted(context.touched))
    return run


# A fixed key of our own for PostgreSQL's advisory locks.
IMPORT_LOCK_KEY = 0x1C0B_0001


@contextmanager
def import_lock() -> Iterator[None]:
    """One import at a time: the next one waits, it is never skipped.

    An import compares the file with the database and then writes; two
    imports interleaved could both find a document missing and both insert
    it. On PostgreSQL a session advisory lock (released even if the worker
    dies, with its connection); SQLite lets one writer in at a time anyway,
    and is the single-user development default.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK_KEY])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])


def _execute(context: ImportContext, prepare: Preparer, run: ImportRun) -> None:
    try:
        result = context.read()
        run.file_format = result.format
        run.encoding = result.encoding or ""
        run.delimiter = result.delimiter or ""
        run.sheet = result.sheet or ""
        run.header_row = result.header_row
        run.notes = result.notes()
        plan = prepare(context, result)
    except ImportFileError as exc:
        run.status = ImportRun.Status.REJECTED
        run.errors = [{"row": None, "column": "", "value": "", "message": str(exc.message)}]
        return
    run.rows_read = plan.rows_read
    run.notes = [*run.notes, *plan.warnings]
    run.rejected = plan.rejected_rows
    run.errors = [error_record(e) for e in sorted(plan.errors, key=lambda e: e.row)]
    if plan.errors and not context.skip_invalid:
        run.status = ImportRun.Status.REJECTED
        return
    if not context.dry_run and plan.write is not None:
        context.phase = progress.WRITING
        progress.Reporter(run.pk).report(progress.WRITING, plan.rows_read, None, force=True)
        with transaction.atomic():
            plan.write()
            book_counts.forget_all()  # owners, estimates and clients may all have changed
    run.created, run.updated, run.unchanged = plan.created, plan.updated, plan.unchanged
    run.status = ImportRun.Status.PARTIAL if plan.errors else ImportRun.Status.SUCCEEDED


def _recompute_touched(run_id: int, client_ids: list[int]) -> None:
    """Queue the incremental metric run for the clients the import changed.

    The import has committed; a broker that is down costs the user nothing
    now, and the nightly run covers these clients anyway.
    """
    if not getattr(settings, "METRICS_AFTER_IMPORT", True):
        return
    from config.celery import queue
    from segmentation.tasks import metrics_recompute_clients

    queue(metrics_recompute_clients, client_ids=client_ids, import_run_id=run_id)


# Messages shared by the writers.
UNKNOWN_CLIENT = gettext_lazy("No client has this code or INN.")
NO_USER_TO_OWN = gettext_lazy("A new client needs an owner: fill in the owner or import as a user.")


def ambiguous_inn(count: int) -> Message:
    return fmt(
        gettext_lazy("%(count)s clients have this INN: give the client's code (or the KPP)."),
        count=count,
    )
