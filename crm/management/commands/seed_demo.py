"""``manage.py seed_demo``: fill the database with the demo client base (see crm/demo/)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm import demo


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    # Lazy, so the help is translated when the parser is built (see create_parser).
    help: str = _(  # type: ignore[assignment]
        "Fill the database with a realistic, deterministic demo client base: staff and "
        "teams, clients, contacts, shipments, activities, tasks, deals and estimates."
    )

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # argparse formats the description with re, which needs a real string:
        # translate the lazy help now, in the language active at this moment.
        self.help = str(self.help)
        return super().create_parser(prog_name, subcommand, **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        # argparse wants str: str() translates each lazy help as the parser is built.
        parser.add_argument(
            "--clients",
            type=int,
            default=demo.DEFAULT_CLIENTS,
            help=str(_("Number of clients (default %(default)s).")),
        )
        parser.add_argument(
            "--months",
            type=int,
            default=demo.DEFAULT_MONTHS,
            help=str(
                _("Months of shipment history ending at the as-of date (default %(default)s).")
            ),
        )
        parser.add_argument(
            "--seed",
            type=int,
            default=demo.DEFAULT_SEED,
            help=str(_("Random seed: the same seed, date and sizes give the same data.")),
        )
        parser.add_argument(
            "--as-of",
            type=_iso_date,
            default=None,
            help=str(_("The date the demo ends at, YYYY-MM-DD (default: today).")),
        )
        parser.add_argument(
            "--lines",
            type=int,
            default=None,
            help=str(
                _(
                    "Approximate number of shipment lines "
                    "(default: about 200 per buying client and year)."
                )
            ),
        )
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--if-empty",
            action="store_true",
            help=str(
                _("Do nothing (but list the demo logins) when the database already has data.")
            ),
        )
        mode.add_argument(
            "--reset",
            action="store_true",
            help=str(
                _("Delete all CRM data and the demo users first, then generate the demo again.")
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        settings = demo.DemoOptions(
            as_of=options["as_of"] or timezone.localdate(),
            clients=options["clients"],
            months=options["months"],
            seed=options["seed"],
            lines=options["lines"],
        )
        try:
            settings.validate()
        except demo.DemoError as error:
            raise CommandError(str(error)) from None
        verbose = options["verbosity"] >= 1
        with transaction.atomic():
            existing = demo.existing_data()
            if existing and options["if_empty"]:
                found = ", ".join(f"{count:,} {name}" for name, count in existing.items())
                self.stdout.write(f"The database already has data ({found}): nothing changed.")
                self._print_logins()
                return
            if existing and not options["reset"]:
                found = ", ".join(f"{count:,} {name}" for name, count in existing.items())
                raise CommandError(
                    f"The database already has data ({found}). Run with --reset to delete "
                    "all CRM data and the demo users and generate the demo again, or with "
                    "--if-empty to keep it."
                )
            try:
                if existing:
                    others = demo.reset_demo_data()
                    emptied = f" (also emptied: {', '.join(others)})" if others else ""
                    self.stdout.write(f"Deleted all CRM data and the demo users{emptied}.")
                if verbose:
                    self.stdout.write(
                        f"Generating {settings.clients:,} clients over {settings.months} "
                        f"months up to {settings.as_of:%Y-%m-%d} (seed {settings.seed})..."
                    )
                result = demo.generate_demo(
                    settings, progress=self.stdout.write if verbose else None
                )
            except demo.DemoError as error:
                raise CommandError(str(error)) from None
        counts = result.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {result.seconds:.1f} s: {counts.get('clients', 0):,} "
                f"clients, {counts.get('shipment lines', 0):,} shipment lines "
                f"(target {result.target_lines:,}) in {counts.get('documents', 0):,} "
                f"documents, {counts.get('users', 0):,} users."
            )
        )
        self._print_logins()

    def _print_logins(self) -> None:
        logins = demo.demo_logins()
        if not logins:
            self.stdout.write("There are no demo users in this database.")
            return
        core = {f"{member.local}@{demo.DEMO_DOMAIN}" for member in demo.CORE_STAFF}
        shown = [login for login in logins if login.email in core]
        more = [login for login in logins if login.email not in core]
        self.stdout.write(f"Demo logins (password: {demo.DEMO_PASSWORD}):")
        width = max(len(login.email) for login in shown or logins)
        for login in shown or logins:
            roles = ", ".join(login.roles)
            teams = f" — {', '.join(login.teams)}" if login.teams else ""
            self.stdout.write(f"  {login.email:<{width}}  {login.name} ({roles}){teams}")
        if shown and more:
            self.stdout.write(
                f"  ...and {len(more):,} more managers, e.g. {more[0].email} ({more[0].name})."
            )
