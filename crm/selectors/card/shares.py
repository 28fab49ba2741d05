"""The client card: shares and white space."""

from __future__ import annotations

import contextlib
import hashlib
import math
from dataclasses import dataclass
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Count
from django.utils.translation import gettext as _

from crm.choices import ShareBand
from crm.models import Client
from segmentation.models import (
    ClientGroupShare,
    ClientMetricSnapshot,
    MetricRun,
)

# White space: a product group counts as "bought by most peers" when MORE than
# this fraction of the client's peers (same segment and industry in the run)
# bought it over the run's trailing 12 months.
WHITE_SPACE_MIN_SHARE = Decimal("0.5")
# Below this many peers a majority says nothing: no white space is shown.
WHITE_SPACE_MIN_PEERS = 3
# How long a run's cohort counts stay cached (a run's rows never change).
WHITE_SPACE_CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class GroupShare:
    """The client's revenue, wallet and share of wallet in one product group (a run's row)."""

    group_id: int
    name: str
    revenue_12m: Decimal
    wallet: Decimal | None
    share: Decimal | None
    band: str  # by the group's own limits where the run's rule set has them
    high_share: bool = False  # at or above the group's share threshold in that run

    @property
    def percent(self) -> Decimal | None:
        return None if self.share is None else (self.share * 100).quantize(Decimal("0.1"))

    @property
    def band_label(self) -> str:
        return str(ShareBand(self.band).label) if self.band else ""


def client_group_shares(*, client: Client, run: MetricRun | None) -> list[GroupShare]:
    """The client's figures per product group in ``run``, biggest revenue first (one query)."""
    if run is None:
        return []
    rows = (
        ClientGroupShare.objects.filter(run=run, client=client)
        .select_related("product_group")
        .order_by("-revenue_12m", "product_group__name", "product_group_id")
    )
    return [
        GroupShare(
            group_id=row.product_group_id,
            name=row.product_group.name,
            revenue_12m=row.revenue_12m,
            wallet=row.wallet,
            share=row.share_of_wallet,
            band=row.share_band,
            high_share=row.high_share,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class WhiteSpaceGroup:
    group_id: int
    name: str
    buyers: int
    peers: int

    @property
    def share(self) -> Decimal:
        return Decimal(self.buyers) / Decimal(self.peers)

    @property
    def percent(self) -> int:
        return int((self.share * 100).to_integral_value())


@dataclass(frozen=True)
class WhiteSpace:
    """Product groups most peers buy and the client does not.

    ``reason`` says why nothing could be worked out (no run, no industry,
    too few peers); empty when ``groups`` is the answer.
    """

    peers: int
    groups: list[WhiteSpaceGroup]
    reason: str = ""
    segment: str = ""
    industry: str = ""
    min_share: Decimal = WHITE_SPACE_MIN_SHARE
    min_peers: int = WHITE_SPACE_MIN_PEERS

    @property
    def available(self) -> bool:
        return not self.reason


def _cohort_groups(
    run: MetricRun, segment: str, industry: str
) -> tuple[int, list[tuple[int, str, int]]]:
    """(clients, [(group id, name, buyers)]) of a run's segment × industry.

    The same for every card of that cohort, and a stored run never changes:
    cached, keyed by the run (and when it started, so a reused id never
    matches an old entry). Two grouped queries on a miss; a cache that is
    down only costs those queries.
    """
    digest = hashlib.sha1(f"{segment}|{industry}".encode()).hexdigest()
    key = f"card:white-space:{run.pk}:{run.started_at.timestamp()}:{digest}"
    try:
        cached = cache.get(key)
    except Exception:  # a cache outage never breaks the card
        cached = None
    if cached is not None:
        return cached[0], [tuple(row) for row in cached[1]]
    cohort = ClientMetricSnapshot.objects.filter(
        run=run, segment=segment, client__industry=industry
    )
    size = cohort.count()
    rows = (
        ClientGroupShare.objects.filter(
            run=run, skus_12m__gt=0, client_id__in=cohort.values("client_id")
        )
        .values("product_group_id", "product_group__name")
        .annotate(buyers=Count("client_id", distinct=True))
        .order_by("-buyers", "product_group__name", "product_group_id")
    )
    groups = [(r["product_group_id"], r["product_group__name"], r["buyers"]) for r in rows]
    with contextlib.suppress(Exception):
        cache.set(key, (size, groups), WHITE_SPACE_CACHE_SECONDS)
    return size, groups


def client_white_space(
    *, client: Client, run: MetricRun | None, snapshot: ClientMetricSnapshot | None
) -> WhiteSpace:
    """Groups the client did not buy in the run's 12 months that more than
    WHITE_SPACE_MIN_SHARE of its peers did.

    Peers: the other clients with the same segment in the run and the same
    industry. "Bought" means a positive line of the group within the run's
    trailing 12 months (``skus_12m > 0``, as ``groups_12m`` counts). Set-wise:
    one count of peers and one grouped count of buyers per group over the
    run's group rows, whatever the number of peers.
    """
    if run is None or snapshot is None:
        return WhiteSpace(0, [], reason=_("No metric run has covered this client yet."))
    if not client.industry:
        return WhiteSpace(
            0, [], reason=_("The client's industry is not set, so it has no peers to compare.")
        )
    cohort_size, bought_in_cohort = _cohort_groups(run, snapshot.segment, client.industry)
    peer_count = cohort_size - 1  # the client is one of its segment and industry
    if peer_count < WHITE_SPACE_MIN_PEERS:
        return WhiteSpace(
            peer_count,
            [],
            reason=_(
                "Too few clients of the same segment and industry to compare with "
                "(%(count)s; at least %(minimum)s are needed)."
            )
            % {"count": peer_count, "minimum": WHITE_SPACE_MIN_PEERS},
            segment=snapshot.segment,
            industry=client.industry,
        )
    # More than min_share of the peers: buyers > peers × share, i.e. buyers > floor(…).
    at_least_more_than = math.floor(Decimal(peer_count) * WHITE_SPACE_MIN_SHARE)
    bought_by_client = set(
        ClientGroupShare.objects.filter(run=run, client=client, skus_12m__gt=0).values_list(
            "product_group_id", flat=True
        )
    )
    # Of groups the client did not buy, the cohort's buyers are all peers.
    groups = [
        WhiteSpaceGroup(group_id=group_id, name=name, buyers=buyers, peers=peer_count)
        for group_id, name, buyers in bought_in_cohort
        if group_id not in bought_by_client and buyers > at_least_more_than
    ]
    return WhiteSpace(peer_count, groups, segment=snapshot.segment, industry=client.industry)
