"""Seed 000's development metrics per team, manager, segment and the whole base.

Computed from the run's client frame in memory. Definitions the seed leaves
open, chosen here:
- averages (orders, SKUs, groups per client) are over clients with an order
  in the last 12 months: a prospect has no assortment to widen;
- a team counts the clients of its whole subtree, like a head's view;
- share of wallet is over rated clients: Σ revenue_12m / Σ wallet, and the
  median of their shares;
- movements compare with the latest stored run before D's month (the
  period is the month so far) and are credited to the owner at the end;
- development time is activity duration in [D−364, D]: performed by the
  manager or team members, on the segment's clients, or by everyone;
- potential coverage counts clients whose wallet was verified within the
  last 12 months, for ABC-A clients and for the other ABC classes;
- survey answers count when dated in [D−364, D], the same window as
  development time (never after D), and follow their client like the client
  metrics do: the owner at D, the owner's team and every team above it, the
  client's segment in the run, the whole base. Satisfaction = answers scoring
  4 or 5 of 5 ÷ satisfaction answers; NPS = (promoters 9–10 − detractors
  0–6) ÷ NPS answers × 100. Both are empty, not zero, without answers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd
from django.db.models import Count, Q
from django.utils import timezone

from crm.choices import ActivityPurpose
from crm.models import Activity, SurveyAnswer, SurveyKind
from segmentation.choices import RATED_SEGMENTS, ScopeKind
from segmentation.engine.owners import team_ancestors

PRIORITY = {str(segment): rank for rank, segment in enumerate(RATED_SEGMENTS)}
UP_BY_SHARE = {("B", "A"), ("D", "C")}


def classify_moves(start: pd.Series, end: pd.Series) -> pd.Series:
    """``up`` (share rose to the threshold, potential unchanged), ``potential`` (any
    other rise in priority), ``down``, or empty; unrated at either end is no move."""
    start_rank = start.map(PRIORITY)
    end_rank = end.map(PRIORITY)
    credited = pd.Series(False, index=start.index)
    for before, after in UP_BY_SHARE:
        credited |= (start == before) & (end == after)
    rated = start_rank.notna() & end_rank.notna()
    moves = np.select(
        [rated & credited, rated & (end_rank < start_rank), rated & (end_rank > start_rank)],
        ["up", "potential", "down"],
        default="",
    )
    return pd.Series(moves, index=start.index, dtype=object)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


# Per-client counts of survey answers, summed over the clients of each scope.
SURVEY_COLUMNS = (
    "satisfaction_answers",
    "satisfied",
    "nps_answers",
    "nps_promoters",
    "nps_detractors",
)
SATISFIED_FROM = 4  # of 5
PROMOTER_FROM = 9  # of 10
DETRACTOR_TO = 6  # of 10


def survey_frame(*, as_of: dt.date) -> pd.DataFrame:
    """Survey answer counts per client over [D−364, D], counted in SQL."""
    satisfaction = Q(kind=SurveyKind.SATISFACTION)
    nps = Q(kind=SurveyKind.NPS)
    rows = (
        SurveyAnswer.objects.filter(
            answered_on__gte=as_of - dt.timedelta(days=364), answered_on__lte=as_of
        )
        .values("client_id")
        .annotate(
            satisfaction_answers=Count("id", filter=satisfaction),
            satisfied=Count("id", filter=satisfaction & Q(score__gte=SATISFIED_FROM)),
            nps_answers=Count("id", filter=nps),
            nps_promoters=Count("id", filter=nps & Q(score__gte=PROMOTER_FROM)),
            nps_detractors=Count("id", filter=nps & Q(score__lte=DETRACTOR_TO)),
        )
        .values_list("client_id", *SURVEY_COLUMNS)
    )
    frame = pd.DataFrame(list(rows), columns=["client_id", *SURVEY_COLUMNS])
    return frame.astype("int64")


def _survey_metrics(rows: pd.DataFrame) -> dict[str, Any]:
    counts = {name: int(rows[name].sum()) for name in SURVEY_COLUMNS}
    answers = counts["nps_answers"]
    net = counts["nps_promoters"] - counts["nps_detractors"]
    return {
        **counts,
        "satisfaction_ratio": _ratio(counts["satisfied"], counts["satisfaction_answers"]),
        "nps": net / answers * 100 if answers else None,
    }


def _metrics(
    rows: pd.DataFrame, groups: pd.DataFrame, activities: pd.DataFrame, *, fresh_since: pd.Timestamp
) -> dict[str, Any]:
    buyers = rows[rows["orders_12m"] > 0]
    rated = rows[rows["wallet"].notna() & (rows["wallet"] > 0)]
    by_group = (
        groups[groups["client_id"].isin(rows["client_id"])]
        .groupby("group_id")[["revenue_12m", "orders_12m"]]
        .sum()
    )
    by_group = by_group[by_group["orders_12m"] > 0]
    checks = (by_group["revenue_12m"] / by_group["orders_12m"]).round(2)
    ytd_base = rows[rows["revenue_prev_ytd"] > 0]
    year_base = rows[rows["revenue_prev_12m"] > 0]
    fresh = rows["wallet_verified_on"].notna() & (rows["wallet_verified_on"] >= fresh_since)
    abc_a = rows["abc"] == "A"
    abc_rest = rows["abc"].isin(["B", "C"])
    moves = rows["move"]
    total_minutes = float(activities["minutes"].sum())
    development_minutes = float(activities.loc[activities["development"], "minutes"].sum())
    return {
        "clients": len(rows),
        "buying_clients": len(buyers),
        "avg_orders": buyers["orders_12m"].mean() if len(buyers) else None,
        "avg_skus": buyers["skus_12m"].mean() if len(buyers) else None,
        "avg_groups": buyers["groups_12m"].mean() if len(buyers) else None,
        "avg_check_by_group": {str(k): float(v) for k, v in checks.items()},
        "share_of_wallet_weighted": _ratio(rated["revenue_12m"].sum(), rated["wallet"].sum()),
        "share_of_wallet_median": rated["share_of_wallet"].median() if len(rated) else None,
        "grew_ytd": int((ytd_base["revenue_ytd"] > ytd_base["revenue_prev_ytd"]).sum()),
        "grew_ytd_base": len(ytd_base),
        "grew_12m": int((year_base["yoy_growth"] > 0).sum()),
        "grew_12m_base": len(year_base),
        "revenue_retention": _ratio(
            year_base["revenue_12m"].sum(), year_base["revenue_prev_12m"].sum()
        ),
        "moved_up": int((moves == "up").sum()),
        "moved_by_potential": int((moves == "potential").sum()),
        "moved_down": int((moves == "down").sum()),
        "development_time_share": _ratio(development_minutes, total_minutes),
        "coverage_abc_a": _ratio(float((fresh & abc_a).sum()), float(abc_a.sum())),
        "coverage_rest": _ratio(float((fresh & abc_rest).sum()), float(abc_rest.sum())),
        **_survey_metrics(rows),
    }


def activity_frame(*, as_of: dt.date) -> pd.DataFrame:
    """Logged minutes of the last 12 months: who, on which client, development or not."""
    start = timezone.make_aware(dt.datetime.combine(as_of - dt.timedelta(days=364), dt.time()))
    end = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
    rows = Activity.objects.filter(
        occurred_at__gte=start, occurred_at__lt=end, duration_minutes__isnull=False
    ).values_list("performed_by_id", "client_id", "purpose", "duration_minutes")
    frame = pd.DataFrame(list(rows), columns=["person_id", "client_id", "purpose", "minutes"])
    frame["development"] = frame["purpose"] == ActivityPurpose.DEVELOPMENT
    frame["minutes"] = frame["minutes"].astype("float64")
    return frame


FRAME_COLUMNS = (
    "client_id",
    "owner_id",
    "team_id",
    "segment",
    "rule_segment",
    "orders_12m",
    "skus_12m",
    "groups_12m",
    "wallet",
    "share_of_wallet",
    "revenue_12m",
    "revenue_prev_12m",
    "revenue_ytd",
    "revenue_prev_ytd",
    "yoy_growth",
    "wallet_verified_on",
    "abc",
)


def development_metrics(
    frame: pd.DataFrame,
    groups: pd.DataFrame,
    *,
    as_of: dt.date,
    start_segments: pd.Series | None,
    team_members: pd.DataFrame,
) -> pd.DataFrame:
    """Rows for the base, each segment, each manager and each team (with its subtree).

    ``start_segments`` maps client id → the rules' segment at the start of the period;
    ``team_members`` has (team_id, user_id) of members and heads.
    """
    # Only the columns the metrics read: every scope below copies its subset.
    rows = frame[[c for c in FRAME_COLUMNS if c in frame.columns]].copy()
    groups = groups[["client_id", "group_id", "revenue_12m", "orders_12m"]]
    if start_segments is None:
        rows["move"] = ""
    else:
        # Credit is reckoned on the rules' segments: a head's override is no development.
        end = rows["rule_segment"] if "rule_segment" in rows.columns else rows["segment"]
        rows["move"] = classify_moves(rows["client_id"].map(start_segments), end)
    surveys = survey_frame(as_of=as_of).set_index("client_id")
    for name in SURVEY_COLUMNS:
        rows[name] = rows["client_id"].map(surveys[name]).fillna(0).astype("int64")
    activities = activity_frame(as_of=as_of)
    fresh_since = pd.Timestamp(as_of - dt.timedelta(days=364))
    out: list[dict[str, Any]] = []

    def add(scope: str, subset: pd.DataFrame, acts: pd.DataFrame, **keys: Any) -> None:
        out.append(
            {"scope": scope, **keys, **_metrics(subset, groups, acts, fresh_since=fresh_since)}
        )

    add(ScopeKind.BASE, rows, activities)
    for segment, subset in rows.groupby("segment", sort=True):
        acts = activities[activities["client_id"].isin(subset["client_id"])]
        add(ScopeKind.SEGMENT, subset, acts, segment=segment)
    for manager_id, subset in rows.groupby("owner_id", sort=True):
        acts = activities[activities["person_id"] == manager_id]
        add(ScopeKind.MANAGER, subset, acts, manager_id=int(manager_id))
    ancestors = team_ancestors()
    with_team = rows.dropna(subset=["team_id"]).astype({"team_id": "int64"})
    expanded = with_team.merge(ancestors, on="team_id")
    people = team_members.merge(ancestors, on="team_id")
    for team_id, subset in expanded.groupby("ancestor_id", sort=True):
        persons = people.loc[people["ancestor_id"] == team_id, "user_id"]
        acts = activities[activities["person_id"].isin(persons)]
        add(ScopeKind.TEAM, subset.drop(columns=["ancestor_id"]), acts, team_id=int(team_id))
    return pd.DataFrame(out)
