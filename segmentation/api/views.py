"""Views of the segmentation API, behind the rules of the pages.

- ``metric-runs``: the run log; heads and administrators (others 403).
- ``client-metrics``: snapshot rows of the clients the user may see, of the
  latest good run or of ``?as_of=``; a client outside the scope is 404.
- ``work-lists/…``: the selectors' work lists, scoped the same way.
- ``segment-rule-sets``: every version for anyone logged in; a new version
  for heads only (403), validated like the page's form.
- ``exports/…csv``: the files of the ``export_metrics``/``export_retention``
  commands; heads and administrators. A head's metrics file holds the rows
  of the clients they may see; an administrator's is the command's file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm.api.imports import CSVRenderer
from crm.api.views import LanguageOfUserMixin
from crm.choices import ShareBand
from crm.models import Client
from segmentation import exports, selectors, services, tasks
from segmentation.api import serializers as s
from segmentation.choices import LifecycleStatus, RunKind, RunStatus, RunTrigger, Segment
from segmentation.models import ClientMetricSnapshot, MetricRun, SegmentOverride, SegmentRuleSet

AS_OF = OpenApiParameter(
    "as_of",
    OpenApiTypes.DATE,
    description=gettext_lazy(
        "The stored run of this date (YYYY-MM-DD); without it, the latest successful run."
    ),
)
NO_RUN = OpenApiResponse(description=gettext_lazy("No metrics are stored for that date."))


class IsHead(BasePermission):
    message = gettext_lazy("Only heads of sales and administrators may do this.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, User) and request.user.is_head


def _user(request: Request) -> User:
    assert isinstance(request.user, User)
    return request.user


def _date_param(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name, "").strip()
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ValidationError({name: [_("Write the date as YYYY-MM-DD.")]}) from None


def stored_run(request: Request) -> MetricRun | None:
    """The run ``?as_of=`` names (404 when none is stored), else the latest good run."""
    as_of = _date_param(request, "as_of")
    if as_of is None:
        return selectors.latest_successful_run()
    run = selectors.run_for_as_of(as_of)
    if run is None:
        raise NotFound(_("No metrics are stored as of %(date)s.") % {"date": as_of.isoformat()})
    return run


class MetricRunFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)
    kind = django_filters.ChoiceFilter(choices=RunKind.choices)
    trigger = django_filters.ChoiceFilter(choices=RunTrigger.choices)
    as_of = django_filters.DateFilter()

    class Meta:
        model = MetricRun
        fields = ["status", "kind", "trigger", "as_of"]


class MetricRunViewSet(LanguageOfUserMixin, viewsets.ReadOnlyModelViewSet):
    """The run log, newest first: every recompute, including failed and skipped ones."""

    queryset = MetricRun.objects.none()
    serializer_class = s.MetricRunSerializer
    permission_classes = [IsAuthenticated, IsHead]
    filter_backends = [DjangoFilterBackend]
    filterset_class = MetricRunFilterSet

    def get_queryset(self) -> QuerySet[MetricRun]:
        if getattr(self, "swagger_fake_view", False):
            return MetricRun.objects.none()
        return selectors.metric_runs_listed()


class SnapshotFilterSet(django_filters.FilterSet):
    segment = django_filters.ChoiceFilter(choices=Segment.choices)
    status = django_filters.ChoiceFilter(choices=LifecycleStatus.choices)
    share_band = django_filters.ChoiceFilter(choices=ShareBand.choices)
    owner = django_filters.NumberFilter(field_name="owner_id", label=gettext_lazy("Owner (id)"))

    class Meta:
        model = ClientMetricSnapshot
        fields = ["segment", "status", "share_band", "owner"]


@extend_schema(parameters=[AS_OF])
class ClientMetricViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Client metrics of one stored run, for the clients you may see; by client id."""

    queryset = ClientMetricSnapshot.objects.none()
    serializer_class = s.ClientMetricSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = SnapshotFilterSet
    lookup_field = "client_id"
    lookup_value_regex = r"\d+"

    def _run(self) -> MetricRun | None:
        if not hasattr(self, "_stored_run"):
            self._stored_run = stored_run(self.request)
        return self._stored_run

    def get_queryset(self) -> QuerySet[ClientMetricSnapshot]:
        if getattr(self, "swagger_fake_view", False):
            return ClientMetricSnapshot.objects.none()
        run = self._run()
        if run is None:
            return ClientMetricSnapshot.objects.none()
        return selectors.snapshots_for(_user(self.request), run)

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["run"] = self._run()
        return context


