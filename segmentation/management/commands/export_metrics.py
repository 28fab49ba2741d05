"""``manage.py export_metrics --as-of D --output FILE.csv``: the stored run, one row a client."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from segmentation.exports import write_metrics_csv

from ._run_options import parse_date, stored_run


class Command(BaseCommand):
    help: str = gettext_lazy(  # type: ignore[assignment]
        "Write the stored client metrics of a date to a CSV file."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--output", required=True, metavar="FILE.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        run = stored_run(parse_date(options["as_of"]))
        try:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                count = write_metrics_csv(run, out)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s")
                % {"file": options["output"], "error": exc.strerror}
            ) from None
        self.stdout.write(
            _("%(count)s clients written to %(file)s.")
            % {"count": count, "file": options["output"]}
        )
