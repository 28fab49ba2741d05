"""/api/v1/deals/: the pipeline, behind the same rules as the board.

Deals of clients outside the user's scope answer 404; on creation a client
the user may not change is refused on the ``client`` field like an unknown
id (its existence does not leak); a visible deal the user may not change
is 403. The owner is set
only by a head, among their people (no mass assignment). Edits and moves
may carry the ``updated_at`` the caller read: a newer deal on the server is
a 409 naming what changed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.models import User
from crm import choices
from crm.api.serializers import OwnerSerializer
from crm.api.views import LanguageOfUserMixin
from crm.forms_deals import editable_clients
from crm.models import Client, Deal
from crm.selectors.deals import deal_owner_choices, deals_visible_to
from crm.services.deals import (
    OPEN_STAGES,
    REASON_MAX_LENGTH,
    DealConflict,
    deal_can_change,
    deal_create,
    deal_move,
    deal_update,
)


def _user(serializer: serializers.BaseSerializer) -> User | None:
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


def _errors(error: DjangoValidationError) -> dict[str, Any]:
    if hasattr(error, "error_dict"):
        return dict(error.message_dict)
    return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}


def _conflict(error: DealConflict) -> Response:
    return Response(
        {
            "detail": error.messages[0],
            "changed_fields": error.changed_fields,
            "changed_by": error.changed_by,
        },
        status=status.HTTP_409_CONFLICT,
    )


class DealSerializer(serializers.ModelSerializer):
    """A deal. ``stage`` changes through the ``move`` action; ``updated_at`` sent on
    an update is the version the caller read."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    client_name = serializers.CharField(source="client.name", read_only=True)
    owner = OwnerSerializer(read_only=True)
    owner_id = serializers.IntegerField(
        write_only=True,
        required=False,
        help_text=_("Heads only: one of their people (default on creation: yourself)."),
    )
    stage = serializers.ChoiceField(
        choices=choices.DealStage.choices,
        required=False,
        help_text=_("On creation only (an open stage); later through the move action."),
    )
    updated_at = serializers.DateTimeField(
        required=False,
        help_text=_("On update: the value you read; a newer one on the server is a conflict."),
    )

    class Meta:
        model = Deal
        fields = [
            "id",
            "client",
            "client_name",
            "kind",
            "title",
            "stage",
            "amount",
            "expected_close_on",
            "owner",
            "owner_id",
            "closed_on",
            "lost_reason",
            "won_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["closed_on", "lost_reason", "won_reason", "created_at"]
        validators: list[Any] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        user = _user(self)
        request = self.context.get("request")
        if user is not None and request is not None and request.method not in SAFE_METHODS:
            client: Any = self.fields["client"]
            client.queryset = editable_clients(user=user)

    def validate_amount(self, value: Any) -> Any:
        if value < 0:
            raise serializers.ValidationError(_("The amount cannot be negative."))
        return value

    def validate_expected_close_on(self, value: dt.date | None) -> dt.date | None:
        current = self.instance if isinstance(self.instance, Deal) else None
        changed = current is None or value != current.expected_close_on
        if value is not None and changed and value < timezone.localdate():
            raise serializers.ValidationError(_("The expected close date cannot be in the past."))
        return value

    def validate_owner_id(self, value: int) -> User:
        user = _user(self)
        assert user is not None
        if value == user.pk:
            return user
        owner = deal_owner_choices(user=user).filter(pk=value).first() if user.is_head else None
        current = self.instance if isinstance(self.instance, Deal) else None
        if owner is None and current is not None and current.owner_id == value:
            owner = current.owner
        if owner is None:
            raise serializers.ValidationError(_("You cannot give a deal to this user."))
        return owner

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            if "client" in attrs and attrs["client"] != self.instance.client:
                raise serializers.ValidationError(
                    {"client": [_("A deal cannot be moved to another client.")]}
                )
            if "stage" in attrs and attrs["stage"] != self.instance.stage:
                raise serializers.ValidationError(
                    {"stage": [_("Change the stage through the move action.")]}
                )
        elif attrs.get("stage", OPEN_STAGES[0]) not in OPEN_STAGES:
            raise serializers.ValidationError(
                {"stage": [_("A new deal starts at an open stage; close it by moving it.")]}
            )
        return attrs


class DealMoveSerializer(serializers.Serializer):
    stage = serializers.ChoiceField(choices=choices.DealStage.choices)
    lost_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
    won_reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
    updated_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class DealFilterSet(django_filters.FilterSet):
    stage = django_filters.ChoiceFilter(choices=choices.DealStage.choices)
    kind = django_filters.ChoiceFilter(choices=choices.DealKind.choices)
    owner_id = django_filters.NumberFilter(field_name="owner_id")
    client_id = django_filters.NumberFilter(field_name="client_id")
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open deals only"))
    # Inclusive, so "closing this month" is its first and last day; deals
    # without an expected close date are out of either.
    closing_before = django_filters.DateFilter(
        field_name="expected_close_on", lookup_expr="lte", label=_("Expected to close on or before")
    )
    closing_after = django_filters.DateFilter(
        field_name="expected_close_on", lookup_expr="gte", label=_("Expected to close on or after")
    )

    class Meta:
        model = Deal
        fields = [
            "stage",
            "kind",
            "owner_id",
            "client_id",
            "open",
            "closing_before",
            "closing_after",
        ]

    def filter_open(self, queryset: QuerySet[Deal], name: str, value: bool) -> QuerySet[Deal]:
        if value is None:
            return queryset
        if value:
            return queryset.filter(stage__in=OPEN_STAGES)
        return queryset.exclude(stage__in=OPEN_STAGES)


class DealViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Deals of the clients the user sees; never deleted (move them to lost)."""

    queryset = Deal.objects.none()
    serializer_class = DealSerializer
    filterset_class = DealFilterSet
    ordering_fields = ["expected_close_on", "amount", "created_at", "updated_at"]
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[Deal]:
        if getattr(self, "swagger_fake_view", False):
            return Deal.objects.none()
        assert isinstance(self.request.user, User)
        return deals_visible_to(user=self.request.user).select_related("client", "owner")

    def _acting_user(self) -> User:
        user = self.request.user
        assert isinstance(user, User)
        return user

    def perform_create(self, serializer: DealSerializer) -> None:  # type: ignore[override]
        data: dict[str, Any] = dict(serializer.validated_data)
        data.pop("updated_at", None)
        owner = data.pop("owner_id", None)
        try:
            serializer.instance = deal_create(acting_user=self._acting_user(), owner=owner, **data)
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from None
        except DjangoValidationError as error:
            raise serializers.ValidationError(_errors(error)) from None

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().update(request, *args, **kwargs)
        except DealConflict as error:
            return _conflict(error)

    def perform_update(self, serializer: DealSerializer) -> None:  # type: ignore[override]
        user = self._acting_user()
        deal = serializer.instance
        assert isinstance(deal, Deal)
        if not deal_can_change(user=user, deal=deal):
            raise PermissionDenied
        data: dict[str, Any] = dict(serializer.validated_data)
        data.pop("client", None)
        data.pop("stage", None)
        expected = data.pop("updated_at", None)
        owner = data.pop("owner_id", None)
        if owner is not None:
            data["owner"] = owner
        try:
            serializer.instance = deal_update(
                deal=deal, acting_user=user, expected_updated_at=expected, **data
            )
        except DealConflict:
            raise
        except DjangoValidationError as error:
            raise serializers.ValidationError(_errors(error)) from None

    @extend_schema(request=DealMoveSerializer, responses={200: DealSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move the deal to another stage: lost needs ``lost_reason``; won takes an
        optional ``won_reason``; both close it today; an open stage reopens it."""
        user = self._acting_user()
        deal = self.get_object()
        if not deal_can_change(user=user, deal=deal):
            raise PermissionDenied
        payload = DealMoveSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            moved = deal_move(
                deal=deal,
                acting_user=user,
                stage=data["stage"],
                expected_updated_at=data["updated_at"],
                lost_reason=data["lost_reason"],
                won_reason=data["won_reason"],
            )
        except DealConflict as error:
            return _conflict(error)
        except DjangoValidationError as error:
            raise serializers.ValidationError(_errors(error)) from None
        return Response(DealSerializer(moved, context=self.get_serializer_context()).data)
