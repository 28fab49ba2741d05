"""/api/v1/activities/, tasks/, survey-answers/, dossier-notes/: the daily work.

The same scope and predicates as the pages: a client the user does not see
is refused on the ``client`` field with the message of an unknown id (its
existence does not leak); a visible client the user may not change is 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.settings import api_settings

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm import choices, selectors, services
from crm.api.serializers import OwnerSerializer, VersionedSerializer
from crm.api.views import LanguageOfUserMixin, conflict_response
from crm.models import (
    Activity,
    Client,
    Contact,
    DossierNote,
    NoteVisibility,
    SurveyAnswer,
    SurveyKind,
    Task,
)


def _user(serializer: serializers.BaseSerializer) -> User | None:
    request = serializer.context.get("request")
    user = getattr(request, "user", None)
    return user if isinstance(user, User) else None


class _ScopedClientMixin:
    """Scopes ``client`` (and ``contact``) choices to what the user sees."""

    fields: Any

    def _scope(self) -> None:
        user = _user(self)  # type: ignore[arg-type]
        request = self.context.get("request")  # type: ignore[attr-defined]
        if user is None or request is None or request.method in SAFE_METHODS:
            return  # choices matter only to writes; a list should not pay for them
        visible = clients_visible_to(user=user)
        if "client" in self.fields:
            self.fields["client"].queryset = visible
        if "contact" in self.fields:
            self.fields["contact"].queryset = Contact.objects.filter(
                client__in=visible.values("id")
            )


def _check_contact(attrs: dict[str, Any]) -> None:
    contact = attrs.get("contact")
    if contact is not None and contact.client_id != attrs["client"].pk:
        raise serializers.ValidationError({"contact": [_("Choose a contact of this client.")]})


# --- Activities ---------------------------------------------------------------


class NextStepSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=300)
    due_on = serializers.DateField()

    def validate_due_on(self, value: dt.date) -> dt.date:
        if value < timezone.localdate():
            raise serializers.ValidationError(_("The due date cannot be in the past."))
        return value

    assignee_id = serializers.IntegerField(
        required=False, help_text=_("Default: yourself. A head may choose one of their people.")
    )


class ReactivationSerializer(serializers.Serializer):
    side = serializers.ChoiceField(
        choices=services.LapseSide.choices, default=services.LapseSide.UNKNOWN
    )
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ActivitySerializer(_ScopedClientMixin, serializers.ModelSerializer):
    """A touch. On creation it may carry a next-step task and be a reactivation attempt."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    performed_by = OwnerSerializer(read_only=True)
    entered_by = OwnerSerializer(read_only=True)
    performed_by_id = serializers.IntegerField(
        write_only=True,
        required=False,
        help_text=_("Back office only: the manager who gets the credit."),
    )
    next_task = NextStepSerializer(write_only=True, required=False)
    reactivation = ReactivationSerializer(write_only=True, required=False)

    class Meta:
        model = Activity
        fields = [
            "id",
            "client",
            "contact",
            "kind",
            "purpose",
            "initiated_by",
            "occurred_at",
            "duration_minutes",
            "summary",
            "outcome",
            "performed_by",
            "performed_by_id",
            "entered_by",
            "next_task",
            "reactivation",
        ]
        extra_kwargs: dict[str, dict[str, Any]] = {"occurred_at": {"required": False}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope()

    def validate_performed_by_id(self, value: int) -> User:
        user = _user(self)
        assert user is not None
        performer = selectors.touch_performers_for(user=user).filter(pk=value).first()
        if performer is None:
            raise serializers.ValidationError(
                _("You may enter touches only for the managers you serve.")
            )
        return performer

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_contact(attrs)
        return attrs


class ActivityFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id")
    kind = django_filters.ChoiceFilter(choices=choices.ActivityKind.choices)
    performed_by_id = django_filters.NumberFilter(field_name="performed_by_id")

    class Meta:
        model = Activity
        fields = ["client_id", "kind", "performed_by_id"]


class ActivityViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Touches are facts: logged, never edited or deleted through the API."""

    queryset = Activity.objects.none()
    serializer_class = ActivitySerializer
    filterset_class = ActivityFilterSet
    ordering = ["-occurred_at", "-id"]

    def get_queryset(self) -> QuerySet[Activity]:
        if getattr(self, "swagger_fake_view", False):
            return Activity.objects.none()
        assert isinstance(self.request.user, User)
        return selectors.activities_visible_to(user=self.request.user).select_related(
            "performed_by", "entered_by"
        )

    def perform_create(self, serializer: ActivitySerializer) -> None:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User)
        data: dict[str, Any] = dict(serializer.validated_data)
        next_task = data.pop("next_task", None)
        reactivation = data.pop("reactivation", None)
        performer = data.pop("performed_by_id", None)
        next_step = None
        if next_task is not None:
            assignee = None
            if "assignee_id" in next_task:
                assignee = (
                    selectors.task_assignees_for(user=user)
                    .filter(pk=next_task["assignee_id"])
                    .first()
                )
                if assignee is None:
                    raise serializers.ValidationError(
                        {"next_task": {"assignee_id": [_("You cannot give a task to this user.")]}}
                    )
            next_step = services.NextStep(
                title=next_task["title"], due_on=next_task["due_on"], assignee=assignee
            )
        try:
            serializer.instance = services.activity_log(
                acting_user=user,
                performed_by=performer,
                next_step=next_step,
                reactivation=(
                    services.ReactivationAttempt(**reactivation) if reactivation else None
                ),
                **data,
            )
        except DjangoValidationError as error:
            raise serializers.ValidationError(_next_task_errors(error)) from None


def _next_task_errors(error: DjangoValidationError) -> dict[str, Any]:
    """The service names the fields of the touch form (``next_due_on``); the API
    nests them under ``next_task``."""
    if not hasattr(error, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}
    detail: dict[str, Any] = {}
    for key, messages in error.message_dict.items():
        if key.startswith("next_"):
            name = key.removeprefix("next_")
            name = "assignee_id" if name == "assignee" else name
            detail.setdefault("next_task", {})[name] = messages
        else:
            detail[key] = messages
    return detail


# --- Tasks --------------------------------------------------------------------


class TaskSerializer(_ScopedClientMixin, VersionedSerializer):
    """A task. The status changes through ``status`` (open, done, cancelled), the
    assignee through ``assignee_id``; both keep history."""

    client = serializers.PrimaryKeyRelatedField(
        queryset=Client.objects.none(), required=False, allow_null=True
    )
    assignee = OwnerSerializer(read_only=True)
    created_by = OwnerSerializer(read_only=True)
    assignee_id = serializers.IntegerField(
        write_only=True,
        required=False,
        help_text=_("Default: yourself. A head may choose one of their people."),
    )
    overdue = serializers.SerializerMethodField()
    version_missing = _(
        "Send the version of the task you read: without it a change "
        "could overwrite someone else's unseen."
    )

    class Meta:
        model = Task
        fields = [
            "id",
            "client",
            "title",
            "kind",
            "due_on",
            "status",
            "description",
            "assignee",
            "assignee_id",
            "created_by",
            "created_at",
            "completed_at",
            "overdue",
            "version",
        ]
        read_only_fields = ["created_at", "completed_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope()

    def get_overdue(self, task: Task) -> bool:
        return task.status == choices.TaskStatus.OPEN and task.due_on < timezone.localdate()

    def validate_assignee_id(self, value: int) -> User:
        user = _user(self)
        assert user is not None
        assignee = selectors.task_assignees_for(user=user).filter(pk=value).first()
        if assignee is None and self.instance is not None and self.instance.assignee_id == value:
            assignee = self.instance.assignee
        if assignee is None:
            raise serializers.ValidationError(_("You cannot give a task to this user."))
        return assignee

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "client" in attrs
            and attrs["client"] != self.instance.client
        ):
            raise serializers.ValidationError(
                {"client": [_("A task cannot be moved to another client.")]}
            )
        if self.instance is None and attrs.get("status", choices.TaskStatus.OPEN) != "open":
            raise serializers.ValidationError({"status": [_("A new task is open.")]})
        return super().validate(attrs)

    def needs_version(self, attrs: dict[str, Any]) -> bool:
        """An update of the fields or the assignee; a status change alone is an action
        checked on its own (a task done twice is refused)."""
        edits = set(attrs) & {*services.TASK_EDITABLE_FIELDS, "assignee_id"}
        return self.instance is not None and bool(edits)


class TaskFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id")
    status = django_filters.ChoiceFilter(choices=choices.TaskStatus.choices)
    kind = django_filters.ChoiceFilter(choices=choices.TaskKind.choices)
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("Only mine"))
    overdue = django_filters.BooleanFilter(
        method="filter_overdue", label=pgettext_lazy("task filter", "Overdue")
    )
    # Inclusive, so "due today and overdue" is ``?due_before=<today>&status=open``.
    due_before = django_filters.DateFilter(
        field_name="due_on", lookup_expr="lte", label=_("Due on or before")
    )
    due_after = django_filters.DateFilter(
        field_name="due_on", lookup_expr="gte", label=_("Due on or after")
    )

    class Meta:
        model = Task
        fields = ["client_id", "status", "kind", "mine", "overdue", "due_before", "due_after"]

    def filter_mine(self, queryset: QuerySet[Task], name: str, value: bool) -> QuerySet[Task]:
        return queryset.filter(assignee=self.request.user) if value else queryset

    def filter_overdue(self, queryset: QuerySet[Task], name: str, value: bool) -> QuerySet[Task]:
        if not value:
            return queryset
        return queryset.filter(status="open", due_on__lt=timezone.localdate())


class TaskViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Tasks the user sees (``?mine=true``: only theirs); never deleted: cancel them."""

    queryset = Task.objects.none()
    serializer_class = TaskSerializer
    filterset_class = TaskFilterSet
    ordering = ["due_on", "id"]

    def get_queryset(self) -> QuerySet[Task]:
        if getattr(self, "swagger_fake_view", False):
            return Task.objects.none()
        assert isinstance(self.request.user, User)
        return selectors.tasks_visible_to(user=self.request.user).select_related(
            "assignee", "created_by"
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A stale ``version`` is a 409 naming each field changed since, then and now."""
        try:
            return super().update(request, *args, **kwargs)
        except services.EditConflict as error:
            return conflict_response(error)

    def perform_create(self, serializer: TaskSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User)
        data: dict[str, Any] = dict(serializer.validated_data)
        data.pop("status", None)
        data.pop("version", None)
        serializer.instance = services.task_create(
            acting_user=user, assignee=data.pop("assignee_id", None), **data
        )

    @transaction.atomic
    def perform_update(self, serializer: TaskSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User)
        task = serializer.instance
        assert isinstance(task, Task)
        if not selectors.task_can_change(user=user, task=task):
            raise PermissionDenied
        data: dict[str, Any] = dict(serializer.validated_data)
        data.pop("client", None)
        status = data.pop("status", None)
        assignee = data.pop("assignee_id", None)
        version = data.pop("version", None)
        if data:
            task = services.task_update(
                task=task, acting_user=user, expected_version=version, **data
            )
            version = None  # checked; the reassignment below follows this save
        if assignee is not None:
            task = services.task_reassign(
                task=task, assignee=assignee, acting_user=user, expected_version=version
            )
        if status == choices.TaskStatus.DONE:
            task = services.task_complete(task=task, acting_user=user)
        elif status == choices.TaskStatus.CANCELLED:
            task = services.task_cancel(task=task, acting_user=user)
        elif status == choices.TaskStatus.OPEN:
            task = services.task_reopen(task=task, acting_user=user)
        serializer.instance = task


# --- Survey answers -----------------------------------------------------------


class SurveyAnswerSerializer(_ScopedClientMixin, serializers.ModelSerializer):
    """An answer; one below the threshold opens a follow-up task (``follow_up``)."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )
    kind = serializers.ChoiceField(choices=SurveyKind.choices)
    entered_by = OwnerSerializer(read_only=True)

    class Meta:
        model = SurveyAnswer
        fields = [
            "id",
            "client",
            "contact",
            "kind",
            "score",
            "comment",
            "answered_on",
            "entered_by",
            "entered_at",
            "follow_up",
        ]
        read_only_fields = ["entered_at", "follow_up"]
        validators: list[Any] = []  # the model's scale check speaks through the service

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_contact(attrs)
        return attrs


class SurveyAnswerFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id")
    kind = django_filters.ChoiceFilter(choices=SurveyKind.choices)

    class Meta:
        model = SurveyAnswer
        fields = ["client_id", "kind"]


class SurveyAnswerViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    queryset = SurveyAnswer.objects.none()
    serializer_class = SurveyAnswerSerializer
    filterset_class = SurveyAnswerFilterSet
    ordering = ["-answered_on", "-id"]

    def get_queryset(self) -> QuerySet[SurveyAnswer]:
        if getattr(self, "swagger_fake_view", False):
            return SurveyAnswer.objects.none()
        assert isinstance(self.request.user, User)
        return selectors.survey_answers_visible_to(user=self.request.user).select_related(
            "entered_by"
        )

    def perform_create(self, serializer: SurveyAnswerSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User)
        serializer.instance = services.survey_answer_record(
            acting_user=user, **dict(serializer.validated_data)
        )


# --- Dossier notes ------------------------------------------------------------


class DossierNoteSerializer(_ScopedClientMixin, serializers.ModelSerializer):
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    author = OwnerSerializer(read_only=True)
    visibility = serializers.ChoiceField(
        choices=NoteVisibility.choices, default=NoteVisibility.TEAM
    )

    class Meta:
        model = DossierNote
        fields = ["id", "client", "text", "visibility", "author", "created_at", "updated_at"]
        read_only_fields = ["created_at", "updated_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._scope()

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "client" in attrs
            and attrs["client"] != self.instance.client
        ):
            raise serializers.ValidationError(
                {"client": [_("A note cannot be moved to another client.")]}
            )
        return attrs


class DossierNoteFilterSet(django_filters.FilterSet):
    client_id = django_filters.NumberFilter(field_name="client_id")
    visibility = django_filters.ChoiceFilter(choices=NoteVisibility.choices)

    class Meta:
        model = DossierNote
        fields = ["client_id", "visibility"]


class DossierNoteViewSet(
    LanguageOfUserMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Notes the user may read; only their author changes a note; never deleted."""

    queryset = DossierNote.objects.none()
    serializer_class = DossierNoteSerializer
    filterset_class = DossierNoteFilterSet
    ordering = ["-created_at", "-id"]

    def get_queryset(self) -> QuerySet[DossierNote]:
        if getattr(self, "swagger_fake_view", False):
            return DossierNote.objects.none()
        assert isinstance(self.request.user, User)
        return selectors.dossier_notes_visible_to(user=self.request.user).select_related("author")

    def perform_create(self, serializer: DossierNoteSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User)
        serializer.instance = services.dossier_note_create(
            acting_user=user, **dict(serializer.validated_data)
        )

    def perform_update(self, serializer: DossierNoteSerializer) -> None:  # type: ignore[override]
        user = self.request.user
        assert isinstance(user, User)
        note = serializer.instance
        assert isinstance(note, DossierNote)
        data: dict[str, Any] = dict(serializer.validated_data)
        data.pop("client", None)
        serializer.instance = services.dossier_note_update(note=note, acting_user=user, **data)
