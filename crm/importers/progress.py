"""How far a running import has got, for the progress bar on its page.

The worker's writes happen inside one transaction, invisible to the page
until they commit, so progress travels through the cache (Redis in
production) instead of the run's row. A cache outage only hides the bar.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)

CHECKING = "checking"
WRITING = "writing"
EVERY_ROWS = 2000
_MIN_INTERVAL = 0.5  # seconds between two writes to the cache
_TTL = 24 * 3600


def _key(run_id: int) -> str:
    return f"import-progress:{run_id}"


class Reporter:
    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.last = 0.0

    def report(self, phase: str, rows: int, fraction: float | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < _MIN_INTERVAL:
            return
        self.last = now
        state = {"phase": phase, "rows": rows, "fraction": fraction}
        try:
            cache.set(_key(self.run_id), state, _TTL)
        except Exception:  # the bar is a nicety; the import goes on
            logger.warning("Could not store the progress of import run %s", self.run_id)


def progress_of(run_id: int) -> dict[str, Any] | None:
    """The last reported state of a run: phase, rows so far and the share of the pass done."""
    try:
        return cache.get(_key(run_id))
    except Exception:
        logger.warning("Could not read the progress of import run %s", run_id)
        return None
