"""The client card: holdings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from accounts.models import User
from accounts.selectors import clients_visible_among
from crm.models import Activity, Client
from segmentation.models import (
    ClientMetricSnapshot,
    MetricRun,
)

# Touches listed across a holding.
HOLDING_ACTIVITIES = 10


@dataclass(frozen=True)
class HoldingRow:
    client: Client
    revenue_12m: Decimal | None
    wallet: Decimal | None

    @property
    def share(self) -> Decimal | None:
        if self.wallet is None or self.wallet <= 0 or self.revenue_12m is None:
            return None
        return self.revenue_12m / self.wallet

    @property
    def percent(self) -> Decimal | None:
        share = self.share
        return None if share is None else (share * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class HoldingTotals:
    clients: int
    revenue_12m: Decimal
    wallet: Decimal | None
    revenue_with_wallet: Decimal

    @property
    def share(self) -> Decimal | None:
        """Revenue of the clients with a wallet over the sum of their wallets."""
        if self.wallet is None or self.wallet <= 0:
            return None
        return self.revenue_with_wallet / self.wallet

    @property
    def percent(self) -> Decimal | None:
        share = self.share
        return None if share is None else (share * 100).quantize(Decimal("0.1"))


def _totals(rows: Iterable[HoldingRow]) -> HoldingTotals:
    rows = list(rows)
    with_wallet = [r for r in rows if r.wallet is not None and r.wallet > 0]
    return HoldingTotals(
        clients=len(rows),
        revenue_12m=sum((r.revenue_12m or Decimal(0) for r in rows), Decimal(0)),
        wallet=sum((r.wallet for r in with_wallet if r.wallet is not None), Decimal(0))
        if with_wallet
        else None,
        revenue_with_wallet=sum((r.revenue_12m or Decimal(0) for r in with_wallet), Decimal(0)),
    )


@dataclass(frozen=True)
class HoldingRollup:
    """A parent's visible subsidiaries with their figures from the latest run."""

    run: MetricRun | None
    own: HoldingRow
    subsidiaries: list[HoldingRow]
    activities: list[Activity] = field(default_factory=list)

    @property
    def subsidiaries_total(self) -> HoldingTotals:
        return _totals(self.subsidiaries)

    @property
    def group_total(self) -> HoldingTotals:
        return _totals([self.own, *self.subsidiaries])


def holding_rollup(
    *,
    user: User,
    client: Client,
    run: MetricRun | None,
    snapshot: ClientMetricSnapshot | None,
) -> HoldingRollup | None:
    """None unless the client has subsidiaries the user may see.

    Figures come from the latest good run (revenue_12m and the verified wallet
    of each company); a subsidiary outside the user's scope is neither listed
    nor counted. At most four queries.
    """
    subsidiaries = clients_visible_among(
        user=user,
        clients=list(
            Client.objects.filter(parent=client, merged_into__isnull=True)
            .select_related("owner")
            .order_by("name", "id")
        ),
    )
    if not subsidiaries:
        return None
    figures: dict[int, tuple[Decimal, Decimal | None]] = {}
    if run is not None:
        figures = {
            client_id: (revenue, wallet)
            for client_id, revenue, wallet in ClientMetricSnapshot.objects.filter(
                run=run, client_id__in=[s.pk for s in subsidiaries]
            ).values_list("client_id", "revenue_12m", "wallet")
        }
        if snapshot is not None:
            figures[client.pk] = (snapshot.revenue_12m, snapshot.wallet)

    def row(company: Client) -> HoldingRow:
        revenue, wallet = figures.get(company.pk, (None, None))
        return HoldingRow(client=company, revenue_12m=revenue, wallet=wallet)

    activities = list(
        Activity.objects.filter(client_id__in=[client.pk, *(s.pk for s in subsidiaries)])
        .select_related("client", "performed_by", "contact")
        .order_by("-occurred_at", "-id")[:HOLDING_ACTIVITIES]
    )
    return HoldingRollup(
        run=run,
        own=row(client),
        subsidiaries=[row(s) for s in subsidiaries],
        activities=activities,
    )
