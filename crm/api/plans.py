"""/api/v1/plans/ and /api/v1/forecasts/: the same rules as the plans page.

A plan or forecast is one per target (client, manager or team) and period:
``POST`` sets it (creating it or replacing the figures of the existing row),
``PUT``/``PATCH`` on a row changes its figures; the target and the period of
a row never change. A client, manager or team out of the user's sight is
404; a visible one the user may not plan for is 403 with the reason.
Shares are fractions from 0 to 1. ``GET /api/v1/plans/rollup/?kind=&start=``
returns the rows of the plans page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Team, User
from accounts.selectors import clients_visible_to, teams_headed_by
from crm.api.serializers import OwnerSerializer
from crm.api.views import LanguageOfUserMixin
from crm.forms_plans import PeriodForm
from crm.models import PeriodKind, PlanLevel, SalesForecast, SalesPlan
from crm.models.plans import PERIOD_START_MESSAGES, is_period_start, validate_period_year
from crm.selectors import plans as plan_selectors
from crm.services import plans as plan_services


def _request_user(serializer: serializers.BaseSerializer) -> User:
    user = serializer.context["request"].user
    assert isinstance(user, User)
    return user


class _TargetSerializer(serializers.ModelSerializer):
    """Target and period: given on creation, fixed afterwards."""

    level = serializers.CharField(read_only=True)
    client = serializers.IntegerField(
        source="client_id", required=False, allow_null=True, help_text=_("A client's id.")
    )
    manager = serializers.IntegerField(
        source="manager_id", required=False, allow_null=True, help_text=_("A manager's id.")
    )
    share = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        required=False,
        allow_null=True,
        min_value=0,
        max_value=1,
        help_text=_("Share of wallet as a fraction from 0 to 1."),
    )
    target_fields: tuple[str, ...] = ("client_id", "manager_id")

    def validate_period_start(self, value: dt.date) -> dt.date:
        try:
            validate_period_year(value)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if self.instance is not None:
            for name in (*self.target_fields, "period_kind", "period_start"):
                if name in attrs and attrs[name] != getattr(self.instance, name):
                    raise serializers.ValidationError(
                        {
                            name.removesuffix("_id"): [
                                _("The target and the period of a row do not change.")
                            ]
                        }
                    )
            return attrs
        chosen = [name for name in self.target_fields if attrs.get(name) is not None]
        if len(chosen) != 1:
            names = ", ".join(name.removesuffix("_id") for name in self.target_fields)
            raise serializers.ValidationError(
                {"level": [_("Give exactly one of: %(names)s.") % {"names": names}]}
            )
        kind, start = attrs.get("period_kind"), attrs.get("period_start")
        if kind and start and not is_period_start(kind, start):
            raise serializers.ValidationError(
                {"period_start": [PERIOD_START_MESSAGES[PeriodKind(kind)]]}
            )
        return attrs

    def resolve_target(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The target object, or 404 when the user cannot see it."""
        user = _request_user(self)
        if attrs.get("client_id") is not None:
            client = clients_visible_to(user=user).filter(pk=attrs["client_id"]).first()
            if client is None:
                raise NotFound(_("No such client."))
            return {"client": client}
        if attrs.get("manager_id") is not None:
            try:
                return {
                    "manager": plan_selectors.plan_manager_get(user=user, pk=attrs["manager_id"])
                }
            except Http404:
                raise NotFound(_("No such manager.")) from None
        team_id = attrs.get("team_id")
        if team_id is not None and (user.is_admin or team_id in teams_headed_by(user=user)):
            team = Team.objects.filter(pk=team_id).first()
            if team is not None:
                return {"team": team}
        raise NotFound(_("No such team."))


class SalesPlanSerializer(_TargetSerializer):
    team = serializers.IntegerField(
        source="team_id", required=False, allow_null=True, help_text=_("A team's id.")
    )
    set_by = OwnerSerializer(read_only=True)
    target_fields = ("client_id", "manager_id", "team_id")

    class Meta:
        model = SalesPlan
        fields = [
            "id",
            "level",
            "client",
            "manager",
            "team",
            "period_kind",
            "period_start",
            "amount",
            "share",
            "note",
            "set_by",
            "set_at",
        ]
        read_only_fields = ["set_at"]
        validators: list[Any] = []  # uniqueness: a POST on an existing target replaces it


class SalesForecastSerializer(_TargetSerializer):
    entered_by = OwnerSerializer(read_only=True)

    class Meta:
        model = SalesForecast
        fields = [
            "id",
            "level",
            "client",
            "manager",
            "period_kind",
            "period_start",
            "amount",
            "share",
            "comment",
            "entered_by",
            "entered_at",
        ]
        read_only_fields = ["entered_at"]
        validators: list[Any] = []


class _PeriodFilterSet(django_filters.FilterSet):
    period_kind = django_filters.ChoiceFilter(choices=PeriodKind.choices)
    period_start = django_filters.DateFilter()
    period_start_after = django_filters.DateFilter(field_name="period_start", lookup_expr="gte")
    period_start_before = django_filters.DateFilter(field_name="period_start", lookup_expr="lte")
    year = django_filters.NumberFilter(field_name="period_start", lookup_expr="year")
    level = django_filters.ChoiceFilter(choices=PlanLevel.choices)
    client_id = django_filters.NumberFilter(field_name="client_id")
    manager_id = django_filters.NumberFilter(field_name="manager_id")


