"""A head's clients counted per owner for the home page, kept in the cache per owner.

A head of the whole base sees 50 000 clients. Counting them for the home
page (the lists of "my day", the team's books, the estimates waiting for a
head) took three scans of every client on every visit. Each of these
counts is a sum over the clients' owners, and one manager's work changes
only her own counts. So they are counted per owner, kept in the cache, and
counted again only for the owners whose clients changed:

- each entry is stamped with what it was counted from: the metric run and
  the last update of its rows, the day, the service standards, the owner's
  version and a global epoch; an entry with another stamp is not used;
- a change to a client, a touch, a task or an estimate gives the owners of
  the clients concerned a new version once it commits (``forget_clients``,
  called by crm.signals and by the bulk writers); writers of many clients at
  once (imports, the demo) start a new epoch (``forget_all``);
- an entry lives ``ENTRY_SECONDS`` at most. That bounds the one change no
  write announces: a reactivation attempt leaving its pause as time passes.

An administrator's counts are every user's. The clients a head sees through
grants outside the teams are few; they are counted on every visit. A site
without a shared cache (``settings.BOOK_COUNTS_CACHE`` off) counts
everything on every visit.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import astuple, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q

from accounts.models import User
from accounts.selectors import head_reach, teams_headed_by
from crm.models import Client, ClientGrant, WalletEstimate
from crm.selectors import day
from segmentation import selectors as work_lists
from segmentation.models import ClientMetricSnapshot, MetricRun

ENTRY_SECONDS = 600
_PREFIX = "book-counts:1"  # the number changes with the layout of an entry
_EPOCH_KEY = f"{_PREFIX}:epoch"


@dataclass(frozen=True)
class BookCounts:
    """One owner's clients (as one head sees them) and what the home page counts of them."""

    clients: int = 0
    overdue: int = 0
    reactivation: int = 0
    attempted: int = 0
    unrated: int = 0
    drafts: int = 0

    def __add__(self, other: BookCounts) -> BookCounts:
        return BookCounts(
            clients=self.clients + other.clients,
            overdue=self.overdue + other.overdue,
            reactivation=self.reactivation + other.reactivation,
            attempted=self.attempted + other.attempted,
            unrated=self.unrated + other.unrated,
            drafts=self.drafts + other.drafts,
        )


@dataclass(frozen=True)
class HeadCounts:
    """A head's counts: per owner, and their sum."""

    by_owner: dict[int | None, BookCounts]
    total: BookCounts

    def sections(self) -> dict[str, int]:
        """The counts of the run-based lists of "my day"."""
        return {key: getattr(self.total, key) for key in day.RUN_SECTIONS}


def enabled() -> bool:
    return bool(getattr(settings, "BOOK_COUNTS_CACHE", False))


def head_counts(
    *, user: User, run: MetricRun | None, today: dt.date, norms: dict[str, int]
) -> HeadCounts | None:
    """The counts of everything a head (or an administrator) sees, per owner; None for a
    user who heads no team.

    ``run``: the latest good metric run (None: no run yet, no list counts);
    ``norms``: the service standards (days between touches per segment).
    """
    if user.is_admin:  # every live client: every user's book
        everyone = User.objects.order_by("pk").values_list("pk", flat=True)
        by_owner = _owner_counts(everyone, run=run, today=today, norms=norms)
        return HeadCounts(by_owner=by_owner, total=sum(by_owner.values(), BookCounts()))
    team_ids = teams_headed_by(user=user)
    if not team_ids:
        return None
    reach = head_reach(user=user, team_ids=team_ids)
    by_owner = _owner_counts(reach.owners, run=run, today=today, norms=norms)
    if reach.granted is None or reach.granted:
        granted: Any = reach.granted
        if granted is None:  # too many grants for constants
            granted = ClientGrant.objects.active().filter(user=user).values("client_id")
        beyond = _count(run=run, today=today, norms=norms, granted=granted, outside=reach.owners)
        for owner_id, counts in beyond.items():
            by_owner[owner_id] = by_owner.get(owner_id, BookCounts()) + counts
    return HeadCounts(by_owner=by_owner, total=sum(by_owner.values(), BookCounts()))


def _run_mark(run: MetricRun | None) -> str:
    """What identifies a run's rows as they are now (an incremental run rewrites them)."""
    if run is None:
        return "-"
    updated_by = (run.counts or {}).get("updated_by_run", "")
    return f"{run.pk}:{run.started_at.timestamp()}:{updated_by}"


