"""Serializers of the segmentation API; all read-only except the new rule-set version."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from crm.api.serializers import OwnerSerializer
from crm.choices import SalesType
from crm.models import Client
from segmentation import forms as rule_forms
from segmentation.choices import (
    RATED_SEGMENT_CHOICES,
    AbcClass,
    LifecycleStatus,
    PotentialMode,
    Segment,
    ServingRole,
)
from segmentation.models import ClientMetricSnapshot, MetricRun, SegmentOverride, SegmentRuleSet
from segmentation.models.rules import clean_group_limits, product_group_names
from segmentation.selectors import (
    REACTIVATOR_ROLE,
    CoolingReason,
    MovementKind,
    RuleChange,
    touch_due_on,
)

RATED = [str(s) for s in rule_forms.SEGMENTS]


def code_field(choices: type[models.TextChoices], **kwargs: Any) -> serializers.CharField:
    """A read-only code listed in the help text rather than as an enum.

    A second OpenAPI enum of the same codes (or of another set under the same
    field name) would make drf-spectacular warn; the enum is documented once,
    on the client-metrics component.
    """
    codes = ", ".join(str(value) for value in choices.values)
    return serializers.CharField(
        read_only=True, help_text=format_lazy("{}: {}", _("One of"), codes), **kwargs
    )


class ClientRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Client
        fields = ["id", "name", "external_id", "inn"]
        read_only_fields = fields


class MetricRunSerializer(serializers.ModelSerializer):
    """One recompute: what ran, on which rules, how it ended, and its counts."""

    rule_set_version = serializers.IntegerField(
        source="rule_set.version", read_only=True, allow_null=True
    )
    started_by = OwnerSerializer(read_only=True, allow_null=True)
    clients_recomputed = serializers.SerializerMethodField(
        help_text=_("Incremental runs: how many clients were recomputed; null for a full run.")
    )
    counts = serializers.DictField(read_only=True)

    class Meta:
        model = MetricRun
        fields = [
            "id",
            "as_of",
            "status",
            "kind",
            "trigger",
            "rule_set_version",
            "base_run",
            "holds_rows",
            "is_month_end",
            "potential_threshold",
            "started_by",
            "started_at",
            "finished_at",
            "duration_ms",
            "clients_recomputed",
            "counts",
            "error",
        ]
        read_only_fields = fields

    def get_clients_recomputed(self, run: MetricRun) -> int | None:
        return None if run.client_ids is None else len(run.client_ids)


class ClientMetricSerializer(serializers.ModelSerializer):
    """A client's metrics in one stored run, with the owner and team of that time."""

    client = ClientRefSerializer(read_only=True)
    owner = OwnerSerializer(read_only=True)
    as_of = serializers.SerializerMethodField()
    suggested_sales_type = code_field(SalesType)
    abc_margin = code_field(AbcClass)

    class Meta:
        model = ClientMetricSnapshot
        fields = [
            "client",
            "as_of",
            "run",
            "owner",
            "team",
            "sales_type",
            "segment",
            "rule_segment",
            "status",
            "revenue_12m",
            "revenue_prev_12m",
            "revenue_ytd",
            "revenue_prev_ytd",
            "margin_12m",
            "yoy_growth",
            "orders_12m",
            "avg_check_12m",
            "skus_12m",
            "groups_12m",
            "first_order_on",
            "second_order_on",
            "last_order_on",
            "days_since_last_order",
            "usual_gap_days",
            "suggested_sales_type",
            "wallet",
            "wallet_year",
            "wallet_verified_on",
            "share_of_wallet",
            "share_band",
            "abc",
            "abc_margin",
            "xyz",
            "xyz_cv",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField())
    def get_as_of(self, row: ClientMetricSnapshot) -> Any:
        run = self.context.get("run")
        return None if run is None else run.as_of.isoformat()


class _WorkListRowSerializer(serializers.ModelSerializer):
    client = ClientRefSerializer(read_only=True)
    owner = OwnerSerializer(read_only=True)
    status = code_field(LifecycleStatus)


