"""Who owned each client at the end of D, and that owner's team.

The owner comes from the ``OwnershipChange`` ledger, so a rerun for an old
date credits the owner of that date, not today's. Team membership has no
history: a snapshot records the owner's team as it is when the run is made
(the team they are a member of, else the team they head; the lowest id
when several), which is what "team at the time" of a nightly run means.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from django.utils import timezone

from accounts.models import Team
from crm.models import OwnershipChange
from segmentation.engine.db import chunks


def owners_at(
    clients: pd.DataFrame, *, as_of: dt.date, client_ids: Sequence[int] | None
) -> pd.Series:
    """Owner id per row of ``clients`` (columns ``client_id``, ``owner_id`` = today's owner)."""
    fields = ("client_id", "changed_at", "from_user_id", "to_user_id", "id")
    changes = OwnershipChange.objects.all()
    if client_ids is None:
        rows = list(changes.values_list(*fields))
    else:
        rows = []
        for chunk in chunks(sorted(set(client_ids))):
            rows.extend(changes.filter(client_id__in=chunk).values_list(*fields))
    current = clients.set_index("client_id")["owner_id"]
    if not rows:
        return clients["owner_id"].copy()
    ledger = pd.DataFrame(rows, columns=list(fields))
    ledger["changed_at"] = pd.to_datetime(ledger["changed_at"], utc=True)
    end_of_day = timezone.make_aware(dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time()))
    cutoff = pd.Timestamp(end_of_day).tz_convert("UTC")
    ledger = ledger.sort_values(["client_id", "changed_at", "id"])
    before = ledger[ledger["changed_at"] < cutoff].drop_duplicates("client_id", keep="last")
    after = ledger[ledger["changed_at"] >= cutoff].drop_duplicates("client_id", keep="first")
    owner = current.copy()
    # A change after D names who owned the client before it.
    from_after = after.dropna(subset=["from_user_id"]).set_index("client_id")["from_user_id"]
    owner.loc[owner.index.intersection(from_after.index)] = from_after
    to_before = before.set_index("client_id")["to_user_id"]
    owner.loc[owner.index.intersection(to_before.index)] = to_before
    return clients["client_id"].map(owner).astype("int64")


def team_of_users(user_ids: pd.Series) -> pd.Series:
    """The owner's team: a member team first, else a headed team; lowest id wins."""
    membership = pd.DataFrame(
        list(Team.members.through.objects.values_list("user_id", "team_id")),
        columns=["user_id", "team_id"],
    )
    headed = pd.DataFrame(
        list(Team.objects.filter(head__isnull=False).values_list("head_id", "id")),
        columns=["user_id", "team_id"],
    )
    member_team = membership.groupby("user_id")["team_id"].min()
    head_team = headed.groupby("user_id")["team_id"].min()
    teams = user_ids.map(member_team)
    teams = teams.fillna(user_ids.map(head_team))
    return teams.astype("Int64")


def team_ancestors() -> pd.DataFrame:
    """Pairs (team_id, ancestor_id), each team its own ancestor: a team counts its subtree."""
    parents = dict(Team.objects.values_list("id", "parent_id"))
    pairs = []
    for team_id in parents:
        seen: set[int] = set()
        current: int | None = team_id
        while current is not None and current not in seen:
            seen.add(current)
            pairs.append((team_id, current))
            current = parents.get(current)
    return pd.DataFrame(pairs, columns=["team_id", "ancestor_id"], dtype="int64")