def _owner_counts(
    owners: Iterable[int], *, run: MetricRun | None, today: dt.date, norms: dict[str, int]
) -> dict[int | None, BookCounts]:
    """Per owner, from the cache where its entry is current, else counted (and kept)."""
    owners = list(owners)
    if not enabled():
        return _count(run=run, today=today, norms=norms, owners=owners)
    entry_keys = {owner: f"{_PREFIX}:{owner}" for owner in owners}
    version_keys = {owner: f"{_PREFIX}:v:{owner}" for owner in owners}
    try:
        found = cache.get_many([_EPOCH_KEY, *entry_keys.values(), *version_keys.values()])
    except Exception:  # a cache outage only costs the counting
        found = {}
    common = (found.get(_EPOCH_KEY, ""), _run_mark(run), today.isoformat(), sorted(norms.items()))
    result: dict[int | None, BookCounts] = {}
    stamps: dict[int, tuple[Any, ...]] = {}
    for owner in owners:
        stamp = (*common, found.get(version_keys[owner], ""))
        entry = found.get(entry_keys[owner])
        if entry is not None and entry[0] == stamp:
            result[owner] = BookCounts(*entry[1])
        else:
            stamps[owner] = stamp
    if stamps:
        counted = _count(run=run, today=today, norms=norms, owners=list(stamps))
        fresh: dict[int | None, BookCounts] = {
            owner: counted.get(owner, BookCounts()) for owner in stamps
        }
        result.update(fresh)
        with contextlib.suppress(Exception):
            cache.set_many(
                {entry_keys[o]: (stamps[o], astuple(fresh[o])) for o in stamps}, ENTRY_SECONDS
            )
    return result


def _count(
    *,
    run: MetricRun | None,
    today: dt.date,
    norms: dict[str, int],
    owners: list[int] | None = None,
    granted: Any = None,
    outside: tuple[int, ...] = (),
) -> dict[int | None, BookCounts]:
    """Live clients per owner, in three grouped queries (clients, draft estimates, the
    run's list conditions): those of ``owners``, or else those of ``granted`` (client
    ids) whose owner is not one of ``outside``."""

    def scope(path: str) -> Q:
        """The clients counted, as a condition on the client at ``path`` ("": the row)."""
        prefix = f"{path}__" if path else ""
        if owners is not None:
            return Q(**{f"{prefix}owner_id__any_of": owners})
        among = "any_of" if isinstance(granted, (tuple, list)) else "in"
        return Q(**{f"{path or 'pk'}__{among}": granted}) & ~Q(
            **{f"{prefix}owner_id__any_of": outside}
        )

    fields: dict[int | None, dict[str, int]] = {}
    per_owner = (
        Client.objects.filter(scope(""), merged_into__isnull=True)
        .order_by()
        .values_list("owner_id")
        .annotate(n=Count("id"))
    )
    for owner_id, n in per_owner:
        fields.setdefault(owner_id, {})["clients"] = n
    drafts = (
        WalletEstimate.objects.filter(scope("client"), status="draft")
        .filter(client__merged_into__isnull=True)
        .order_by()
        .values_list("client__owner_id")
        .annotate(n=Count("id"))
    )
    for owner_id, n in drafts:
        fields.setdefault(owner_id, {})["drafts"] = n
    if run is not None:
        work = (
            ClientMetricSnapshot.objects.filter(scope("client"), run=run)
            .filter(client__merged_into__isnull=True)
            .annotate(last_touch_at=work_lists.last_touch_subquery(today))
            .order_by()
            .values("client__owner_id")
            .annotate(**day.section_count_expressions(norms=norms, today=today))
        )
        for row in work:
            found: dict[str, Any] = dict(row)
            owner_fields = fields.setdefault(found.pop("client__owner_id"), {})
            owner_fields.update({key: int(value or 0) for key, value in found.items()})
    return {owner_id: BookCounts(**counts) for owner_id, counts in fields.items()}


def forget_owners(owner_ids: Iterable[int | None]) -> None:
    """Give these owners new versions once the current transaction commits, so their
    counts are counted again (a reader in between keeps reading the old rows)."""
    ids = {owner_id for owner_id in owner_ids if owner_id is not None}
    if not ids or not enabled():
        return

    def new_versions() -> None:
        token = uuid.uuid4().hex
        with contextlib.suppress(Exception):
            cache.set_many({f"{_PREFIX}:v:{owner_id}": token for owner_id in ids}, None)

    transaction.on_commit(new_versions)


def forget_clients(client_ids: Iterable[int | None]) -> None:
    """The counts of these clients' owners are to be counted again (one query)."""
    ids = {client_id for client_id in client_ids if client_id is not None}
    if ids and enabled():
        forget_owners(Client.objects.filter(pk__in=ids).values_list("owner_id", flat=True))


def forget_all() -> None:
    """Every owner's counts are to be counted again: after writes of many clients."""
    if not enabled():
        return

    def new_epoch() -> None:
        with contextlib.suppress(Exception):
            cache.set(_EPOCH_KEY, uuid.uuid4().hex, None)

    transaction.on_commit(new_epoch)
