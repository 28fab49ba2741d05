"""Arguments the metric commands share."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import CommandError
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
