"""200 MB files: a clear answer, the database as it was, memory independent of the size.

Each import runs as ``manage.py import_shipments`` in its own process, so its
peak resident memory can be read afterwards; the process shares the test
database, which SQLite's in-memory test database cannot do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.crm.importers._files import table_counts

SIZE = 200 * 1024 * 1024
HEADER = "Номер;Дата;Код контрагента;Артикул;Группа;Количество;Сумма\r\n".encode("cp1251")
MEMORY_LIMIT_MB = 300  # the interpreter, Django and the libraries take about 120 MB

pytestmark = pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the command process needs a shared database"
)


def _import(path: Path) -> tuple[subprocess.CompletedProcess, float]:
    """Run the command against this test's database; its output and its peak memory in MB."""
    db = connection.settings_dict
    env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "config.settings"}
    env["DATABASE_URL"] = (
        f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    command = [sys.executable, "manage.py", "import_shipments", str(path)]
    # wait4 gives this child's own peak; RUSAGE_CHILDREN would give the largest of
    # every child this test process ever waited for (an earlier test's worker).
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=env, stdout=out, stderr=err, text=True
        )
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(command, process.returncode, out.read(), err.read())
    return done, usage.ru_maxrss / 1024


@pytest.fixture
def huge(tmp_path):
    def make(name: str, head: bytes, filler: bytes) -> Path:
        path = tmp_path / name
        with path.open("wb") as file:
            file.write(head)
            block = filler * (1024 * 1024 // len(filler))
            for _ in range(SIZE // len(block)):
                file.write(block)
        return path

    return make


@pytest.mark.django_db(transaction=True)
def test_a_200_mb_file_without_line_breaks_is_refused(huge):
    path = huge("sales.csv", HEADER + b"1;02.11.2026;K-1;A-1;G;1;", b"x")
    before = table_counts()
    done, peak = _import(path)
    assert done.returncode != 0
    assert "A line of the file is longer than 1048576 characters" in done.stderr
    assert table_counts() == before
    assert peak < MEMORY_LIMIT_MB, f"peak memory {peak:.0f} MB"


@pytest.mark.django_db(transaction=True)
def test_a_200_mb_cell_is_refused_naming_its_row(huge):
    # A quote left open: every later line break is inside one cell.
    path = huge("sales.csv", HEADER + b'1;02.11.2026;K-1;A-1;G;1;"', b"x" * 99 + b"\r\n")
    before = table_counts()
    done, peak = _import(path)
    assert done.returncode != 0
    assert "Row 2 has a cell longer than 131072 characters" in done.stderr
    assert table_counts() == before
    assert peak < MEMORY_LIMIT_MB, f"peak memory {peak:.0f} MB"


@pytest.mark.django_db(transaction=True)
def test_200_mb_of_random_bytes_is_refused(huge):
    path = huge("sales.csv", b"\x93\xfa\x01\xff", bytes(range(1, 256)))
    before = table_counts()
    done, peak = _import(path)
    assert done.returncode != 0
    assert "The text encoding of «sales.csv» was not recognised" in done.stderr
    assert table_counts() == before
    assert peak < MEMORY_LIMIT_MB, f"peak memory {peak:.0f} MB"
