"""Imports queue behind each other on PostgreSQL: the second waits, then runs."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections

from crm.importers.progress import progress_of
from crm.importers.runs import IMPORT_LOCK_KEY
from crm.importers.writing import import_shipments
from crm.models import ImportRun, ShipmentLine
from tests.crm.importers._files import csv_cp1251
from tests.factories import ClientFactory

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="advisory locks are PostgreSQL's"
)

FILE = csv_cp1251(
    "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма",
    "РН-1;02.11.2026;K-1;A-1;Крепёж;1;100",
)


def test_an_import_waits_for_the_one_holding_the_lock(transactional_db, km_anna):
    ClientFactory(external_id="K-1", owner=km_anna)
    with connection.cursor() as cursor:  # another import is running
        cursor.execute("SELECT pg_advisory_lock(%s)", [IMPORT_LOCK_KEY])
    outcome: list[str] = []

    def second_import() -> None:
        try:
            outcome.append(import_shipments(data=FILE, filename="s.csv", user=None).status)
        finally:
            connections.close_all()

    thread = threading.Thread(target=second_import)
    thread.start()
    deadline = time.monotonic() + 10
    while not ImportRun.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.RUNNING and progress_of(run.pk) is None
    assert not ShipmentLine.objects.exists() and thread.is_alive()  # waiting, not skipped
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_unlock(%s)", [IMPORT_LOCK_KEY])
    thread.join(timeout=30)
    assert outcome == ["succeeded"]
    assert ShipmentLine.objects.count() == 1
