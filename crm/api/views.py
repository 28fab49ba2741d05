from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils import translation
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from accounts.models import User
from accounts.selectors import client_can_edit, clients_visible_to
from crm import services
from crm.api.serializers import (
    BulkTaskResultSerializer,
    BulkTaskSerializer,
    ClientHistorySerializer,
    ClientMergeResultSerializer,
    ClientMergeSerializer,
    ClientSerializer,
    ContactSerializer,
    MergedClientSerializer,
    ReassignSerializer,
)
from crm.filtersets import ClientFilterSet, ContactFilterSet
from crm.models import Client, Contact
from crm.selectors import card, contacts_visible_to, merged_client_survivor
from crm.selectors.client_list import grouped_by_holding
from crm.services import client_list as list_services


class LanguageOfUserMixin:
    """Answer token users in the language of their profile too: they are known
    only after authentication, when the locale middleware has already run."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        language = getattr(request.user, "language", "")
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = language


class _NoDeleteViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """List, retrieve, create and update; records are never deleted through the API."""


def conflict_response(error: services.EditConflict) -> Response:
    """A 409 naming each field changed since the version sent, then and now, and who."""
    return Response(
        {
            "detail": error.messages[0],
            "changed_fields": [
                {"field": c.field, "label": c.label, "old": c.old, "new": c.new}
                for c in error.changes
            ],
            "changed_by": error.changed_by,
        },
        status=status.HTTP_409_CONFLICT,
    )


class ClientViewSet(_NoDeleteViewSet):
    queryset = Client.objects.none()  # the real one comes from get_queryset, per user
    serializer_class = ClientSerializer
    filterset_class = ClientFilterSet
    # ClientFilterSet sorts (``ordering``, metrics included, empty values last),
    # as on the list page; DRF's own OrderingFilter would undo it.
    filter_backends = [DjangoFilterBackend]

    def get_queryset(self) -> QuerySet[Client]:
        if getattr(self, "swagger_fake_view", False):
            return Client.objects.none()
        assert isinstance(self.request.user, User)
        return clients_visible_to(user=self.request.user).select_related("owner")

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """The list's filters; ``?view=holdings`` groups the list as the page does."""
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and self.request.query_params.get("view") == "holdings":
            assert isinstance(self.request.user, User)
            visible = clients_visible_to(user=self.request.user)
            queryset = grouped_by_holding(queryset, visible=visible)
        return queryset

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "view",
                str,
                enum=["holdings"],
                description=_(
                    "holdings: each holding followed by its subsidiaries, holdings by name "
                    "(a subsidiary whose holding you cannot see stands on its own)."
                ),
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A stale ``version`` is a 409 naming each field changed since, then and now."""
        try:
            return super().update(request, *args, **kwargs)
        except services.EditConflict as error:
            return conflict_response(error)

    @extend_schema(request=ReassignSerializer, responses=ClientSerializer)
    @action(detail=True, methods=["post"])
    def reassign(self, request: Request, pk: str | None = None) -> Response:
        """Give the client to another owner; heads and administrators only."""
        assert isinstance(request.user, User)
        client = self.get_object()
        if not request.user.is_head:
            raise PermissionDenied
        serializer = ReassignSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        client = services.client_reassign(
            client=client,
            new_owner=serializer.validated_data["new_owner_id"],
            acting_user=request.user,
            note=serializer.validated_data["note"],
        )
        return Response(ClientSerializer(client, context={"request": request}).data)

    def _survivor_of_retired(self, pk: str | None) -> int | None:
        """Where a merged card lives now, when the user may see that client."""
        assert isinstance(self.request.user, User)
        try:
            return merged_client_survivor(user=self.request.user, pk=int(pk or ""))
        except ValueError:
            return None

    @extend_schema(responses={200: ClientSerializer, 301: MergedClientSerializer})
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A client card; a card merged into another answers 301 with the kept card's address."""
        survivor = self._survivor_of_retired(kwargs.get("pk"))
        if survivor is None:
            return super().retrieve(request, *args, **kwargs)
        body = {
            "detail": _("This client was merged into client %(id)s.") % {"id": survivor},
            "merged_into": survivor,
        }
        location = reverse("client-detail", args=[survivor], request=request)
        return Response(
            body, status=status.HTTP_301_MOVED_PERMANENTLY, headers={"Location": location}
        )

    @extend_schema(request=ClientMergeSerializer, responses=ClientMergeResultSerializer)
    @action(detail=True, methods=["post"])
    def merge(self, request: Request, pk: str | None = None) -> Response:
        """Merge the card ``duplicate`` into this one; heads and administrators only.

        Everything the duplicate holds moves here and the duplicate is retired
        (it then answers 301 to this card). ``preview: true`` only counts what
        would move.
        """
        assert isinstance(request.user, User)
        if not request.user.is_head:  # the rule of the merge page
            raise PermissionDenied(_("Only a head of sales may merge clients."))
        try:
            survivor = self.get_object()
        except Http404:
            if self._survivor_of_retired(pk) is None:
                raise
            raise ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        _("This client is already merged into another card.")
                    ]
                }
            ) from None
        serializer = ClientMergeSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        merged: Client = serializer.validated_data["duplicate"]
        if merged.pk == survivor.pk:
            raise ValidationError({"duplicate": [_("Choose two different clients to merge.")]})
        preview = serializer.validated_data["preview"]
        if preview:
            moved = services.clients_merge_preview(survivor=survivor, merged=merged)
            merged_at = None
        else:
            record = services.clients_merge(
                survivor=survivor,
                merged=merged,
                acting_user=request.user,
                note=serializer.validated_data["note"],
            )
            moved, merged_at = record.moved, record.merged_at
            survivor.refresh_from_db()
        result = {
            "preview": preview,
            "survivor": survivor,
            "duplicate": merged.pk,
            "moved": moved,
            "merged_at": merged_at,
        }
        return Response(ClientMergeResultSerializer(result, context={"request": request}).data)

    @extend_schema(request=BulkTaskSerializer, responses=BulkTaskResultSerializer)
    @action(detail=False, methods=["post"], url_path="bulk-task")
    def bulk_task(self, request: Request) -> Response:
        """A task for each selected client one may change (the list's bulk action):
        the clients the query's filters match, or the ids given among them."""
        assert isinstance(request.user, User)
        serializer = BulkTaskSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        selection = self.filter_queryset(self.get_queryset())
        chosen = data.get("clients")
        if chosen is not None:
            selection = selection.filter(pk__in=chosen)
        list_services.bulk_check_size(count=selection.count())
        clients = list(selection.order_by("pk"))
        unknown = sorted(set(chosen or ()) - {client.pk for client in clients})
        if unknown:
            raise ValidationError(
                {
                    "clients": [
                        _("Unknown clients, or ones you cannot see: %(ids)s.")
                        % {"ids": ", ".join(map(str, unknown))}
                    ]
                }
            )
        result = list_services.clients_bulk_task(
            acting_user=request.user,
            clients=clients,
            title=data["title"],
            due_on=data["due_on"],
            kind=data["kind"],
            description=data["description"],
            to_owners=data["to_owners"],
        )
        return Response(
            BulkTaskResultSerializer(
                {
                    "created": [client.pk for client in result.created],
                    "only_readable": [client.pk for client in result.read_only],
                    "failed": [
                        {"client": client.pk, "reason": reason} for client, reason in result.failed
                    ],
                }
            ).data,
            status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        )

    @extend_schema(responses=ClientHistorySerializer)
    @action(detail=True, methods=["get"])
    def history(self, request: Request, pk: str | None = None) -> Response:
        """The card's History tab: segment changes by metric run, owner changes and
        saves of the card (who, when, each field's old and new value), newest first.

        Capped per request: the latest ``card.LIST_CAP`` (100) segment and owner changes,
        as on the card for owners; the card's own cap of saves (30).
        """
        client = self.get_object()
        history = {
            "segment_history": card.client_segment_history(client=client)[: card.LIST_CAP],
            "ownership_changes": card.client_ownership_changes(client=client, limit=card.LIST_CAP),
            "field_history": card.client_field_history(client=client),
        }
        return Response(ClientHistorySerializer(history, context={"request": request}).data)

    def perform_create(self, serializer: ClientSerializer) -> None:  # type: ignore[override]
        assert isinstance(self.request.user, User)
        data: dict[str, Any] = dict(serializer.validated_data)
        owner = data.pop("owner_id", None)
        data.pop("version", None)
        serializer.instance = services.client_create(
            acting_user=self.request.user, owner=owner, **data
        )

    def perform_update(self, serializer: ClientSerializer) -> None:  # type: ignore[override]
        assert isinstance(self.request.user, User)
        assert isinstance(serializer.instance, Client)
        data: dict[str, Any] = dict(serializer.validated_data)
        data.pop("owner_id", None)
        expected_version = data.pop("version", None)
        serializer.instance = services.client_update(
            client=serializer.instance,
            acting_user=self.request.user,
            expected_version=expected_version,
            **data,
        )


