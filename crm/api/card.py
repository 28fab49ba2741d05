"""/api/v1/clients/{id}/overview/: what the card's header and overview tab show.

The same reads as the page (``crm.selectors.card``) and the same scope: a
client the user may not see answers 404, and the holding roll-up counts only
the subsidiaries the user may see.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm.api.views import LanguageOfUserMixin
from crm.models import Client
from crm.selectors import card


class _OneObjectSchema(AutoSchema):
    """The overview is one object, though the router serves it on a list route."""

    def _is_list_view(self, serializer: Any = None) -> bool:
        return False


def _money(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _fraction(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=24, decimal_places=8, **kwargs)


class _PersonSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _CompanySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class _SegmentSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    colour = serializers.CharField()
    strategy = serializers.CharField()
    max_days_between_touches = serializers.IntegerField(allow_null=True)
    serving_role = serializers.CharField(allow_blank=True)
    key_account_plan_required = serializers.BooleanField(allow_null=True)
    review_cadence_days = serializers.IntegerField(allow_null=True)


class _HeaderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    inn = serializers.CharField(allow_blank=True)
    industry = serializers.CharField(allow_blank=True)
    owner = _PersonSerializer()
    co_owners = _PersonSerializer(many=True)
    parent = _CompanySerializer(allow_null=True)
    run_as_of = serializers.DateField(
        allow_null=True, help_text="The as-of date of the latest successful metric run."
    )
    in_run = serializers.BooleanField(help_text="Whether that run covered the client.")
    segment = _SegmentSerializer(allow_null=True)
    status = serializers.CharField(allow_blank=True)
    revenue_12m = _money(allow_null=True)
    wallet = _money(allow_null=True)
    share_of_wallet = _fraction(allow_null=True)
    share_band = serializers.CharField(allow_blank=True)


class _SeriesSerializer(serializers.Serializer):
    group_id = serializers.IntegerField()
    name = serializers.CharField()
    values = serializers.ListField(child=_money())
    total = _money()


class _ChartSerializer(serializers.Serializer):
    months = serializers.ListField(
        child=serializers.CharField(), help_text="Calendar months, YYYY-MM, oldest first."
    )
    series = _SeriesSerializer(many=True)
    totals = serializers.ListField(child=_money())


class _GroupShareSerializer(serializers.Serializer):
    group_id = serializers.IntegerField()
    name = serializers.CharField()
    revenue_12m = _money()
    wallet = _money(allow_null=True)
    share_of_wallet = _fraction(allow_null=True, source="share")
    share_band = serializers.CharField(allow_blank=True, source="band")
    high_share = serializers.BooleanField(
        help_text="At or above the group's share threshold (the rule set's own for the group)."
    )


class _WhiteSpaceGroupSerializer(serializers.Serializer):
    group_id = serializers.IntegerField()
    name = serializers.CharField()
    buyers = serializers.IntegerField()
    share_of_peers = _fraction(source="share")


class _WhiteSpaceSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    reason = serializers.CharField(allow_blank=True)
    peers = serializers.IntegerField()
    min_share = _fraction(help_text="More than this fraction of the peers must buy a group.")
    groups = _WhiteSpaceGroupSerializer(many=True)


class _HoldingRowSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="client.pk")
    name = serializers.CharField(source="client.name")
    revenue_12m = _money(allow_null=True)
    wallet = _money(allow_null=True)
    share_of_wallet = _fraction(allow_null=True, source="share")


class _HoldingTotalsSerializer(serializers.Serializer):
    clients = serializers.IntegerField()
    revenue_12m = _money()
    wallet = _money(allow_null=True)
    share_of_wallet = _fraction(allow_null=True, source="share")


class _HoldingActivitySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    client_id = serializers.IntegerField()
    kind = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    summary = serializers.CharField()


class _HoldingSerializer(serializers.Serializer):
    subsidiaries = _HoldingRowSerializer(many=True)
    subsidiaries_total = _HoldingTotalsSerializer()
    group_total = _HoldingTotalsSerializer()
    activities = _HoldingActivitySerializer(many=True)


class ClientOverviewSerializer(serializers.Serializer):
    header = _HeaderSerializer()
    chart = _ChartSerializer()
    group_shares = _GroupShareSerializer(many=True)
    white_space = _WhiteSpaceSerializer()
    holding = _HoldingSerializer(allow_null=True)


def client_overview(*, user: User, client: Client) -> dict[str, Any]:
    """The overview of one client the user may see, as plain data for the serializer."""
    run, snapshot = card.client_metrics(client=client)
    header = card.card_header(client=client, run=run, snapshot=snapshot)
    chart = card.client_revenue_chart(client=client, today=timezone.localdate())
    segment = header.segment
    return {
        "header": {
            "id": client.pk,
            "name": client.name,
            "inn": client.inn,
            "industry": client.industry,
            "owner": {"id": client.owner_id, "name": str(client.owner)},
            "co_owners": [{"id": g.user_id, "name": str(g.user)} for g in header.co_owners],
            "parent": {"id": client.parent.pk, "name": client.parent.name}
            if client.parent
            else None,
            "run_as_of": run.as_of if run else None,
            "in_run": snapshot is not None,
            "segment": None
            if segment is None
            else {
                "code": segment.code,
                "name": segment.name,
                "colour": segment.colour,
                "strategy": segment.strategy,
                "max_days_between_touches": segment.max_days_between_touches,
                "serving_role": segment.serving_role,
                "key_account_plan_required": segment.key_account_plan_required,
                "review_cadence_days": segment.review_cadence_days,
            },
            "status": snapshot.status if snapshot else "",
            "revenue_12m": snapshot.revenue_12m if snapshot else None,
            "wallet": snapshot.wallet if snapshot else None,
            "share_of_wallet": snapshot.share_of_wallet if snapshot else None,
            "share_band": snapshot.share_band if snapshot else "",
        },
        "chart": {
            "months": [f"{m:%Y-%m}" for m in chart.months],
            "series": chart.series,
            "totals": chart.totals,
        },
        "group_shares": card.client_group_shares(
            client=client, run=run if snapshot is not None else None
        ),
        "white_space": card.client_white_space(client=client, run=run, snapshot=snapshot),
        "holding": card.holding_rollup(user=user, client=client, run=run, snapshot=snapshot),
    }


class ClientOverviewViewSet(LanguageOfUserMixin, viewsets.GenericViewSet):
    """The card's overview of a client: header facts from the latest metric run, the
    24-month revenue series by product group, shares per group, white space and,
    for a holding, the roll-up of the subsidiaries the user may see."""

    queryset = Client.objects.none()
    serializer_class = ClientOverviewSerializer
    schema = _OneObjectSchema()
    filter_backends: list[Any] = []
    pagination_class = None

    @extend_schema(
        parameters=[
            OpenApiParameter("client_pk", int, OpenApiParameter.PATH, description="Client id")
        ],
        responses=ClientOverviewSerializer,
    )
    def list(self, request: Request, client_pk: str | None = None) -> Response:
        user = request.user
        assert isinstance(user, User)
        try:
            client = (
                clients_visible_to(user=user)
                .select_related("owner", "parent")
                .get(pk=int(client_pk or ""))
            )
        except (Client.DoesNotExist, ValueError):
            raise Http404 from None
        return Response(ClientOverviewSerializer(client_overview(user=user, client=client)).data)
