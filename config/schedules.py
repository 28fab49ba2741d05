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
        name="Recompute metrics and segments",
        task="segmentation.tasks.metrics_recompute_nightly",
        minute="0",
        hour="2",
        why=(
            "Every metric, status and segment as of yesterday, computed while nobody works; "
            "pages read the result in the morning."
        ),
    ),
    Schedule(
        name="Catch up a missed metric run",
        task="segmentation.tasks.metrics_catch_up",
        minute="20",
        hour="*",
        why=(
            "If the broker or the worker was down at 02:00, yesterday's run happens "
            "within the hour after they return."
        ),
    ),
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
