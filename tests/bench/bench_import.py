"""Benchmark: import one million 1C shipment lines end to end on PostgreSQL.

    make bench-import            (LINES=1000000 CLIENTS=20000 by default)

Prints the time and peak memory of ``manage.py import_shipments`` on a
Windows-1251 ``;`` file, lines per second, and the ratio to a bare COPY of
the same file into an unindexed table (the floor). A second import of the
same file shows the cost of finding that nothing changed. Figures are
printed, never asserted: this is a measurement, not a test.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


def main() -> None:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from crm.models import Client, ImportRun, ShipmentLine
    from tests.bench.shipments_file import write_shipments_csv
    from tests.factories import inn_with_checksum

    if connection.vendor != "postgresql":
        sys.exit("The import benchmark runs on PostgreSQL: set DATABASE_URL.")
    lines = int(os.environ.get("LINES", "1000000"))
    clients = int(os.environ.get("CLIENTS", "20000"))
    scratch = Path(os.environ.get("CLIENTBASE_SCRATCH") or ROOT / ".tmp")
    scratch.mkdir(parents=True, exist_ok=True)

    call_command("migrate", verbosity=0)
    owner, _ = User.objects.get_or_create(email="bench@example.test")
    keys = [
        (f"K{i:06d}", inn_with_checksum(f"77{i:07d}"), f"ООО «Клиент {i}»") for i in range(clients)
    ]
    if not Client.objects.exists():
        Client.objects.bulk_create(
            [Client(external_id=k, inn=inn, name=name, owner=owner) for k, inn, name in keys],
            batch_size=5000,
        )
    path = scratch / f"shipments-{lines}.csv"
    if not path.exists():
        started = time.monotonic()
        documents = write_shipments_csv(path, lines=lines, clients=keys)
        print(
            f"file: {lines:,} lines, {documents:,} documents, "
            f"{path.stat().st_size / 2**20:.0f} MB, written in {time.monotonic() - started:.1f} s"
        )

    floor = bare_copy(connection, path)
    print(
        f"(floor) bare COPY into an unindexed text table: {floor:.1f} s "
        f"({lines / floor:,.0f} lines/s)"
    )

    ShipmentLine.objects.all().delete()
    for label in ("first import", "same file again"):
        seconds, peak = run_import(path)
        run = ImportRun.objects.latest("started_at")
        print(
            f"{label}: {seconds:.1f} s, {lines / seconds:,.0f} lines/s, "
            f"{seconds / floor:.1f}× the bare COPY, peak memory {peak:.0f} MB; "
            f"run {run.status}: documents created {run.created:,}, updated {run.updated:,}, "
            f"unchanged {run.unchanged:,}"
        )
    print(f"lines stored: {ShipmentLine.objects.count():,}")


def bare_copy(connection, path: Path) -> float:
    """COPY the file's data rows into a plain table: the least any importer must do."""
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_copy")
        cursor.execute(
            "CREATE TABLE bench_bare_copy (" + ", ".join(f"c{i} text" for i in range(12)) + ")"
        )
        started = time.monotonic()
        with path.open("rb") as file:
            for _ in range(4):  # the title, the period, a blank line and the header
                file.readline()
            cursor.copy_expert(
                "COPY bench_bare_copy FROM STDIN WITH (FORMAT csv, DELIMITER ';', "
                "ENCODING 'WIN1251')",
                file,
                1 << 20,
            )
        seconds = time.monotonic() - started
        cursor.execute("DROP TABLE bench_bare_copy")
    return seconds


def run_import(path: Path) -> tuple[float, float]:
    """Time ``manage.py import_shipments`` in its own process; its peak memory in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "import_shipments", str(path)],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, max(peak, before) / 1024


if __name__ == "__main__":
    main()
