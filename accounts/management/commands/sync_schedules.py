from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import schedules_sync


class Command(BaseCommand):
    help = "Write the periodic jobs of config/schedules.py into Celery beat's tables."

    def handle(self, *args: Any, **options: Any) -> None:
        count = schedules_sync()
        self.stdout.write(f"{count} periodic jobs in place.")
