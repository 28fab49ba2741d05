from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from accounts.services import user_deactivate


class Command(BaseCommand):
    help = (
        "Switch off a leaving user and hand every client and open task they own to a "
        "successor, in one transaction, with history."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email", help="The leaving user's e-mail.")
        parser.add_argument("--successor", required=True, help="The successor's e-mail.")
        parser.add_argument("--by", required=True, help="The administrator doing it (e-mail).")

    def handle(self, *args: Any, **options: Any) -> None:
        users = {}
        for key in ("email", "successor", "by"):
            try:
                users[key] = User.objects.get(email__iexact=options[key].strip())
            except User.DoesNotExist:
                raise CommandError(f"No user with the e-mail {options[key]!r}.") from None
        try:
            moved = user_deactivate(
                user=users["email"], successor=users["successor"], acting_user=users["by"]
            )
        except (PermissionDenied, ValidationError) as error:
            raise CommandError("; ".join(getattr(error, "messages", [str(error)]))) from None
        self.stdout.write(f"{users['email']} is switched off; {moved} clients moved.")
