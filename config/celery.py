"""The Celery application. Tasks live in each app's tasks.py."""

from __future__ import annotations

import logging
import os
from typing import Any

from celery import Celery

logger = logging.getLogger(__name__)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("clientbase")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def queue(task: Any, /, **kwargs: Any) -> bool:
    """Send ``task`` to the broker; False (and a log line) when the broker cannot be reached.

    Callers decide what an outage means for them: a mail is sent in-process,
    an import waits for another confirmation, a metric run is left to the
    nightly catch-up. A page never fails because Redis is down.
    """
    try:
        task.apply_async(kwargs=kwargs)
    except Exception:  # kombu/redis raise several kinds of connection errors
        logger.warning("Could not queue %s", getattr(task, "name", task), exc_info=True)
        return False
    return True
