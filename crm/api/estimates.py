"""/api/v1/estimates/: list and add estimates; heads verify or reject them."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from crm import choices, selectors, services
from crm.api.serializers import EstimateReviewSerializer, WalletEstimateSerializer
from crm.api.views import LanguageOfUserMixin
from crm.models import WalletEstimate


class WalletEstimateFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id")
    status = django_filters.ChoiceFilter(choices=choices.EstimateStatus.choices)
    kind = django_filters.ChoiceFilter(choices=choices.EstimateKind.choices)

    class Meta:
        model = WalletEstimate
        fields = ["client_id", "status", "kind", "year"]


class WalletEstimateViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Estimates are never edited or deleted: a new estimate replaces an old one."""

    queryset = WalletEstimate.objects.none()
    serializer_class = WalletEstimateSerializer
    filterset_class = WalletEstimateFilterSet
    ordering = ["-year", "-entered_at", "-id"]

    def get_queryset(self) -> QuerySet[WalletEstimate]:
        if getattr(self, "swagger_fake_view", False):
            return WalletEstimate.objects.none()
        assert isinstance(self.request.user, User)
        return selectors.estimates_visible_to(user=self.request.user).select_related(
            "entered_by", "reviewed_by"
        )

    def perform_create(self, serializer: WalletEstimateSerializer) -> None:  # type: ignore[override]
        assert isinstance(self.request.user, User)
        data: dict[str, Any] = dict(serializer.validated_data)
        serializer.instance = services.wallet_estimate_create(acting_user=self.request.user, **data)

    def _review(self, request: Request, decision: str) -> Response:
        assert isinstance(request.user, User)
        estimate = self.get_object()
        review = EstimateReviewSerializer(data=request.data)
        review.is_valid(raise_exception=True)
        comment = review.validated_data["comment"]
        if decision == "verify":
            services.wallet_estimate_verify(
                estimate=estimate, acting_user=request.user, comment=comment
            )
        else:
            services.wallet_estimate_reject(
                estimate=estimate, acting_user=request.user, comment=comment
            )
        return Response(WalletEstimateSerializer(estimate, context={"request": request}).data)

    @extend_schema(request=EstimateReviewSerializer, responses=WalletEstimateSerializer)
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, pk: str | None = None) -> Response:
        """Heads only: the estimate starts to count in share of wallet."""
        return self._review(request, "verify")

    @extend_schema(request=EstimateReviewSerializer, responses=WalletEstimateSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Heads only; the comment (why) is required."""
        return self._review(request, "reject")
