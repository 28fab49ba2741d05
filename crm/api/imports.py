"""/api/v1/imports/: upload ERP files, follow their runs, fetch their error reports.

The same rules as the pages: heads and administrators only (others 403), a
head sees the runs they started, an administrator every run; only the user
who uploaded a file confirms or cancels it. The work is ``crm.importers.jobs``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from itertools import chain
from typing import Any

import django_filters
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.settings import api_settings

from accounts.models import User
from crm.api.serializers import OwnerSerializer
from crm.api.views import LanguageOfUserMixin
from crm.importers import jobs
from crm.importers.progress import progress_of
from crm.models import ImportRun

ERRORS_SHOWN = 200
BOM = "\ufeff"


class MayImport(BasePermission):
    message = gettext_lazy("Only heads of sales and administrators may import files.")

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.user, User) and jobs.may_import(request.user)


class CSVRenderer(BaseRenderer):
    """Lets a client ask for ``text/csv``; the CSV itself is written by the view."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        return text.encode(self.charset)


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True,
        help_text=gettext_lazy("As a spreadsheet shows it; null for the file as a whole."),
    )
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class ImportProgressSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=["checking", "writing"])
    rows = serializers.IntegerField()
    fraction = serializers.FloatField(allow_null=True)


class ImportRunSerializer(serializers.ModelSerializer):
    """One import: what was detected, what it did, and its first errors."""

    started_by = OwnerSerializer(read_only=True)
    notes = serializers.ListField(child=serializers.CharField(), read_only=True)
    # Declared fields leave the class at construction, so this does not hide
    # ``Serializer.errors``; only the type checker sees a clash.
    errors = serializers.SerializerMethodField(  # type: ignore[assignment]
        help_text=gettext_lazy("The first 200 errors; the errors/ endpoint gives them all.")
    )
    errors_total = serializers.SerializerMethodField()
    create_missing_clients = serializers.SerializerMethodField()
    skip_invalid = serializers.SerializerMethodField()
    bad_rows_available = serializers.SerializerMethodField(
        help_text=gettext_lazy("Whether bad-rows/ can give the bad rows back as a file.")
    )
    progress = serializers.SerializerMethodField(
        help_text=gettext_lazy("While queued or running: how far it has got, when known.")
    )

    class Meta:
        model = ImportRun
        fields = [
            "id",
            "kind",
            "status",
            "is_finished",
            "file_name",
            "file_size",
            "file_format",
            "encoding",
            "delimiter",
            "sheet",
            "header_row",
            "create_missing_clients",
            "skip_invalid",
            "rows_read",
            "created",
            "updated",
            "unchanged",
            "rejected",
            "duration_ms",
            "notes",
            "errors",
            "errors_total",
            "bad_rows_available",
            "progress",
            "started_by",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ImportErrorSerializer(many=True))
    def get_errors(self, run: ImportRun) -> list[dict[str, Any]]:
        return run.errors[:ERRORS_SHOWN]

    def get_errors_total(self, run: ImportRun) -> int:
        return len(run.errors)

    def get_create_missing_clients(self, run: ImportRun) -> bool:
        return bool(run.options.get("create_missing_clients"))

    def get_skip_invalid(self, run: ImportRun) -> bool:
        return run.skip_invalid

    def get_bad_rows_available(self, run: ImportRun) -> bool:
        return jobs.has_bad_rows_file(run)

    @extend_schema_field(ImportProgressSerializer(allow_null=True))
    def get_progress(self, run: ImportRun) -> dict[str, Any] | None:
        if run.status not in (ImportRun.Status.QUEUED, ImportRun.Status.RUNNING):
            return None
        return progress_of(run.pk)


# Named as the request body of an ImportRun: the enum of its "kind" then
# belongs to one component and gets a plain name (the estimates have a "kind" too).
@extend_schema_serializer(component_name="ImportRun")
class ImportUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportRun.Kind.choices)
    file = serializers.FileField(
        allow_empty_file=True,  # the reader refuses it with its own message, and records the run
        help_text=gettext_lazy("CSV (UTF-8 or Windows-1251) or XLSX, as the ERP exports it."),
    )
    sheet = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=200,
        help_text=gettext_lazy("XLSX only: the sheet to read; empty means the first one."),
    )
    create_missing_clients = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Shipments only: create the clients the base does not have."),
    )
    skip_invalid = serializers.BooleanField(
        required=False,
        default=False,
        help_text=gettext_lazy("Import the valid rows and report the bad ones."),
    )
    confirm = serializers.BooleanField(
        required=False,
        default=True,
        help_text=gettext_lazy(
            "Start the import at once (default). False keeps the upload awaiting "
            "confirm/ after you have looked at preview/."
        ),
    )

    def validate_file(self, upload: UploadedFile) -> UploadedFile:
        problem = jobs.upload_size_problem(upload.size)
        if problem:
            raise ValidationError(problem)
        return upload