class OverdueTouchSerializer(_WorkListRowSerializer):
    last_touch_at = serializers.DateTimeField(
        read_only=True, allow_null=True, help_text=_("Null: the client was never touched.")
    )
    max_days_between_touches = serializers.IntegerField(read_only=True)
    due_on = serializers.SerializerMethodField(
        help_text=_("The day the next touch was due; null when the client was never touched.")
    )

    class Meta:
        model = ClientMetricSnapshot
        fields = [
            "client",
            "owner",
            "segment",
            "status",
            "last_touch_at",
            "max_days_between_touches",
            "due_on",
            "last_order_on",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_due_on(self, row: ClientMetricSnapshot) -> Any:
        due = touch_due_on(row)
        return None if due is None else due.isoformat()


class SleepingSerializer(_WorkListRowSerializer):
    reactivated_by = serializers.SerializerMethodField(
        help_text=_(
            "The role that reactivates the client: a developer for transactional and mixed "
            "sales, the client manager for consultative ones."
        )
    )

    class Meta:
        model = ClientMetricSnapshot
        fields = [
            "client",
            "owner",
            "status",
            "segment",
            "sales_type",
            "last_order_on",
            "days_since_last_order",
            "usual_gap_days",
            "revenue_12m",
            "revenue_prev_12m",
            "reactivated_by",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_reactivated_by(self, row: ClientMetricSnapshot) -> str | None:
        role = REACTIVATOR_ROLE.get(row.sales_type)  # type: ignore[call-overload]
        return None if role is None else str(role)


class UnratedSerializer(_WorkListRowSerializer):
    has_draft_wallet = serializers.BooleanField(
        read_only=True, help_text=_("A wallet estimate waits for a head's verification.")
    )

    class Meta:
        model = ClientMetricSnapshot
        fields = [
            "client",
            "owner",
            "status",
            "revenue_12m",
            "orders_12m",
            "last_order_on",
            "abc",
            "has_draft_wallet",
        ]
        read_only_fields = fields


class SegmentMovementSerializer(_WorkListRowSerializer):
    owner = OwnerSerializer(read_only=True, help_text=_("The owner in the later run: credited."))
    from_segment = code_field(Segment)
    to_segment = code_field(Segment, source="segment")
    move = serializers.ChoiceField(choices=MovementKind.choices, read_only=True)
    from_owner_id = serializers.IntegerField(read_only=True)
    from_as_of = serializers.DateField(read_only=True)
    to_as_of = serializers.DateField(read_only=True)

    class Meta:
        model = ClientMetricSnapshot
        fields = [
            "client",
            "owner",
            "from_segment",
            "to_segment",
            "move",
            "from_owner_id",
            "from_as_of",
            "to_as_of",
        ]
        read_only_fields = fields


class CoolingSerializer(serializers.Serializer):
    client = ClientRefSerializer(read_only=True)
    owner = OwnerSerializer(source="snapshot.owner", read_only=True)
    kams = OwnerSerializer(many=True, read_only=True)
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=CoolingReason.choices), read_only=True
    )
    revenue_12m = serializers.DecimalField(
        source="snapshot.revenue_12m", max_digits=18, decimal_places=2, read_only=True
    )
    revenue_prev_12m = serializers.DecimalField(
        source="snapshot.revenue_prev_12m", max_digits=18, decimal_places=2, read_only=True
    )
    last_touch_at = serializers.DateTimeField(
        source="snapshot.last_touch_at", read_only=True, allow_null=True
    )
    max_days_between_touches = serializers.IntegerField(
        source="snapshot.max_days_between_touches", read_only=True
    )


