"""Reads of stored runs that pages, API, exports and reports share."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from accounts.selectors import clients_visible_to
from segmentation.choices import RunStatus
from segmentation.models import ClientMetricSnapshot, MetricRun

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User


def latest_successful_run(as_of: dt.date | None = None) -> MetricRun | None:
    """The newest good run (of the latest as-of date not after ``as_of``, when given).

    A failed or running run never hides the previous good one.
    """
    runs = MetricRun.objects.filter(status=RunStatus.SUCCEEDED)
    if as_of is not None:
        runs = runs.filter(as_of__lte=as_of)
    return runs.order_by("-as_of", "-id").first()


def run_for_as_of(as_of: dt.date) -> MetricRun | None:
    """The stored run of exactly that date (the latest, when the day was rerun)."""
    return MetricRun.objects.filter(status=RunStatus.SUCCEEDED, as_of=as_of).order_by("-id").first()


def snapshots_for(
    user: User | AnonymousUser, run: MetricRun | None = None
) -> QuerySet[ClientMetricSnapshot]:
    """Snapshot rows of the clients the user may see, of ``run`` or the latest good run."""
    run = run or latest_successful_run()
    if run is None:
        return ClientMetricSnapshot.objects.none()
    return (
        ClientMetricSnapshot.objects.filter(
            run=run, client__in=clients_visible_to(user=user).values("pk")
        )
        .select_related("client", "owner", "team")
        .order_by("client__name", "client_id")
    )