class WorkListFilterSet(django_filters.FilterSet):
    owner = django_filters.NumberFilter(field_name="owner_id", label=gettext_lazy("Owner (id)"))
    segment = django_filters.ChoiceFilter(choices=Segment.choices)

    class Meta:
        model = ClientMetricSnapshot
        fields = ["owner", "segment"]


class _WorkList(LanguageOfUserMixin, generics.ListAPIView, ABC):
    """A work list of the latest good run, scoped to the clients the user may see."""

    queryset = ClientMetricSnapshot.objects.none()
    filter_backends = [DjangoFilterBackend]
    filterset_class = WorkListFilterSet

    @abstractmethod
    def rows(self, user: User) -> Any:
        """The list's rows for ``user`` (a selector of segmentation.selectors)."""

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return ClientMetricSnapshot.objects.none()
        return self.rows(_user(self.request))


class OverdueTouchesView(_WorkList):
    """Rated clients whose last touch is older than their segment's standard.

    Never-touched clients count as overdue and come first.
    """

    serializer_class = s.OverdueTouchSerializer

    def rows(self, user: User) -> Any:
        return selectors.overdue_touches(user)


class SleepingView(_WorkList):
    """Sleeping and lost clients to reactivate (never strategic ones)."""

    serializer_class = s.SleepingSerializer

    def rows(self, user: User) -> Any:
        return selectors.sleeping_and_lost(user)


class UnratedView(_WorkList):
    """Clients without a verified wallet: find out their turnover. Biggest buyers first."""

    serializer_class = s.UnratedSerializer

    def rows(self, user: User) -> Any:
        return selectors.unrated_clients(user)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "since",
            OpenApiTypes.DATE,
            description=gettext_lazy(
                "Compare with the latest run before this date; default: the first day of "
                "the latest run's month."
            ),
        )
    ]
)
class SegmentMovementsView(_WorkList):
    """Clients whose segment changed; only ``up`` moves are credited to the owner."""

    serializer_class = s.SegmentMovementSerializer

    def rows(self, user: User) -> Any:
        return selectors.segment_movements(user, _date_param(self.request, "since"))


class CoolingView(LanguageOfUserMixin, generics.ListAPIView):
    """Key accounts (segment A) with a cooling signal, most signals first."""

    serializer_class = s.CoolingSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return []
        return selectors.key_accounts_cooling(_user(self.request))


class SegmentRuleSetViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Versions of the segment rules, newest first. Saving makes a new version."""

    queryset = SegmentRuleSet.objects.none()
    serializer_class = s.SegmentRuleSetSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[SegmentRuleSet]:
        if getattr(self, "swagger_fake_view", False):
            return SegmentRuleSet.objects.none()
        return selectors.rule_sets_listed()

    def _data(self, rule_sets: list[SegmentRuleSet]) -> Any:
        changes = {r.pk: c for r, c in selectors.rule_set_history(rule_sets)}
        context = {**self.get_serializer_context(), "changes": changes}
        return s.SegmentRuleSetSerializer(rule_sets, many=True, context=context).data

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        if page is None:
            return Response(self._data(list(self.get_queryset())))
        return self.get_paginated_response(self._data(list(page)))

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return Response(self._data([self.get_object()])[0])

    @extend_schema(
        request=s.SegmentRuleSetCreateSerializer, responses={201: s.SegmentRuleSetSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Heads only: save changed rules as a new version and recompute on them."""
        user = _user(request)
        if not user.is_head:
            raise PermissionDenied(_("Only a head of sales may change the segment rules."))
        current = SegmentRuleSet.objects.active()
        serializer = s.SegmentRuleSetCreateSerializer(
            data=request.data, context={"rule_set": current}
        )
        serializer.is_valid(raise_exception=True)
        new = services.segment_rule_set_save(
            changes=serializer.changes(),
            acting_user=user,
            comment=serializer.validated_data["comment"],
        )
        tasks.queue_on_commit(tasks.metrics_recompute_after_rules, rule_set_id=new.pk)
        return Response(self._data([new])[0], status=status.HTTP_201_CREATED)


