"""The export commands: exact header and cells, and a clear error without a stored run."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command

from segmentation.exports import METRIC_COLUMNS, number_cell, text_cell
from tests.factories import ClientFactory, inn_with_checksum
from tests.segmentation._data import D, day, line, run, wallet

pytestmark = pytest.mark.django_db

HEADER = (
    "external_id,inn,name,revenue_12m,revenue_prev_12m,yoy_growth,orders_12m,avg_check_12m,"
    "skus_12m,groups_12m,first_order_on,last_order_on,days_since_last_order,usual_gap_days,"
    "wallet,share_of_wallet,share_band,status,segment,abc,xyz"
)


def export(tmp_path, command: str, as_of: dt.date) -> list[str]:
    path = tmp_path / "out.csv"
    call_command(command, "--as-of", as_of.isoformat(), "--output", str(path), stdout=io.StringIO())
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")  # plain UTF-8, no BOM
    return raw.decode("utf-8").splitlines()


def test_export_metrics_header_and_cells(tmp_path):
    inn_a, inn_b, inn_c = (inn_with_checksum(f"50{n:07d}") for n in (1, 2, 3))
    rated = ClientFactory(external_id="K-1", inn=inn_a, name="=1+2")
    prospect = ClientFactory(external_id="K-2", inn=inn_b, name="+7 ООО «Старт»")
    regular = ClientFactory(external_id="K-3", inn=inn_c, name="ООО «Альфа, Бета»")
    line(rated, day(-400), 2000)
    line(rated, day(-10), 1000, doc="A-1")
    line(rated, day(-10), 500, doc="A-1")
    wallet(rated, 12000)
    for offset in (-100, -70, -40):
        line(regular, day(offset), 100)
    wallet(prospect, 5000, status="draft")
    run()
    lines = export(tmp_path, "export_metrics", D)
    assert lines[0] == HEADER
    assert lines[0].split(",") == METRIC_COLUMNS
    # revenue 1500, previous 2000 → growth (1500 − 2000) / 2000 = −0.25, a number;
    # share 1500 / 12000 = 0.125; the only rated wallet is the threshold → A;
    # no revenue in 2025-06 … 2026-05 → no XYZ class.
    assert lines[1] == (
        f"K-1,{inn_a},'=1+2,1500.00,2000.00,-0.25,1,1500.00,1,1,2025-05-26,2026-06-20,10,,"
        "12000.00,0.125,main,active,A,A,"
    )
    assert lines[2] == (f"K-2,{inn_b},'+7 ООО «Старт»,0.00,0.00,,0,,0,0,,,,,,,,prospect,unrated,,")
    # three orders 30 days apart: gap 30, 40 days < 2 × 30 → active; ABC: 1500 of 1800
    # before it → 0.83 → B; months 2026-03, -04, -05 at 100 and nine empty: mean 25,
    # σ = √(3·100²/12 − 25²) ≈ 43.3 → cv 1.73 → Z
    assert lines[3] == (
        f'K-3,{inn_c},"ООО «Альфа, Бета»",300.00,0.00,,3,100.00,1,1,2026-03-22,2026-05-21,40,'
        "30,,,,active,unrated,B,Z"
    )
    assert len(lines) == 4
    parsed = list(csv.DictReader(io.StringIO("\n".join(lines))))
    assert parsed[2]["name"] == "ООО «Альфа, Бета»"


def test_cells_are_neutralised_only_where_they_are_text():
    assert [text_cell(v) for v in ("=A1", "+1", "-x", "@SUM", "\tx", "ok", "")] == [
        "'=A1",
        "'+1",
        "'-x",
        "'@SUM",
        "'\tx",
        "ok",
        "",
    ]
    from decimal import Decimal

    assert number_cell(Decimal("-0.25000000")) == "-0.25"
    assert number_cell(Decimal("1E+3")) == "1000"
    assert number_cell(Decimal("0E-8")) == "0"
    assert number_cell(None) == ""
    assert number_cell(1234567) == "1234567"


def test_export_retention_rows_and_the_headline(tmp_path):
    as_of = dt.date(2025, 12, 31) + dt.timedelta(days=180)  # December 2025 is just mature
    back, gone, young = ClientFactory(), ClientFactory(), ClientFactory()
    line(back, dt.date(2025, 12, 1), 100)
    line(back, dt.date(2025, 12, 2), 100)
    line(gone, dt.date(2025, 12, 20), 100)
    line(young, dt.date(2026, 1, 10), 100)
    line(young, dt.date(2026, 2, 10), 100)
    run(as_of)
    lines = export(tmp_path, "export_retention", as_of)
    assert lines == [
        "cohort_month,size,retained,ratio,mature",
        "2025-12,2,1,0.5,true",
        "2026-01,1,1,,false",
        "2026-02,0,0,,false",
        "2026-03,0,0,,false",
        "2026-04,0,0,,false",
        "2026-05,0,0,,false",
        "2026-06,0,0,,false",
        "last-12-mature,2,1,0.5,true",
    ]


@pytest.mark.parametrize("command", ["export_metrics", "export_retention"])
def test_an_export_without_a_stored_run_is_a_command_error(tmp_path, command):
    ClientFactory()
    run(day(-1))
    from segmentation.models import MetricRun

    MetricRun.objects.create(as_of=D, kind="full", trigger="manual", status="failed")
    with pytest.raises(CommandError, match=r"No metrics are stored as of 2026-06-30"):
        export(tmp_path, command, D)
    assert not (tmp_path / "out.csv").exists()


def test_a_bad_date_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="YYYY-MM-DD"):
        call_command("export_metrics", "--as-of", "30.06.2026", "--output", str(tmp_path / "x"))


def test_recompute_metrics_defaults_to_yesterday(monkeypatch):
    from segmentation.management.commands import recompute_metrics

    client = ClientFactory()
    line(client, day(-5), 100)
    monkeypatch.setattr(recompute_metrics.timezone, "localdate", lambda: dt.date(2026, 7, 1))
    out = io.StringIO()
    call_command("recompute_metrics", stdout=out)
    assert "Metrics as of 2026-06-30" in out.getvalue()
    from segmentation.selectors import run_for_as_of

    full = run_for_as_of(D)
    assert full is not None and full.kind == "full"
    call_command(
        "recompute_metrics", "--as-of", "2026-06-30", "--clients", str(client.pk), stdout=out
    )
    from segmentation.models import MetricRun

    incremental = MetricRun.objects.get(kind="incremental")
    assert (incremental.client_ids, incremental.base_run) == ([client.pk], full)
    assert run_for_as_of(D) == full  # whose rows the incremental run brought up to date


def test_recompute_metrics_reports_a_skipped_run():
    from segmentation.services import recompute_lock

    with recompute_lock() as held, pytest.raises(CommandError, match="Another recompute"):
        assert held
        call_command("recompute_metrics", "--as-of", "2026-06-30", stdout=io.StringIO())