class RuleChangeSerializer(serializers.Serializer):
    setting = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class SegmentSettingsSerializer(serializers.Serializer):
    """One segment's display settings and service standards."""

    name = serializers.CharField(
        max_length=rule_forms.NAME_MAX_LENGTH,
        error_messages={"blank": rule_forms.NAME_REQUIRED, "required": rule_forms.NAME_REQUIRED},
    )
    colour = serializers.CharField(max_length=7, validators=[rule_forms.validate_colour])
    strategy = serializers.CharField(
        max_length=rule_forms.STRATEGY_MAX_LENGTH,
        allow_blank=True,
        help_text=_("Empty: the built-in strategy of the segment."),
    )
    max_days_between_touches = serializers.IntegerField(
        validators=[rule_forms.validate_days, rule_forms.validate_days_max],
        error_messages={"invalid": rule_forms.DAYS_AT_LEAST_ONE},
    )
    serving_role = serializers.ChoiceField(choices=ServingRole.choices)
    key_account_plan_required = serializers.BooleanField()
    review_cadence_days = serializers.IntegerField(
        validators=[rule_forms.validate_days, rule_forms.validate_days_max],
        error_messages={"invalid": rule_forms.DAYS_AT_LEAST_ONE},
    )


class SegmentsSerializer(serializers.Serializer):
    A = SegmentSettingsSerializer()
    B = SegmentSettingsSerializer()
    C = SegmentSettingsSerializer()
    D = SegmentSettingsSerializer()


class GroupLimitSerializer(serializers.Serializer):
    """One product group's own share threshold and band limits, as fractions (0.10 = 10 %)."""

    name = serializers.CharField(read_only=True, help_text=_("The product group's name."))
    share_threshold = serializers.DecimalField(
        max_digits=None,
        decimal_places=None,
        required=False,
        allow_null=True,
        help_text=_("High share from this fraction up; null: the rule set's share threshold."),
    )
    band_limits = serializers.ListField(
        child=serializers.DecimalField(max_digits=None, decimal_places=None),
        required=False,
        allow_null=True,
        help_text=_(
            "Secondary from, main from, dominant from (rising fractions); null: the standard bands."
        ),
    )


def group_limits_field(**kwargs: Any) -> serializers.DictField:
    kwargs.setdefault(
        "help_text", _("Keyed by product group id; groups not listed use the defaults.")
    )
    return serializers.DictField(child=GroupLimitSerializer(), **kwargs)


class SegmentRuleSetSerializer(serializers.ModelSerializer):
    """A version of the segment rules, with what it changed against the one before.

    Names and strategies are given as shown: the built-in (translated) text
    where the version keeps the default.
    """

    segments = serializers.SerializerMethodField()
    group_limits = group_limits_field(read_only=True)
    created_by = OwnerSerializer(read_only=True, allow_null=True)
    changes = serializers.SerializerMethodField(
        help_text=_("What this version changed against the previous one; empty for the first.")
    )

    class Meta:
        model = SegmentRuleSet
        fields = [
            "id",
            "version",
            "potential_mode",
            "potential_value",
            "share_threshold",
            "priority",
            "segments",
            "group_limits",
            "comment",
            "created_by",
            "created_at",
            "changes",
        ]
        read_only_fields = fields

    @extend_schema_field(SegmentsSerializer)
    def get_segments(self, rule_set: SegmentRuleSet) -> dict[str, Any]:
        return {
            key: {
                **(rule_set.segments.get(key) or {}),
                "name": rule_set.segment_name(key),
                "strategy": rule_set.segment_strategy(key),
            }
            for key in RATED
        }

    @extend_schema_field(RuleChangeSerializer(many=True))
    def get_changes(self, rule_set: SegmentRuleSet) -> list[dict[str, str]]:
        changes: dict[int, list[RuleChange]] = self.context.get("changes", {})
        return [
            {"setting": c.setting, "old": c.old, "new": c.new} for c in changes.get(rule_set.pk, [])
        ]


