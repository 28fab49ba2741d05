"""The client card: header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from crm.choices import GrantReason, ShareBand
from crm.models import Client, ClientGrant
from segmentation.choices import LifecycleStatus, Segment, ServingRole
from segmentation.models import (
    ClientMetricSnapshot,
    MetricRun,
    SegmentRuleSet,
)
from segmentation.selectors import latest_successful_run

_UNRATED_COLOUR = "#b0b5bd"
_COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}")


@dataclass(frozen=True)
class SegmentFacts:
    """A segment with its display settings and service standard from the rules in force."""

    code: str
    name: str
    colour: str
    strategy: str
    max_days_between_touches: int | None
    serving_role: str
    serving_role_label: str
    key_account_plan_required: bool | None
    review_cadence_days: int | None

    @property
    def rated(self) -> bool:
        return self.code != Segment.UNRATED


@dataclass(frozen=True)
class ShareGauge:
    """Where a share of wallet falls on the band scale (domain.md "loyalty").

    The four bands get equal widths on the gauge, so 0.5 % and 40 % are both
    readable; ``position`` is the marker's place in percent of the width.
    """

    share: Decimal
    band: str
    position: Decimal
    zones: tuple[tuple[str, str, str], ...]  # (band, label, range text)

    @property
    def percent(self) -> Decimal:
        return (self.share * 100).quantize(Decimal("0.1"))

    @property
    def band_label(self) -> str:
        return str(ShareBand(self.band).label) if self.band else ""


def _band_limits() -> tuple[Decimal, Decimal, Decimal]:
    secondary, main, dominant = (Decimal(str(limit)) for limit in settings.SHARE_BAND_LIMITS)
    return secondary, main, dominant


def _percent_text(value: Decimal) -> str:
    return format((value * 100).normalize(), "f")


def share_gauge(share: Decimal | None, band: str) -> ShareGauge | None:
    """The gauge of a share (None without a wallet)."""
    if share is None:
        return None
    secondary, main, dominant = _band_limits()
    edges = [Decimal(0), secondary, main, dominant, Decimal(1)]
    bands = [ShareBand.INDIFFERENCE, ShareBand.SECONDARY, ShareBand.MAIN, ShareBand.DOMINANT]
    clipped = min(max(share, Decimal(0)), Decimal(1))
    position = Decimal(100)
    for index in range(4):
        low, high = edges[index], edges[index + 1]
        if clipped < high or index == 3:
            inside = (clipped - low) / (high - low) if high > low else Decimal(0)
            position = (Decimal(index) + inside) * 25
            break
    zones = (
        (bands[0], str(bands[0].label), f"< {_percent_text(secondary)} %"),
        (
            bands[1],
            str(bands[1].label),
            f"{_percent_text(secondary)}–{_percent_text(main)} %",
        ),
        (bands[2], str(bands[2].label), f"{_percent_text(main)}–{_percent_text(dominant)} %"),
        (bands[3], str(bands[3].label), f"≥ {_percent_text(dominant)} %"),
    )
    return ShareGauge(
        share=share,
        band=band,
        position=min(position, Decimal(100)).quantize(Decimal("0.1")),
        zones=zones,
    )


def segment_facts(rule_set: SegmentRuleSet | None, code: str) -> SegmentFacts:
    """The segment's name, colour, strategy and service standard from ``rule_set``."""
    if code == Segment.UNRATED or rule_set is None or code not in (rule_set.segments or {}):
        label = str(Segment(code).label) if code in Segment.values else code
        return SegmentFacts(
            code=code,
            name=label,
            colour=_UNRATED_COLOUR,
            strategy="",
            max_days_between_touches=None,
            serving_role="",
            serving_role_label="",
            key_account_plan_required=None,
            review_cadence_days=None,
        )
    values = rule_set.segments[code]
    role = str(values.get("serving_role", ""))
    roles = dict(ServingRole.choices)
    return SegmentFacts(
        code=code,
        name=rule_set.segment_name(code),
        colour=_safe_colour(str(values.get("colour", ""))),
        strategy=rule_set.segment_strategy(code),
        max_days_between_touches=_int_or_none(values.get("max_days_between_touches")),
        serving_role=role,
        serving_role_label=str(roles.get(role, role)),
        key_account_plan_required=bool(values.get("key_account_plan_required")),
        review_cadence_days=_int_or_none(values.get("review_cadence_days")),
    )


def _safe_colour(value: str) -> str:
    """A colour fit for a style attribute (a head types it; nothing else gets through)."""
    return value if _COLOUR.fullmatch(value) else _UNRATED_COLOUR


def _int_or_none(value: object) -> int | None:
    try:
        return None if value is None or value == "" else int(str(value))
    except ValueError:
        return None


@dataclass(frozen=True)
class CardHeader:
    """What the top of the card says about a client, from the latest good run."""

    run: MetricRun | None
    snapshot: ClientMetricSnapshot | None
    segment: SegmentFacts | None
    gauge: ShareGauge | None
    co_owners: list[ClientGrant]
    other_grants: list[ClientGrant]

    @property
    def status_label(self) -> str:
        if self.snapshot is None:
            return ""
        return str(LifecycleStatus(self.snapshot.status).label)


def _rules_in_force() -> SegmentRuleSet | None:
    try:
        return SegmentRuleSet.objects.active()
    except SegmentRuleSet.DoesNotExist:
        return None


def client_metrics(*, client: Client) -> tuple[MetricRun | None, ClientMetricSnapshot | None]:
    """The latest good run and the client's row in it (either may be missing)."""
    run = latest_successful_run()
    if run is None:
        return None, None
    snapshot = ClientMetricSnapshot.objects.filter(run=run, client=client).first()
    return run, snapshot


def card_header(
    *,
    client: Client,
    run: MetricRun | None,
    snapshot: ClientMetricSnapshot | None,
) -> CardHeader:
    """Segment (colour, strategy, service standard), status, loyalty gauge and the
    people working on the client. Two queries (grants; the rules when rated)."""
    grants = list(
        ClientGrant.objects.active()
        .filter(client=client)
        .select_related("user")
        .order_by("reason", "user__last_name", "user__first_name", "user_id")
    )
    segment = None
    gauge = None
    if snapshot is not None:
        rule_set = _rules_in_force() if snapshot.segment != Segment.UNRATED else None
        segment = segment_facts(rule_set, snapshot.segment)
        gauge = share_gauge(snapshot.share_of_wallet, snapshot.share_band)
    return CardHeader(
        run=run,
        snapshot=snapshot,
        segment=segment,
        gauge=gauge,
        co_owners=[g for g in grants if g.reason == GrantReason.CO_OWNER],
        other_grants=[g for g in grants if g.reason != GrantReason.CO_OWNER],
    )
