"""Arguments the metric commands share."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from segmentation.models import MetricRun
from segmentation.selectors import run_for_as_of


def parse_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            _("%(value)s is not a date: write it as YYYY-MM-DD.") % {"value": value}
        ) from None


def stored_run(as_of: dt.date) -> MetricRun:
    run = run_for_as_of(as_of)
    if run is None:
        raise CommandError(
            _(
                "No metrics are stored as of %(date)s: run "
                "“manage.py recompute_metrics --as-of %(date)s” first."
            )
            % {"date": as_of.isoformat()}
        )
    return run


class ExportCommand(BaseCommand, ABC):
    """``--as-of D --output FILE.csv``: write what a stored run holds; the two exports share it."""

    @abstractmethod
    def write(self, run: MetricRun, out: IO[str]) -> int:
        """Write the CSV of ``run`` to ``out``; returns how many rows were written."""

    @abstractmethod
    def done_message(self, count: int, file: str) -> str:
        """What to tell the user once ``count`` rows are in ``file``."""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        self.help = str(self.help)  # argparse needs a real string
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", required=True, metavar="YYYY-MM-DD")
        parser.add_argument("--output", required=True, metavar="FILE.csv")

    def handle(self, *args: Any, **options: Any) -> None:
        run = stored_run(parse_date(options["as_of"]))
        try:
            with open(options["output"], "w", encoding="utf-8", newline="") as out:
                count = self.write(run, out)
        except OSError as exc:
            raise CommandError(
                _("Cannot write %(file)s: %(error)s")
                % {"file": options["output"], "error": exc.strerror}
            ) from None
        self.stdout.write(self.done_message(count, options["output"]))