class ContactViewSet(_NoDeleteViewSet):
    queryset = Contact.objects.none()  # the real one comes from get_queryset, per user
    serializer_class = ContactSerializer
    filterset_class = ContactFilterSet
    search_fields = ["full_name", "email", "phone", "position"]
    ordering = ["full_name", "id"]

    def get_queryset(self) -> QuerySet[Contact]:
        if getattr(self, "swagger_fake_view", False):
            return Contact.objects.none()
        assert isinstance(self.request.user, User)
        return contacts_visible_to(user=self.request.user).select_related("client")

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A contact of a client one may only read is a 403 before anything else; a
        stale ``version`` is a 409 naming each field changed since, then and now."""
        assert isinstance(request.user, User)
        if not client_can_edit(user=request.user, client=self.get_object().client):
            raise PermissionDenied
        try:
            return super().update(request, *args, **kwargs)
        except services.EditConflict as error:
            return conflict_response(error)

    def _save(self, serializer: ContactSerializer) -> None:
        instance = serializer.instance or Contact()
        data = dict(serializer.validated_data)
        expected_version = data.pop("version", None)
        for name, value in data.items():
            setattr(instance, name, value)
        assert isinstance(self.request.user, User)
        if not client_can_edit(user=self.request.user, client=instance.client):
            raise PermissionDenied
        serializer.instance = services.contact_save(
            contact=instance, acting_user=self.request.user, expected_version=expected_version
        )

    def perform_create(self, serializer: ContactSerializer) -> None:  # type: ignore[override]
        self._save(serializer)

    def perform_update(self, serializer: ContactSerializer) -> None:  # type: ignore[override]
        self._save(serializer)
