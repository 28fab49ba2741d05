from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from accounts.models import User
from accounts.selectors import assignable_owners_for, clients_visible_to
from crm.choices import TaskKind
from crm.models import Client, Contact, OwnershipChange, WalletEstimate
from crm.selectors import merged_client_survivor
from crm.services import CLIENT_EDITABLE_FIELDS, CONTACT_EDITABLE_FIELDS
from crm.services.client_list import BULK_TASK_MAX


class OwnerSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="__str__", read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "name"]


class VersionedSerializer(serializers.ModelSerializer):
    """A record edited with optimistic locking: an update carries the version read
    (the service refuses a stale one)."""

    version = serializers.IntegerField(
        required=False,
        min_value=1,
        help_text=_(
            "Required on update: the version you read; a newer one on the server is a conflict."
        ),
    )
    version_missing: Any = None  # the refusal of an update without it

    def needs_version(self, attrs: dict[str, Any]) -> bool:
        """Whether this call must carry the version read: every update."""
        return self.instance is not None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.needs_version(attrs) and attrs.get("version") is None:
            raise serializers.ValidationError({"version": self.version_missing})
        return attrs


class ClientSerializer(VersionedSerializer):
    """A client card. The owner is set on creation only (heads may choose it)."""

    version_missing = _(
        "Send the version of the client you read: without it a change "
        "could overwrite someone else's unseen."
    )

    owner = OwnerSerializer(read_only=True)
    owner_id = serializers.IntegerField(
        write_only=True,
        required=False,
        help_text=_("On creation: the owner's user id (heads only; default: yourself)."),
    )
    parent = serializers.PrimaryKeyRelatedField(  # type: ignore[assignment]
        queryset=Client.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Client
        fields = [
            "id",
            *CLIENT_EDITABLE_FIELDS,
            "conveyor_stage",
            "owner",
            "owner_id",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["conveyor_stage", "created_at", "updated_at"]
        # Uniqueness is checked by the model (one code path with the pages),
        # which puts its own message on the field.
        validators: list[Any] = []
        extra_kwargs: dict[str, dict[str, Any]] = {"external_id": {"validators": []}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["parent"].queryset = clients_visible_to(user=request.user)  # type: ignore[attr-defined]

    def validate_owner_id(self, value: int) -> User:
        request = self.context["request"]
        if self.instance is not None:
            raise serializers.ValidationError(
                _("The owner changes only through a reassignment or a handoff.")
            )
        owner = assignable_owners_for(user=request.user).filter(pk=value).first()
        if owner is None:
            raise serializers.ValidationError(
                _("Unknown user, or one you may not make the owner of a client.")
            )
        return owner


class ContactSerializer(VersionedSerializer):
    version_missing = _(
        "Send the version of the contact you read: without it a change "
        "could overwrite someone else's unseen."
    )
    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    reports_to = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.none(), required=False, allow_null=True
    )

    class Meta:
        model = Contact
        fields = ["id", "client", *CONTACT_EDITABLE_FIELDS, "version", "created_at"]
        read_only_fields = ["created_at"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            visible = clients_visible_to(user=request.user)
            self.fields["client"].queryset = visible  # type: ignore[attr-defined]
            self.fields["reports_to"].queryset = Contact.objects.filter(  # type: ignore[attr-defined]
                client__in=visible.values("id")
            )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (
            self.instance is not None
            and "client" in attrs
            and attrs["client"] != self.instance.client
        ):
            raise serializers.ValidationError(
                {"client": _("A contact cannot be moved to another client.")}
            )
        return super().validate(attrs)


class ReassignSerializer(serializers.Serializer):
    """Give a client to another owner (heads only)."""

    new_owner_id = serializers.IntegerField()
    note = serializers.CharField(required=False, allow_blank=True, default="")

    def validate_new_owner_id(self, value: int) -> User:
        owner = assignable_owners_for(user=self.context["request"].user).filter(pk=value).first()
        if owner is None:
            raise serializers.ValidationError(
                _("Unknown user, or one you may not make the owner of a client.")
            )
        return owner


class WalletEstimateSerializer(serializers.ModelSerializer):
    """A turnover or wallet estimate. New ones are drafts until a head reviews them."""

    client = serializers.PrimaryKeyRelatedField(queryset=Client.objects.none())
    per_month = serializers.BooleanField(
        write_only=True,
        required=False,
        default=False,
        help_text=_("The amount is per month: it is stored multiplied by 12."),
    )
    entered_by = OwnerSerializer(read_only=True)
    reviewed_by = OwnerSerializer(read_only=True)

    class Meta:
        model = WalletEstimate
        fields = [
            "id",
            "client",
            "kind",
            "year",
            "amount",
            "per_month",
            "product_group",
            "basis",
            "comment",
            "status",
            "entered_by",
            "entered_at",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = ["status", "entered_at", "reviewed_at", "review_comment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None and request.user.is_authenticated:
            self.fields["client"].queryset = clients_visible_to(user=request.user)  # type: ignore[attr-defined]


class EstimateReviewSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class ClientMergeSerializer(serializers.Serializer):
    """Merge the card ``duplicate`` into the card of the URL (heads only)."""

    duplicate = serializers.IntegerField(
        help_text=_("The id of the card to retire; everything it holds moves to this one.")
    )
    preview = serializers.BooleanField(
        required=False, default=False, help_text=_("Only count what would move; change nothing.")
    )
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)

    def validate_duplicate(self, value: int) -> Client:
        user = self.context["request"].user
        client = clients_visible_to(user=user).filter(pk=value).first()
        if client is not None:
            return client
        if merged_client_survivor(user=user, pk=value) is not None:
            raise serializers.ValidationError(_("This client is already merged into another card."))
        raise serializers.ValidationError(_("Unknown client, or one you may not see."))


class ClientMergeResultSerializer(serializers.Serializer):
    preview = serializers.BooleanField()
    survivor = ClientSerializer()
    duplicate = serializers.IntegerField()
    moved = serializers.DictField(
        child=serializers.IntegerField(), help_text=_("Records of each kind moved (or to move).")
    )
    merged_at = serializers.DateTimeField(allow_null=True)


class MergedClientSerializer(serializers.Serializer):
    """What a retired card answers: where it lives now."""

    detail = serializers.CharField()
    merged_into = serializers.IntegerField()


# --- The card's history (GET /api/v1/clients/{id}/history/) --------------------


class SegmentChangeSerializer(serializers.Serializer):
    """A metric run in which the client's segment changed."""

    as_of = serializers.DateField(help_text=_("The as-of date of the metric run."))
    segment = serializers.CharField(help_text=_("The segment code in that run."))
    segment_label = serializers.CharField(help_text=_("The segment's name, in your language."))
    previous = serializers.CharField(
        allow_blank=True,
        help_text=_("The segment code before; empty in the first run that covered the client."),
    )
    status = serializers.CharField(help_text=_("The lifecycle status code in that run."))
    status_label = serializers.CharField(
        help_text=_("The lifecycle status's name, in your language.")
    )


class OwnershipChangeSerializer(serializers.ModelSerializer):
    """A change of the client's owner."""

    from_user = OwnerSerializer(
        read_only=True, allow_null=True, help_text=_("The previous owner; null for the first one.")
    )
    to_user = OwnerSerializer(read_only=True, help_text=_("The new owner."))
    changed_by = OwnerSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("Who made the change; null when no person is recorded."),
    )
    kind_label = serializers.CharField(
        source="get_kind_display",
        read_only=True,
        help_text=_("How the owner changed, in your language."),
    )

    class Meta:
        model = OwnershipChange
        fields = [
            "id",
            "changed_at",
            "from_user",
            "to_user",
            "kind",
            "kind_label",
            "changed_by",
            "note",
        ]
        read_only_fields = fields


class FieldChangeSerializer(serializers.Serializer):
    """One field of one save, with the values as the card shows them."""

    field = serializers.CharField(
        help_text=_("The field's name; unlike the label, it is not translated.")
    )
    # Shadows Field.label only for the type checker: DRF pops declared fields off the class.
    label = serializers.CharField(  # type: ignore[assignment]
        help_text=_("The field's label, in your language.")
    )
    old = serializers.CharField(
        help_text=_("The value before the save, as the card shows it (“—”: empty).")
    )
    new = serializers.CharField(
        help_text=_("The value after the save, as the card shows it (“—”: empty).")
    )


class FieldHistoryEntrySerializer(serializers.Serializer):
    """One save of the card and the fields it changed."""

    when = serializers.DateTimeField(help_text=_("When the card was saved."))
    user = OwnerSerializer(
        allow_null=True, help_text=_("Who saved it; null when no person is recorded.")
    )
    kind = serializers.CharField(help_text=_("“+” created, “~” changed, “-” deleted."))
    changes = FieldChangeSerializer(many=True)


class ClientHistorySerializer(serializers.Serializer):
    """The History tab of the card; each list newest first and capped as on the card."""

    segment_history = SegmentChangeSerializer(
        many=True, help_text=_("One row per metric run in which the segment changed.")
    )
    ownership_changes = OwnershipChangeSerializer(
        many=True, help_text=_("Changes of the owner, newest first.")
    )
    field_history = FieldHistoryEntrySerializer(
        many=True, help_text=_("Saves of the card with the fields each changed, newest first.")
    )


# --- A task for each client of a selection (POST /api/v1/clients/bulk-task/) --


class BulkTaskSerializer(serializers.Serializer):
    """The client list's bulk action: one task for each selected client one may change."""

    clients = serializers.ListField(
        # An id no row can have would overflow the database's integers.
        child=serializers.IntegerField(
            min_value=1, max_value=connection.ops.integer_field_range("BigAutoField")[1]
        ),
        required=False,
        max_length=BULK_TASK_MAX,
        help_text=_(
            "Ids of the selected clients among those the query's filters match; "
            "without it, every client they match."
        ),
    )
    title = serializers.CharField(max_length=300, help_text=_("The task."))
    kind = serializers.ChoiceField(choices=TaskKind.choices, default=TaskKind.TOUCH)
    due_on = serializers.DateField(help_text=_("Today or later."))
    description = serializers.CharField(required=False, allow_blank=True, default="")
    to_owners = serializers.BooleanField(
        default=False,
        help_text=_("Give each task to the client's owner; otherwise you take them all."),
    )


class BulkTaskFailureSerializer(serializers.Serializer):
    client = serializers.IntegerField()
    reason = serializers.CharField()


class BulkTaskResultSerializer(serializers.Serializer):
    created = serializers.ListField(
        child=serializers.IntegerField(), help_text=_("Clients given a task.")
    )
    only_readable = serializers.ListField(
        child=serializers.IntegerField(),
        help_text=_("Clients you may only read: no task for them."),
    )
    failed = BulkTaskFailureSerializer(
        many=True, help_text=_("Clients whose task was refused, and why.")
    )