class SegmentRuleSetCreateSerializer(serializers.Serializer):
    """A new version: the settings given replace those of the version in force."""

    potential_mode = serializers.ChoiceField(choices=PotentialMode.choices, required=False)
    potential_value = serializers.DecimalField(max_digits=18, decimal_places=2, required=False)
    share_threshold = serializers.DecimalField(
        max_digits=5,
        decimal_places=4,
        required=False,
        help_text=_("A fraction: 0.10 = 10 %."),
    )
    priority = serializers.ListField(child=serializers.ChoiceField(choices=RATED), required=False)
    segments = SegmentsSerializer(required=False, help_text=_("All four segments, each complete."))
    group_limits = group_limits_field(
        required=False,
        help_text=_(
            "Replaces every product group's limits: keyed by product group id; groups not "
            "listed use the defaults."
        ),
    )
    comment = serializers.CharField(
        max_length=2000,
        error_messages={
            "blank": rule_forms.COMMENT_REQUIRED,
            "required": rule_forms.COMMENT_REQUIRED,
        },
    )

    def validate_share_threshold(self, value: Decimal) -> Decimal:
        if not (Decimal(0) < value <= Decimal(1)):
            raise serializers.ValidationError(rule_forms.SHARE_FRACTION_RANGE)
        return value

    def validate_group_limits(self, value: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Each group must exist and its fractions fit; the messages name the group."""
        plain = {
            key: {name: entry.get(name) for name in ("share_threshold", "band_limits")}
            for key, entry in value.items()
        }
        cleaned, problems = clean_group_limits(plain, names=product_group_names(plain))
        if problems:
            raise serializers.ValidationError(problems)
        return cleaned

    def validate_priority(self, value: list[str]) -> list[str]:
        if len(value) != len(set(value)):
            raise serializers.ValidationError(rule_forms.PRIORITY_DUPLICATE)
        if sorted(value) != RATED:
            raise serializers.ValidationError(rule_forms.PRIORITY_SET)
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        current: SegmentRuleSet = self.context["rule_set"]
        mode = attrs.get("potential_mode", current.potential_mode)
        value = attrs.get("potential_value", Decimal(current.potential_value))
        problem = rule_forms.potential_value_error(mode, value)
        if problem:
            raise serializers.ValidationError({"potential_value": [problem]})
        if rule_forms.unchanged(current, self.changes(attrs)):
            raise serializers.ValidationError(
                {api_settings.NON_FIELD_ERRORS_KEY: [rule_forms.NOTHING_CHANGED]}
            )
        return attrs

    def changes(self, attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        """The validated input as ``segment_rule_set_save`` takes it."""
        data = self.validated_data if attrs is None else attrs
        changes = {
            name: data[name]
            for name in (
                "potential_mode",
                "potential_value",
                "share_threshold",
                "priority",
                "group_limits",
            )
            if name in data
        }
        if "segments" in data:
            changes["segments"] = {
                key: {
                    **values,
                    "name": rule_forms.stored_text(key, "name", values["name"]),
                    "strategy": rule_forms.stored_text(key, "strategy", values["strategy"]),
                    "colour": values["colour"].lower(),
                }
                for key, values in data["segments"].items()
            }
        return changes


class SegmentOverrideSerializer(serializers.ModelSerializer):
    client = ClientRefSerializer(read_only=True)
    set_by = OwnerSerializer(read_only=True)

    class Meta:
        model = SegmentOverride
        fields = ["client", "segment", "reason", "set_by", "set_at"]


class SegmentOverrideWriteSerializer(serializers.Serializer):
    """Set or change one client's override (heads of the client's team)."""

    client = serializers.IntegerField()
    segment = serializers.ChoiceField(choices=RATED_SEGMENT_CHOICES)
    reason = serializers.CharField(max_length=500)


class SegmentOverrideRemoveSerializer(serializers.Serializer):
    """Why an override is removed (``?reason=`` of the DELETE), checked like the page's form."""

    reason = serializers.CharField(
        max_length=500,
        error_messages={
            "required": rule_forms.OVERRIDE_REMOVE_REASON_REQUIRED,
            "blank": rule_forms.OVERRIDE_REMOVE_REASON_REQUIRED,
        },
    )
