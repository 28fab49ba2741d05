"""What the three import commands share: arguments, the run, and its report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from accounts.models import User
from crm.importers.writing import import_file
from crm.models import ImportRun

MAX_PRINTED_ERRORS = 200


class ImportCommand(BaseCommand):
    kind = ""
    can_create_clients = False

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # argparse formats the description with re, which needs a real string.
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", metavar="FILE", help=str(_("The .csv or .xlsx file.")))
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=str(_("Validate and count, but write nothing except the run record.")),
        )
        parser.add_argument(
            "--user",
            metavar="EMAIL",
            help=str(_("The e-mail address of the user the import is made for.")),
        )
        parser.add_argument("--sheet", metavar="NAME", help=str(_("The sheet of a workbook.")))
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help=str(_("Import the valid rows and report the bad ones instead of refusing all.")),
        )
        if self.can_create_clients:
            parser.add_argument(
                "--create-missing-clients",
                action="store_true",
                help=str(_("Create clients the file names but the database does not have.")),
            )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        try:
            with path.open("rb"):  # readable? the importer streams it from disk
                pass
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": exc.strerror}
            ) from None
        user = None
        if options["user"]:
            user = User.objects.filter(email__iexact=options["user"].strip()).first()
            if user is None:
                raise CommandError(
                    _("No user has the e-mail address %(email)s.") % {"email": options["user"]}
                )
        run = import_file(
            kind=self.kind,
            data=path,
            filename=path.name,
            user=user,
            dry_run=options["dry_run"],
            create_missing_clients=options.get("create_missing_clients", False),
            sheet=options["sheet"],
            skip_invalid=options["skip_invalid"],
        )
        self.report(run)
        if run.status not in (ImportRun.Status.SUCCEEDED, ImportRun.Status.PARTIAL):
            raise CommandError(
                _("The import was %(status)s: nothing was changed.")
                % {"status": run.get_status_display().lower()}
            )

    def report(self, run: ImportRun) -> None:
        write = self.stdout.write
        if run.file_format == "csv":
            write(
                _("CSV file, encoding %(encoding)s, delimiter %(delimiter)s.")
                % {"encoding": run.encoding, "delimiter": repr(run.delimiter)}
            )
        elif run.file_format == "xlsx":
            write(_("XLSX workbook, sheet «%(sheet)s».") % {"sheet": run.sheet})
        if run.header_row:
            write(_("Header: row %(row)s.") % {"row": run.header_row})
        for note in run.notes:
            write(note)
        if run.dry_run:
            write(_("Dry run: nothing was written."))
        write(
            _(
                "Rows read: %(read)s; created: %(created)s, updated: %(updated)s, "
                "unchanged: %(unchanged)s; rejected rows: %(rejected)s."
            )
            % {
                "read": run.rows_read,
                "created": run.created,
                "updated": run.updated,
                "unchanged": run.unchanged,
                "rejected": run.rejected,
            }
        )
        if self.kind == "shipments":
            write(_("For shipments, created, updated and unchanged count documents."))
        for error in run.errors[:MAX_PRINTED_ERRORS]:
            if error.get("row") is None:
                self.stderr.write(error["message"])
            else:
                self.stderr.write(
                    _("row %(row)s, column %(column)s: %(message)s")
                    % {"row": error["row"], "column": error["column"], "message": error["message"]}
                )
        hidden = len(run.errors) - MAX_PRINTED_ERRORS
        if hidden > 0:
            self.stderr.write(_("… and %(count)s more") % {"count": hidden})
        if run.status == ImportRun.Status.SUCCEEDED:
            write(self.style.SUCCESS(_("Import run %(id)s succeeded.") % {"id": run.pk}))
        elif run.status == ImportRun.Status.PARTIAL:
            write(
                self.style.WARNING(
                    _(
                        "Import run %(id)s wrote the valid rows; %(count)s rows were left out "
                        "and are listed above."
                    )
                    % {"id": run.pk, "count": run.rejected}
                )
            )
