"""Small hand-made datasets for the engine's golden tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from crm.models import Product, ShipmentLine, WalletEstimate
from segmentation.models import ClientMetricSnapshot, MetricRun
from segmentation.services import metrics_recompute
from tests.factories import ProductFactory, ProductGroupFactory

D = dt.date(2026, 6, 30)  # the as-of date of most tests: a Tuesday, a month end


def day(offset: int, *, as_of: dt.date = D) -> dt.date:
    """D + offset days (offset ≤ 0 looks back)."""
    return as_of + dt.timedelta(days=offset)


_docs = iter(range(1, 10**9))


def line(
    client: Any,
    on: dt.date,
    amount: str | int | Decimal,
    *,
    doc: str | None = None,
    product: Any = None,
    qty: str | int = 1,
    cost: str | int | None = None,
) -> ShipmentLine:
    """One shipment line; a new document unless ``doc`` names one."""
    return ShipmentLine.objects.create(
        client=client,
        doc_number=doc or f"DOC-{next(_docs)}",
        doc_date=on,
        product=product or default_product(),
        qty=Decimal(qty),
        amount=Decimal(amount),
        cost=None if cost is None else Decimal(cost),
    )


def default_product() -> Any:
    product = Product.objects.filter(sku="SKU-DEFAULT").first()
    return product or ProductFactory(sku="SKU-DEFAULT", group=ProductGroupFactory(name="Default"))


def wallet(
    client: Any,
    amount: str | int,
    *,
    year: int = D.year,
    status: str = "verified",
    group=None,
    reviewed_at: dt.datetime | None = None,
) -> WalletEstimate:
    return WalletEstimate.objects.create(
        client=client,
        kind="wallet",
        year=year,
        amount=Decimal(amount),
        status=status,
        product_group=group,
        reviewed_at=reviewed_at
        or (timezone.make_aware(dt.datetime(2026, 1, 15, 12)) if status == "verified" else None),
    )


def run(as_of: dt.date = D, **kwargs) -> MetricRun:
    result = metrics_recompute(as_of=as_of, trigger=kwargs.pop("trigger", "manual"), **kwargs)
    assert result.status == "succeeded", result.error
    return result


def snap(run_: MetricRun, client: Any) -> ClientMetricSnapshot:
    """The client's row as the run left it (an incremental run: in its base run)."""
    return ClientMetricSnapshot.objects.get(run_id=run_.rows_run_id, client=client)