class SalesPlanFilterSet(_PeriodFilterSet):
    team_id = django_filters.NumberFilter(field_name="team_id")

    class Meta:
        model = SalesPlan
        fields = ["period_kind", "period_start", "level", "client_id", "manager_id", "team_id"]


class SalesForecastFilterSet(_PeriodFilterSet):
    class Meta:
        model = SalesForecast
        fields = ["period_kind", "period_start", "level", "client_id", "manager_id"]


class _PlanLikeViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Plans and forecasts alike: one service call writes (and keeps history of) a row.

    Subclasses name the service (``plan_set`` or ``forecast_set``) and their
    free-text field (``note`` or ``comment``).
    """

    ordering = ["-period_start", "period_kind", "level", "id"]
    set_service: Callable[..., Any]
    text_field: str

    def _user(self) -> User:
        assert isinstance(self.request.user, User)
        return self.request.user

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        assert isinstance(serializer, _TargetSerializer)
        serializer.is_valid(raise_exception=True)
        target = serializer.resolve_target(serializer.validated_data)
        instance = self._save_data(dict(serializer.validated_data), target, None)
        data = self.get_serializer(instance).data
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: _TargetSerializer) -> None:  # type: ignore[override]
        instance = serializer.instance
        assert instance is not None
        target = {instance.level: getattr(instance, instance.level)}
        data = dict(serializer.validated_data)
        data.setdefault("period_kind", instance.period_kind)
        data.setdefault("period_start", instance.period_start)
        data.setdefault("amount", instance.amount)
        if "share" not in data:
            data["share"] = instance.share
        serializer.instance = self._save_data(data, target, instance)

    def _save_data(self, data: dict[str, Any], target: dict[str, Any], instance: Any) -> Any:
        text = data.get(self.text_field, getattr(instance, self.text_field, ""))
        return type(self).set_service(
            acting_user=self._user(),
            period_kind=data["period_kind"],
            period_start=data["period_start"],
            amount=data["amount"],
            share=data.get("share"),
            **{self.text_field: text},
            **target,
        )


class SalesPlanViewSet(_PlanLikeViewSet):
    """Plans the user sees; heads set them (``POST`` creates or replaces)."""

    queryset = SalesPlan.objects.none()
    serializer_class = SalesPlanSerializer
    filterset_class = SalesPlanFilterSet
    set_service = staticmethod(plan_services.plan_set)
    text_field = "note"

    def get_queryset(self) -> QuerySet[SalesPlan]:
        if getattr(self, "swagger_fake_view", False):
            return SalesPlan.objects.none()
        return plan_selectors.plans_visible_to(user=self._user()).select_related("set_by")

    @extend_schema(
        parameters=[
            OpenApiParameter("kind", str, enum=PeriodKind.values),
            OpenApiParameter("start", str, description="Any day of the period (YYYY-MM-DD)."),
            OpenApiParameter("manager_id", int, description="One manager and their clients."),
        ],
        responses={200: dict},
    )
    @action(detail=False, methods=["get"])
    def rollup(self, request: Request) -> Response:
        """The plans page as data: plan, plans below, difference, forecast, actual, gaps."""
        user = self._user()
        picker = PeriodForm(request.query_params)
        if request.query_params and not picker.is_valid():
            return Response(picker.errors, status=status.HTTP_400_BAD_REQUEST)
        period = picker.period()
        manager_id = request.query_params.get("manager_id")
        if user.is_head and not manager_id:
            rows = [
                row
                for root in plan_selectors.plan_tree(user=user, period=period)
                for row in root.walk()
            ]
        else:
            manager = (
                plan_selectors.plan_manager_get(user=user, pk=int(manager_id))
                if manager_id and manager_id.isdigit()
                else user
            )
            book = plan_selectors.manager_plans(
                user=user,
                manager=manager,
                period=period,
                page_number=request.query_params.get("page"),
            )
            rows = [book.manager, *book.clients]
        return Response(
            {
                "period_kind": period.kind,
                "period_start": period.start,
                "period_end": period.end,
                "rows": [_row_data(row) for row in rows],
            }
        )


def _decimal(value: Decimal | None, places: str = "0.01") -> str | None:
    """Decimals as strings, as the serializers write them."""
    return None if value is None else str(value.quantize(Decimal(places)))


def _row_data(row: plan_selectors.PlanRow) -> dict[str, Any]:
    return {
        "level": row.level,
        "id": row.pk,
        "name": row.name,
        "depth": row.depth,
        "clients": row.clients_count,
        "plan": _decimal(row.plan),
        "plan_share": _decimal(row.plan_share, "0.0001"),
        "plans_below": _decimal(row.below_plan),
        "difference": _decimal(row.plan_difference),
        "forecast": _decimal(row.forecast),
        "forecasts_below": _decimal(row.below_forecast),
        "actual": _decimal(row.actual),
        "forecast_gap": _decimal(row.forecast_gap),
        "actual_gap": _decimal(row.actual_gap),
        "share_actual": _decimal(row.share_actual, "0.0001"),
    }


class SalesForecastViewSet(_PlanLikeViewSet):
    """Forecasts the user sees; the owning manager enters them."""

    queryset = SalesForecast.objects.none()
    serializer_class = SalesForecastSerializer
    filterset_class = SalesForecastFilterSet
    set_service = staticmethod(plan_services.forecast_set)
    text_field = "comment"

    def get_queryset(self) -> QuerySet[SalesForecast]:
        if getattr(self, "swagger_fake_view", False):
            return SalesForecast.objects.none()
        return plan_selectors.forecasts_visible_to(user=self._user()).select_related("entered_by")
