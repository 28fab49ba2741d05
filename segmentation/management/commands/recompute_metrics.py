"""``manage.py recompute_metrics [--as-of D] [--clients ID ...]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from segmentation.choices import RunStatus, RunTrigger
from segmentation.services import metrics_recompute

from ._run_options import parse_date


class Command(BaseCommand):
    help: str = gettext_lazy(  # type: ignore[assignment]
        "Recompute client metrics and segments as of a date (default: yesterday)."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> Any:
        self.help = str(self.help)  # argparse needs a real string
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--as-of",
            metavar="YYYY-MM-DD",
            help=str(_("The date to compute as of; default yesterday in the company's zone.")),
        )
        parser.add_argument(
            "--clients",
            nargs="+",
            type=int,
            metavar="ID",
            help=str(_("Recompute only these clients (an incremental run).")),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # The company's zone (TIME_ZONE, Europe/Moscow by default) decides "yesterday".
        as_of = (
            parse_date(options["as_of"])
            if options["as_of"]
            else timezone.localdate() - dt.timedelta(days=1)
        )
        run = metrics_recompute(
            as_of=as_of, client_ids=options["clients"], trigger=RunTrigger.MANUAL
        )
        if run.status == RunStatus.SKIPPED:
            raise CommandError(_("Another recompute is running; nothing was done. Try later."))
        if run.status == RunStatus.FAILED:
            raise CommandError(
                _("The recompute as of %(date)s failed: %(error)s")
                % {"date": as_of.isoformat(), "error": run.error}
            )
        counts = run.counts
        self.stdout.write(
            _(
                "Metrics as of %(date)s (%(kind)s run %(id)s): %(clients)s clients, "
                "%(recomputed)s recomputed, %(rated)s rated, in %(ms)s ms."
            )
            % {
                "date": as_of.isoformat(),
                "kind": run.get_kind_display(),
                "id": run.pk,
                "clients": counts.get("clients", 0),
                "recomputed": counts.get("recomputed", 0),
                "rated": counts.get("rated", 0),
                "ms": run.duration_ms,
            }
        )
