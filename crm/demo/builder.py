"""Generating the whole demo: the steps in their fixed order, in one transaction.

Determinism: every random draw comes from one ``random.Random(seed)`` and one
``numpy.random.default_rng(seed)``, consumed in a fixed order, and every date
is counted from the as-of date. Nothing depends on database ids or on the
wall clock, so the same seed, as-of date and sizes give identical rows.
"""

from __future__ import annotations

import time as clock

from django.db import connection, transaction

from crm.demo.builder_clients import _ClientSteps
from crm.demo.builder_sales import _SalesSteps
from crm.demo.builder_setup import _SetupSteps
from crm.demo.builder_shipments import _ShipmentSteps
from crm.demo.builder_work import _WorkSteps
from crm.demo.bulk import _is_postgres
from crm.demo.options import DemoOptions, DemoResult, Progress
from crm.models import Activity, Client, Contact, Product
from crm.services import clients_last_touch_refresh


def generate_demo(options: DemoOptions, progress: Progress | None = None) -> DemoResult:
    """Build the whole demo in one transaction and return what was written."""
    options.validate()
    say = progress or (lambda message: None)
    started = clock.perf_counter()
    with transaction.atomic():
        builder = _Builder(options, say)
        builder.run()
    builder.result.seconds = clock.perf_counter() - started
    return builder.result


class _Builder(_SetupSteps, _ClientSteps, _ShipmentSteps, _WorkSteps, _SalesSteps):
    """Generates the demo step by step; each step consumes the random streams in a fixed order."""

    def run(self) -> None:
        self._staff()
        self._catalogue()
        self._plan_clients()
        self._create_clients()
        self._shipments()
        self._contacts()
        self._activities()
        clients_last_touch_refresh()  # the touches went in without signals
        self._ownership_and_grants()
        self._tasks()
        self._deals()
        self._estimates()
        if _is_postgres():
            with connection.cursor() as cursor:
                for model in (Client, Contact, Activity, Product):
                    cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
