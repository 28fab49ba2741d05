"""Share of wallet on one client's card: our revenue over the trailing 12
months against the client's latest verified annual wallet (domain.md)."""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import F, Sum

from crm.choices import EstimateKind, EstimateStatus, ShareBand
from crm.models import Client, ProductGroup, ShipmentLine, WalletEstimate


def share_band(share: Decimal | None) -> str:
    """``indifference`` < 1 % ≤ ``secondary`` < 10 % ≤ ``main`` < 50 % ≤ ``dominant``."""
    if share is None:
        return ""
    secondary, main, dominant = (Decimal(str(limit)) for limit in settings.SHARE_BAND_LIMITS)
    if share >= dominant:
        return ShareBand.DOMINANT
    if share >= main:
        return ShareBand.MAIN
    if share >= secondary:
        return ShareBand.SECONDARY
    return ShareBand.INDIFFERENCE


def latest_verified(estimates: list[WalletEstimate], *, year: int) -> WalletEstimate | None:
    """The greatest year not after ``year``; within it, the one verified last."""
    candidates = [e for e in estimates if e.status == EstimateStatus.VERIFIED and e.year <= year]
    if not candidates:
        return None
    return max(candidates, key=lambda e: (e.year, e.reviewed_at or e.entered_at, e.pk))


@dataclass(frozen=True)
class ShareOfWallet:
    product_group: ProductGroup | None
    revenue_12m: Decimal
    wallet: WalletEstimate | None
    pending: WalletEstimate | None  # a newer draft, shown as unverified

    @property
    def share(self) -> Decimal | None:
        if self.wallet is None or self.wallet.amount <= 0:
            return None
        return self.revenue_12m / self.wallet.amount

    @property
    def band(self) -> str:
        return share_band(self.share)

    @property
    def band_label(self) -> str:
        return str(ShareBand(self.band).label) if self.band else ""

    @property
    def percent(self) -> Decimal | None:
        share = self.share
        return None if share is None else (share * 100).quantize(Decimal("0.1"))


def client_share_of_wallet(
    *, client: Client, as_of: dt.date
) -> tuple[ShareOfWallet, list[ShareOfWallet]]:
    """Overall share and one row per product group with revenue or a group wallet.

    Two queries: revenue by group over [D−364, D], and the client's wallet
    estimates.
    """
    window = (as_of - dt.timedelta(days=364), as_of)
    revenue_by_group: dict[int, Decimal] = {}
    groups: dict[int, ProductGroup] = {}
    for row in (
        ShipmentLine.objects.filter(client=client, doc_date__range=window)
        .values("product__group_id", "product__group__name")
        .annotate(revenue=Sum("amount"))
    ):
        group_id = row["product__group_id"]
        revenue_by_group[group_id] = row["revenue"] or Decimal(0)
        groups[group_id] = ProductGroup(pk=group_id, name=row["product__group__name"])
    estimates = list(
        WalletEstimate.objects.filter(client=client, kind=EstimateKind.WALLET).select_related(
            "product_group"
        )
    )
    by_group: dict[int | None, list[WalletEstimate]] = {}
    for estimate in estimates:
        by_group.setdefault(estimate.product_group_id, []).append(estimate)
        if estimate.product_group is not None:
            groups.setdefault(estimate.product_group.pk, estimate.product_group)

    def summary(group_id: int | None, revenue: Decimal) -> ShareOfWallet:
        own = by_group.get(group_id, [])
        verified = latest_verified(own, year=as_of.year)
        drafts = [
            e
            for e in own
            if e.status == EstimateStatus.DRAFT
            and e.year <= as_of.year
            and (verified is None or (e.year, e.entered_at) >= (verified.year, verified.entered_at))
        ]
        pending = max(drafts, key=lambda e: (e.year, e.entered_at, e.pk)) if drafts else None
        group = groups.get(group_id) if group_id is not None else None
        return ShareOfWallet(group, revenue, verified, pending)

    overall = summary(None, sum(revenue_by_group.values(), Decimal(0)))
    rows = [
        summary(group_id, revenue_by_group.get(group_id, Decimal(0)))
        for group_id in sorted(groups, key=lambda g: groups[g].name)
    ]
    return overall, rows


MIN_PEERS = 5


@dataclass(frozen=True)
class WalletSuggestion:
    """A wallet derived from verified peers: median wallet per outlet × outlets."""

    amount: Decimal
    per_outlet: Decimal
    outlets: int
    peers: int
    industry: str
    region: str  # empty when widened to all regions


def _peer_wallets_per_outlet(
    *, industry: str, region: str, exclude_id: int, year: int
) -> list[Decimal]:
    """Latest verified overall wallet per outlet of each peer (one query)."""
    peers = Client.objects.filter(industry=industry, outlets__gt=0).exclude(pk=exclude_id)
    if region:
        peers = peers.filter(region=region)
    latest: dict[int, Decimal] = {}
    rows = (
        WalletEstimate.objects.filter(
            client__in=peers,
            kind=EstimateKind.WALLET,
            status=EstimateStatus.VERIFIED,
            product_group__isnull=True,
            year__lte=year,
        )
        .order_by("client_id", "year", F("reviewed_at").asc(nulls_first=True), "pk")
        .values_list("client_id", "client__outlets", "amount")
    )
    for client_id, outlets, amount in rows:
        latest[client_id] = amount / (outlets or 1)  # ordered: the last one wins
    return list(latest.values())


def suggested_wallet(*, client: Client, as_of: dt.date) -> WalletSuggestion | None:
    """What the client's wallet probably is, judged by verified clients like it.

    Managers under-estimate (seed 001): the suggestion is the median wallet
    per outlet of verified clients of the same industry in the same region,
    widened to all regions when the region has fewer than five.
    """
    if not client.outlets or not client.industry:
        return None
    region = client.region
    values = _peer_wallets_per_outlet(
        industry=client.industry, region=region, exclude_id=client.pk, year=as_of.year
    )
    if len(values) < MIN_PEERS:
        region = ""
        values = _peer_wallets_per_outlet(
            industry=client.industry, region="", exclude_id=client.pk, year=as_of.year
        )
    if len(values) < MIN_PEERS:
        return None
    per_outlet = Decimal(str(statistics.median(values))).quantize(Decimal("0.01"))
    return WalletSuggestion(
        amount=per_outlet * client.outlets,
        per_outlet=per_outlet,
        outlets=client.outlets,
        peers=len(values),
        industry=client.industry,
        region=region,
    )


def below_suggestion(*, estimate: WalletEstimate, suggestion: WalletSuggestion | None) -> bool:
    """An overall wallet under half of the suggestion goes to the head's review."""
    return (
        suggestion is not None
        and estimate.kind == EstimateKind.WALLET
        and estimate.product_group_id is None
        and estimate.amount < suggestion.amount / 2
    )
