"""Every periodic job in one place, with why it runs when it runs.

`python manage.py sync_schedules` (run after every migrate) writes these into
django-celery-beat's tables, where beat reads them; an administrator may
pause one in the admin, and the next sync keeps that choice.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Schedule:
    name: str
    task: str
    minute: str
    hour: str
    why: str


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(
        name="Clear expired sessions",
        task="accounts.tasks.sessions_clear",
        minute="30",
        hour="3",
        why="Expired sessions pile up in the database; at night nobody is logged in.",
    ),
    Schedule(
        name="Forget old failed logins",
        task="accounts.tasks.login_failures_forget",
        minute="45",
        hour="3",
        why="Lockout records older than the cool-off period serve no purpose.",
    ),
)