class _Echo:
    """A file that hands back what is written, for streaming csv.writer rows."""

    def write(self, value: str) -> str:
        return value


def _metrics_csv(run: MetricRun, user: User) -> Iterator[bytes]:
    writer = csv.writer(_Echo(), lineterminator="\n")
    # An administrator sees every client: the command's own rows, merged cards included.
    scope = None if user.is_admin else clients_visible_to(user=user)
    rows = exports.metric_rows(run, scope)
    yield str(writer.writerow(exports.METRIC_COLUMNS)).encode()
    for row in rows:
        yield str(writer.writerow(row)).encode()


def _export_run(request: Request) -> MetricRun:
    run = stored_run(request)
    if run is None:
        raise NotFound(_("No metrics are stored yet."))
    return run


CSV_RESPONSES = {(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR), 404: NO_RUN}


class _Export(LanguageOfUserMixin, APIView):
    permission_classes = [IsAuthenticated, IsHead]
    renderer_classes = [JSONRenderer, CSVRenderer]


class MetricsExportView(_Export):
    @extend_schema(parameters=[AS_OF], responses=CSV_RESPONSES)
    def get(self, request: Request) -> StreamingHttpResponse:
        """The ``export_metrics`` file of a stored run, for the clients you may see."""
        run = _export_run(request)
        response = StreamingHttpResponse(
            _metrics_csv(run, _user(request)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            True, f"metrics-{run.as_of.isoformat()}.csv"
        )
        return response


class RetentionExportView(_Export):
    @extend_schema(parameters=[AS_OF], responses=CSV_RESPONSES)
    def get(self, request: Request) -> HttpResponse:
        """The ``export_retention`` file of a stored run: cohorts of the whole base."""
        run = _export_run(request)
        out = io.StringIO()
        exports.write_retention_csv(run, out)
        response = HttpResponse(out.getvalue().encode(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = content_disposition_header(
            True, f"retention-{run.as_of.isoformat()}.csv"
        )
        return response


class SegmentOverrideViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Overrides in force on the clients the user may see, by client id.

    ``POST`` sets or changes one (heads of the client's team); ``DELETE
    /segment-overrides/{client}/?reason=…`` removes it. A client outside the
    scope is 404, a non-head 403; both change nothing.
    """

    queryset = SegmentOverride.objects.none()
    serializer_class = s.SegmentOverrideSerializer
    lookup_field = "client_id"
    lookup_url_kwarg = "client"
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[SegmentOverride]:
        if getattr(self, "swagger_fake_view", False):
            return SegmentOverride.objects.none()
        return selectors.segment_overrides_visible_to(_user(self.request))

    def _client(self, user: User, client_id: Any) -> Client:
        client = clients_visible_to(user=user).filter(pk=client_id).first()
        if client is None:
            raise NotFound(_("No such client."))
        return client

    @extend_schema(
        request=s.SegmentOverrideWriteSerializer, responses={201: s.SegmentOverrideSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        if not user.is_head:
            raise PermissionDenied(_("Only a head of sales may override a client's segment."))
        data = s.SegmentOverrideWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        client = self._client(user, data.validated_data["client"])
        try:
            override = services.segment_override_set(
                client=client,
                segment=data.validated_data["segment"],
                reason=data.validated_data["reason"],
                acting_user=user,
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        except DjangoValidationError as error:
            raise ValidationError(
                error.message_dict if hasattr(error, "error_dict") else error.messages
            ) from error
        return Response(s.SegmentOverrideSerializer(override).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("reason", str, description="Why the override is removed")],
        responses={204: None},
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        client = self._client(user, kwargs.get("client"))
        if not user.is_head:
            raise PermissionDenied(_("Only a head of sales may override a client's segment."))
        query = s.SegmentOverrideRemoveSerializer(
            data={"reason": request.query_params.get("reason", "")}
        )
        query.is_valid(raise_exception=True)
        reason = query.validated_data["reason"]
        try:
            removed = services.segment_override_remove(
                client=client, reason=reason, acting_user=user
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        if not removed:
            raise NotFound(_("This client's segment is not overridden."))
        return Response(status=status.HTTP_204_NO_CONTENT)
