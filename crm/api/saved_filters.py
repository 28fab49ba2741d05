"""Saved client filters in the API, and the client list's exports.

``/api/v1/saved-filters/``: each user's own saved queries of the client
list (someone else's answers 404). ``/api/v1/clients/export.csv`` and
``export.xlsx``: every client the filters of ``/api/v1/clients/`` match,
with the user's list columns, capped like the page's export.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import QueryDict
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, renderers, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import SavedClientFilter, User
from accounts.selectors import clients_visible_to
from crm.api.views import LanguageOfUserMixin
from crm.exports import export_response
from crm.filtersets import ClientFilterSet
from crm.services import client_list as list_services


class SavedClientFilterSerializer(serializers.ModelSerializer):
    clients_url = serializers.SerializerMethodField(
        help_text=_("The clients this filter matches now, in the API.")
    )
    page_url = serializers.SerializerMethodField(
        help_text=_("The client list page with the filter.")
    )

    class Meta:
        model = SavedClientFilter
        fields = ["id", "name", "query", "created_at", "clients_url", "page_url"]
        read_only_fields = ["created_at"]
        validators: list[Any] = []  # the service checks names, with its messages

    def _with_query(self, base: str, obj: SavedClientFilter) -> str:
        request = self.context.get("request")
        url = f"{base}?{obj.query}" if obj.query else base
        return request.build_absolute_uri(url) if request is not None else url

    def get_clients_url(self, obj: SavedClientFilter) -> str:
        return self._with_query(reverse("client-list"), obj)

    def get_page_url(self, obj: SavedClientFilter) -> str:
        return self._with_query(reverse("crm:client_list"), obj)


class SavedClientFilterViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """The requesting user's saved filters of the client list."""

    queryset = SavedClientFilter.objects.none()
    serializer_class = SavedClientFilterSerializer
    pagination_class = None  # a user keeps a handful

    def get_queryset(self) -> QuerySet[SavedClientFilter]:
        if getattr(self, "swagger_fake_view", False):
            return SavedClientFilter.objects.none()
        assert isinstance(self.request.user, User)
        return SavedClientFilter.objects.filter(user=self.request.user).order_by("name", "id")

    def perform_create(self, serializer: SavedClientFilterSerializer) -> None:  # type: ignore[override]
        assert isinstance(self.request.user, User)
        try:
            serializer.instance = list_services.saved_filter_create(
                user=self.request.user,
                name=serializer.validated_data.get("name", ""),
                query=serializer.validated_data.get("query", ""),
            )
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from None

    def perform_destroy(self, instance: SavedClientFilter) -> None:
        assert isinstance(self.request.user, User)
        list_services.saved_filter_delete(saved_filter=instance, acting_user=self.request.user)


class CSVRenderer(renderers.BaseRenderer):
    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"


class XLSXRenderer(renderers.BaseRenderer):
    media_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    format = "xlsx"
    charset = None


class ClientExportViewSet(LanguageOfUserMixin, viewsets.GenericViewSet):
    """``/api/v1/clients/export.csv`` and ``.xlsx``: the filters and ``ordering`` of
    ``/api/v1/clients/``; too many clients answer 400 with the cap."""

    queryset = SavedClientFilter.objects.none()  # the clients come from the user's scope
    renderer_classes = [renderers.JSONRenderer, CSVRenderer, XLSXRenderer]
    pagination_class = None
    filter_backends: list[Any] = []

    def handle_exception(self, exc: Exception) -> Response:
        """Errors answer JSON even when a file was asked for."""
        response = super().handle_exception(exc)
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return response

    @extend_schema(
        parameters=[],
        responses={(200, "text/csv"): OpenApiTypes.BINARY, 400: OpenApiResponse()},
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        assert isinstance(request.user, User)
        fmt = kwargs.get("format") or request.query_params.get("format") or ""
        if fmt not in ("csv", "xlsx"):
            raise ValidationError({"format": [_("Use export.csv or export.xlsx.")]})
        params = QueryDict(mutable=True)
        params.update(request.query_params)
        params.pop("format", None)
        filterset = ClientFilterSet(
            params,
            queryset=clients_visible_to(user=request.user).select_related("owner"),
            request=request,
        )
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        clients = filterset.qs
        try:
            list_services.export_check_size(count=clients.count())
        except DjangoValidationError as error:
            raise ValidationError({"detail": error.messages}) from None
        return export_response(clients, run=filterset.metric_run, user=request.user, fmt=fmt)