class ImportPreviewSerializer(serializers.Serializer):
    format = serializers.CharField()
    encoding = serializers.CharField()
    delimiter = serializers.CharField()
    sheet = serializers.CharField()
    header_row = serializers.IntegerField(allow_null=True)
    columns = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()
    notes = serializers.ListField(child=serializers.CharField())
    error = serializers.CharField(help_text=gettext_lazy("Why the file cannot be read, if so."))

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    )
    def get_columns(self, preview: jobs.Preview) -> list[dict[str, str]]:
        return [{"field": name, "header": header} for name, header in preview.columns]

    @extend_schema_field(
        serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    )
    def get_rows(self, preview: jobs.Preview) -> list[dict[str, Any]]:
        names = [name for name, _header in preview.columns]
        return [{"row": row, **dict(zip(names, cells, strict=True))} for row, cells in preview.rows]


class ImportRunFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ImportRun.Kind.choices)
    status = django_filters.ChoiceFilter(choices=ImportRun.Status.choices)

    class Meta:
        model = ImportRun
        fields = ["kind", "status"]


def _csv_attachment(name: str) -> str:
    return content_disposition_header(True, name) or ""


class ImportRunViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Import runs, newest first. A queued run is polled here until ``is_finished``."""

    queryset = ImportRun.objects.none()
    serializer_class = ImportRunSerializer
    permission_classes = [IsAuthenticated, MayImport]
    parser_classes = [MultiPartParser, FormParser]
    filterset_class = ImportRunFilterSet
    ordering = ["-started_at", "-id"]
    ordering_fields = ["started_at"]

    def get_queryset(self) -> QuerySet[ImportRun]:
        if getattr(self, "swagger_fake_view", False):
            return ImportRun.objects.none()
        assert isinstance(self.request.user, User)
        return jobs.import_runs_visible_to(user=self.request.user)

    def _user(self) -> User:
        assert isinstance(self.request.user, User)
        return self.request.user

    def _answer(self, run: ImportRun, code: int = status.HTTP_200_OK) -> Response:
        data = ImportRunSerializer(run, context=self.get_serializer_context()).data
        return Response(data, status=code)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportRunSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Upload a file; with ``confirm`` (default) the import starts at once.

        A small file is imported before the answer; a large one answers
        ``queued``: poll the run until ``is_finished``.
        """
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        user = self._user()
        run = jobs.import_upload(
            kind=data["kind"],
            upload=data["file"],
            user=user,
            create_missing_clients=data["create_missing_clients"]
            and data["kind"] == ImportRun.Kind.SHIPMENTS,
            skip_invalid=data["skip_invalid"],
            sheet=data["sheet"].strip() or None,
        )
        run = jobs.import_refuse_unreadable(run=run)
        if data["confirm"] and run.status == ImportRun.Status.PENDING:
            run = jobs.import_confirm(run=run, user=user)
        response = self._answer(run, status.HTTP_201_CREATED)
        response["Location"] = reverse("import-detail", args=[run.pk], request=request)
        return response

    def _uploaded(self) -> ImportRun:
        run = self.get_object()
        if run.started_by_id != self._user().pk:
            raise PermissionDenied(
                _("Only the user who uploaded the file may confirm or cancel its import.")
            )
        if run.status != ImportRun.Status.PENDING:
            raise ValidationError(
                {
                    api_settings.NON_FIELD_ERRORS_KEY: [
                        _("This import is not awaiting confirmation.")
                    ]
                }
            )
        return run

    @extend_schema(request=None, responses=ImportRunSerializer)
    @action(detail=True, methods=["post"])
    def confirm(self, request: Request, pk: str | None = None) -> Response:
        """Start an upload sent with ``confirm=false``."""
        return self._answer(jobs.import_confirm(run=self._uploaded(), user=self._user()))

    @extend_schema(request=None, responses=ImportRunSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        """Drop an upload awaiting confirmation; nothing is written."""
        run = self._uploaded()
        jobs.import_cancel(run=run, user=self._user())
        run.refresh_from_db()
        return self._answer(run)

    @extend_schema(responses=ImportPreviewSerializer)
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """What the reader finds in the stored file: format, columns, first rows."""
        return Response(ImportPreviewSerializer(jobs.import_preview(self.get_object())).data)

    @extend_schema(
        responses={(200, "text/csv"): OpenApiResponse(OpenApiTypes.STR)},
    )
    @action(detail=True, methods=["get"], renderer_classes=[JSONRenderer, CSVRenderer])
    def errors(self, request: Request, pk: str | None = None) -> HttpResponse:
        """Every error of the run as CSV (UTF-8 with BOM, semicolons): row, column, value."""
        run = self.get_object()
        response = HttpResponse(
            BOM + jobs.error_report_csv(run), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = _csv_attachment(f"import-{run.pk}-errors.csv")
        return response

    @extend_schema(
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR),
            404: OpenApiResponse(description=gettext_lazy("The run has no bad rows to give back.")),
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="bad-rows",
        renderer_classes=[JSONRenderer, CSVRenderer],
    )
    def bad_rows(self, request: Request, pk: str | None = None) -> StreamingHttpResponse:
        """The bad rows with the file's own header and a Problems column: fix, upload again."""
        run = self.get_object()
        if not jobs.has_bad_rows_file(run):
            raise NotFound(_("This import has no bad rows to give back."))
        response = StreamingHttpResponse(
            chain([BOM], jobs.bad_rows_csv(run)), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = _csv_attachment(f"import-{run.pk}-bad-rows.csv")
        return response
