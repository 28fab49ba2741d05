"""Golden tests of satisfaction and NPS in the team development metrics.

Satisfaction = answers scoring at least 4 of 5 ÷ satisfaction answers; NPS =
(promoters 9–10 − detractors 0–6) ÷ NPS answers × 100; answers dated in
[D−364, D] count, for the client's owner, the owner's teams up the tree, the
client's segment and the whole base.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction

import pytest

from crm.models import SurveyAnswer
from segmentation import services
from segmentation.models import DevelopmentMetric, MetricRun
from tests.factories import ClientFactory, ContactFactory
from tests.segmentation._data import D, day, line, run, snap, wallet

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Answer:
    client: str
    kind: str  # "satisfaction" (1–5) or "nps" (0–10)
    score: int
    offset: int  # days from D


# Boundary scores: satisfaction 3 / 4, NPS 6 / 7 / 8 / 9; dates D−364 (counts),
# D−365 and D+1 (do not).
ANSWERS = (
    Answer("key", "satisfaction", 3, 0),
    Answer("key", "satisfaction", 4, -364),
    Answer("key", "satisfaction", 5, -10),
    Answer("key", "satisfaction", 5, -365),
    Answer("key", "nps", 6, -30),
    Answer("key", "nps", 7, -100),
    Answer("key", "nps", 9, 0),
    Answer("key", "nps", 10, 1),
    Answer("unrated", "satisfaction", 4, -5),
    Answer("unrated", "nps", 8, -5),
    Answer("unrated", "nps", 10, -364),
    Answer("unrated", "nps", 0, -365),
    Answer("small", "satisfaction", 2, -1),
    Answer("small", "satisfaction", 4, -2),
    Answer("small", "nps", 0, -3),
    Answer("small", "nps", 9, -4),
    Answer("small", "satisfaction", 1, 30),
    Answer("far", "satisfaction", 5, -50),
    Answer("far", "nps", 10, -50),
)


@dataclass(frozen=True)
class Expected:
    satisfaction_answers: int
    satisfied: int
    satisfaction_ratio: Fraction | None
    nps_answers: int
    nps_promoters: int
    nps_detractors: int
    nps: Fraction | None


def expected(clients: set[str]) -> Expected:
    """The formulas of domain.md over the answers of ``clients`` inside [D−364, D]."""
    counted = [a for a in ANSWERS if a.client in clients and -364 <= a.offset <= 0]
    satisfaction = [a.score for a in counted if a.kind == "satisfaction"]
    nps = [a.score for a in counted if a.kind == "nps"]
    satisfied = sum(1 for score in satisfaction if score >= 4)
    promoters = sum(1 for score in nps if score >= 9)
    detractors = sum(1 for score in nps if score <= 6)
    return Expected(
        satisfaction_answers=len(satisfaction),
        satisfied=satisfied,
        satisfaction_ratio=Fraction(satisfied, len(satisfaction)) if satisfaction else None,
        nps_answers=len(nps),
        nps_promoters=promoters,
        nps_detractors=detractors,
        nps=Fraction(promoters - detractors, len(nps)) * 100 if nps else None,
    )


def assert_row(row: DevelopmentMetric, want: Expected) -> None:
    assert (row.satisfaction_answers, row.satisfied) == (
        want.satisfaction_answers,
        want.satisfied,
    )
    assert (row.nps_answers, row.nps_promoters, row.nps_detractors) == (
        want.nps_answers,
        want.nps_promoters,
        want.nps_detractors,
    )
    if want.satisfaction_ratio is None:
        assert row.satisfaction_ratio is None
    else:
        # Stored with 6 decimal places.
        assert row.satisfaction_ratio is not None
        assert abs(Fraction(row.satisfaction_ratio) - want.satisfaction_ratio) <= Fraction(
            1, 2 * 10**6
        )
    if want.nps is None:
        assert row.nps is None
    else:
        # Stored with 4 decimal places.
        assert row.nps is not None
        assert abs(Fraction(row.nps) - want.nps) <= Fraction(1, 2 * 10**4)


def answer(client, kind: str, score: int, on: dt.date, *, contact=None) -> SurveyAnswer:
    return SurveyAnswer.objects.create(
        client=client,
        contact=contact,
        kind=kind,
        score=score,
        answered_on=on,
        entered_by=client.owner,
    )


@pytest.fixture
def survey_base(company, km_anna, km_boris, outsider):
    """Anna: a key client (A) and an unrated one; Boris: an occasional one (D);
    the outsider, in another team: an unrated one."""
    clients = {
        "key": ClientFactory(owner=km_anna, external_id="S-key"),
        "unrated": ClientFactory(owner=km_anna, external_id="S-unrated"),
        "small": ClientFactory(owner=km_boris, external_id="S-small"),
        "far": ClientFactory(owner=outsider, external_id="S-far"),
    }
    # Wallets 10000 and 1000: threshold 1000 + 0.8 × 9000 = 8200.
    line(clients["key"], day(-20), 5000)  # share 0.5, high potential → A
    wallet(clients["key"], 10000)
    line(clients["small"], day(-20), 10)  # share 0.01, low potential → D
    wallet(clients["small"], 1000)
    line(clients["unrated"], day(-20), 300)
    contact = ContactFactory(client=clients["key"])
    for a in ANSWERS:
        answer(
            clients[a.client],
            a.kind,
            a.score,
            day(a.offset),
            contact=contact if a.client == "key" else None,
        )
    return clients


def test_satisfaction_and_nps_of_every_scope(survey_base, company, km_anna, km_boris, outsider):
    r = run(D)
    segments = {key: snap(r, client).segment for key, client in survey_base.items()}
    assert segments == {"key": "A", "unrated": "unrated", "small": "D", "far": "unrated"}
    rows = DevelopmentMetric.objects.filter(run=r)

    anna, boris = {"key", "unrated"}, {"small"}
    assert_row(rows.get(scope="manager", manager=km_anna), expected(anna))
    assert_row(rows.get(scope="manager", manager=km_boris), expected(boris))
    assert_row(rows.get(scope="manager", manager=outsider), expected({"far"}))
    # Moscow holds Anna and Boris; Sales counts its subtree, Moscow.
    assert_row(rows.get(scope="team", team=company["moscow"]), expected(anna | boris))
    assert_row(rows.get(scope="team", team=company["sales"]), expected(anna | boris))
    assert_row(rows.get(scope="team", team=company["other"]), expected({"far"}))
    for segment in ("A", "D", "unrated"):
        members = {key for key, code in segments.items() if code == segment}
        assert_row(rows.get(scope="segment", segment=segment), expected(members))
    assert_row(rows.get(scope="base"), expected(set(survey_base)))


def test_the_boundary_scores_and_dates(survey_base, km_anna):
    anna = DevelopmentMetric.objects.get(run=run(D), scope="manager", manager=km_anna)
    # Satisfaction 3 (on D), 4 (on D−364), 5 and 4 count; the 5 of D−365 does not:
    # 3 of 4 satisfied.
    assert (anna.satisfaction_answers, anna.satisfied) == (4, 3)
    # NPS 6, 7, 9 (on D), 8, 10 (on D−364) count; 10 after D and 0 on D−365 do not:
    # promoters 9 and 10, detractor 6; 7 and 8 are passives.
    assert (anna.nps_answers, anna.nps_promoters, anna.nps_detractors) == (5, 2, 1)
    assert_row(anna, expected({"key", "unrated"}))


def test_no_answers_leave_the_figures_empty_not_zero(company, km_anna, km_boris):
    quiet = ClientFactory(owner=km_boris)
    line(quiet, day(-5), 100)
    spoken = ClientFactory(owner=km_anna)
    answer(spoken, "satisfaction", 5, day(-1))  # satisfaction only: NPS stays empty
    answer(quiet, "nps", 10, day(-365))  # outside the window
    rows = DevelopmentMetric.objects.filter(run=run(D))
    boris = rows.get(scope="manager", manager=km_boris)
    assert (boris.satisfaction_answers, boris.satisfied, boris.satisfaction_ratio) == (0, 0, None)
    assert (boris.nps_answers, boris.nps_promoters, boris.nps_detractors, boris.nps) == (
        0,
        0,
        0,
        None,
    )
    anna = rows.get(scope="manager", manager=km_anna)
    assert_row(anna, Expected(1, 1, Fraction(1), 0, 0, 0, None))
    base = rows.get(scope="base")
    assert (base.satisfaction_answers, base.nps_answers, base.nps) == (1, 0, None)


def test_all_detractors_give_minus_100(company, km_anna):
    client = ClientFactory(owner=km_anna)
    for score in (0, 3, 6):
        answer(client, "nps", score, day(-1))
    base = DevelopmentMetric.objects.get(run=run(D), scope="base")
    assert (base.nps_answers, base.nps_detractors) == (3, 3)
    assert_row(base, Expected(0, 0, None, 3, 0, 3, Fraction(-100)))


def test_an_incremental_run_refreshes_the_survey_figures(
    survey_base, km_anna, django_capture_on_commit_callbacks
):
    full = run(D)
    before = DevelopmentMetric.objects.get(run=full, scope="manager", manager=km_anna)
    answer(survey_base["key"], "nps", 0, day(-2))
    answer(survey_base["key"], "satisfaction", 1, day(-2))
    with django_capture_on_commit_callbacks(execute=False) as queued:
        incremental = run(D, client_ids=[survey_base["key"].pk])
    # The incremental run rewrote its client's rows in the full run; until the
    # refresh, the full run keeps its figures.
    assert incremental.base_run == full
    kept = DevelopmentMetric.objects.get(run=full, scope="manager", manager=km_anna)
    assert (kept.nps_answers, kept.nps) == (before.nps_answers, before.nps)
    assert MetricRun.objects.get(pk=full.pk).counts["aggregates_pending"] is True
    assert len(queued) == 1
    queued[0]()  # the refresh task the commit queues, run in-process
    full = MetricRun.objects.get(pk=full.pk)
    assert full.counts["aggregates_pending"] is False
    assert services.metrics_aggregates_refresh(run_id=incremental.pk) == "not needed"
    refreshed = DevelopmentMetric.objects.get(run=full, scope="manager", manager=km_anna)
    anna = {"key", "unrated"}
    was = expected(anna)
    assert (refreshed.nps_answers, refreshed.nps_detractors) == (
        was.nps_answers + 1,
        was.nps_detractors + 1,
    )
    promoters, detractors, answers = (
        was.nps_promoters,
        was.nps_detractors + 1,
        was.nps_answers + 1,
    )
    assert_row(
        refreshed,
        Expected(
            was.satisfaction_answers + 1,
            was.satisfied,
            Fraction(was.satisfied, was.satisfaction_answers + 1),
            answers,
            promoters,
            detractors,
            Fraction(promoters - detractors, answers) * 100,
        ),
    )
