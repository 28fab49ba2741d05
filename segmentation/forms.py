"""The segment rules form, and the checks and messages the API shares with it.

A head edits the version in force; saving writes a new version through
``segment_rule_set_save``. The form shows the share threshold in per cent
(a head thinks "10 %"); the model and the API keep the fraction 0.10.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from crm.models import ProductGroup
from segmentation.choices import RATED_SEGMENT_CHOICES, PotentialMode, Segment, ServingRole
from segmentation.models import SegmentRuleSet
from segmentation.models.rules import (
    DEFAULT_STRATEGIES,
    GROUP_LIMITS_ASCENDING,
    SEGMENT_KEYS,
    default_band_limits,
    fraction_text,
    group_limit_values,
)

SEGMENTS = sorted(SEGMENT_KEYS)  # A, B, C, D
NAME_MAX_LENGTH = 60
STRATEGY_MAX_LENGTH = 1000

# Messages shared by the form and the API, so both refuse the same input alike.
NAME_REQUIRED = _("Give the segment a name.")
COLOUR_INVALID = _("Write the colour as # and six hexadecimal digits, e.g. #1f5fbf.")
DAYS_AT_LEAST_ONE = _("Give a whole number of days, at least 1.")
# A standard beyond ten years means nothing, and dates computed from a huge
# one fall off the calendar (the overdue lists subtract it from today).
DAYS_MAX = 3650
DAYS_AT_MOST = _("Give a whole number of days, at most %(limit_value)s (ten years).")
PERCENTILE_RANGE = _("A percentile lies above 0 and at most 100.")
AMOUNT_NOT_NEGATIVE = _("The potential threshold cannot be negative.")
SHARE_PERCENT_RANGE = _("The share threshold lies above 0 % and at most 100 %.")
SHARE_FRACTION_RANGE = _("The share threshold lies above 0 and at most 1 (0.10 = 10 %).")
PRIORITY_DUPLICATE = _("Each segment needs its own place in the priority order.")
PRIORITY_SET = _("The priority order lists each of A, B, C and D once.")
COMMENT_REQUIRED = _("Say why the rules change: the reason stays with the version.")
NOTHING_CHANGED = _("Nothing changed, so no new version was saved.")
STALE_VERSION = _(
    "Version %(version)s was saved while you were editing: reload the page and make your "
    "change on it."
)

# Per product group, in per cent like the overall threshold; each names its group.
GROUP_PERCENT_INVALID = _("Product group %(group)s: write a number of per cent, e.g. 12.5.")
GROUP_THRESHOLD_PERCENT_RANGE = _(
    "Product group %(group)s: the share threshold lies above 0 %% and at most 100 %%."
)
GROUP_LIMIT_PERCENT_RANGE = _(
    "Product group %(group)s: a band limit lies above 0 %% and at most 100 %%."
)
GROUP_PERCENT_PLACES = _("Product group %(group)s: write per cent with at most two decimals.")
# The per-group inputs: (field suffix, label); the band limits in the order they rise.
GROUP_THRESHOLD = "share"
GROUP_BANDS = ("secondary", "main", "dominant")
GROUP_INPUTS = (
    (GROUP_THRESHOLD, _("High share from, %")),
    ("secondary", _("Secondary supplier from, %")),
    ("main", _("Main supplier from, %")),
    ("dominant", _("Dominant from, %")),
)

validate_colour = RegexValidator(r"^#[0-9a-fA-F]{6}\Z", message=COLOUR_INVALID)
validate_days = MinValueValidator(1, message=DAYS_AT_LEAST_ONE)
validate_days_max = MaxValueValidator(DAYS_MAX, message=DAYS_AT_MOST)


def stored_text(key: str, setting: str, value: str) -> str:
    """What to store for a name or strategy: empty when it is the built-in text.

    An empty stored value means "the built-in one", which is translated at
    display time; storing the English (or Russian) default verbatim would
    freeze it in one language.
    """
    value = value.strip()
    built_in = str(Segment(key).label) if setting == "name" else str(DEFAULT_STRATEGIES[key])
    return "" if value == built_in else value


def plain(value: Decimal) -> str:
    """80.00 → "80", 12.50 → "12.5": no trailing zeros and never an exponent (8E+1)."""
    return format(value.normalize(), "f")


def potential_value_error(mode: str, value: Decimal) -> Any:
    """The message for a threshold value that does not fit its mode, or None."""
    if value < 0:
        return AMOUNT_NOT_NEGATIVE
    if mode == PotentialMode.PERCENTILE and not (Decimal(0) < value <= Decimal(100)):
        return PERCENTILE_RANGE
    return None


def unchanged(current: SegmentRuleSet, changes: Mapping[str, Any]) -> bool:
    """Whether saving ``changes`` would repeat the version in force."""
    for name, value in changes.items():
        old = getattr(current, name)
        if name == "group_limits":
            # Group names are kept for the history only: a renamed group is no change.
            if group_limit_values(old) != group_limit_values(value):
                return False
        elif isinstance(old, Decimal):
            if Decimal(old) != Decimal(value):
                return False
        elif old != value:
            return False
    return True


class SegmentRuleSetForm(forms.Form):
    """The rules in force, editable; per segment its name, colour, strategy and standards."""

    potential_mode = forms.ChoiceField(
        label=_("Potential threshold"), choices=PotentialMode.choices
    )
    potential_value = forms.DecimalField(
        label=_("Percentile or amount"),
        max_digits=18,
        decimal_places=2,
        help_text=_(
            "High potential = wallet at or above this percentile (0–100) of rated clients' "
            "wallets, or at or above this amount."
        ),
    )
    share_threshold_percent = forms.DecimalField(
        label=_("Share threshold, %"),
        max_digits=5,
        decimal_places=2,
        help_text=_(
            "High share of wallet from this many per cent up (10 % makes a main supplier)."
        ),
    )
    # The version the head started from: a version saved meanwhile is not
    # silently overwritten by this form's older values.
    base_version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    comment = forms.CharField(
        label=_("Reason for the change"),
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=2000,
        error_messages={"required": COMMENT_REQUIRED},
    )

    def __init__(self, *args: Any, rule_set: SegmentRuleSet, **kwargs: Any) -> None:
        self.rule_set = rule_set
        self.product_groups = list(ProductGroup.objects.order_by("name", "pk"))
        initial = self._initial(rule_set)
        initial.update(self._group_initial(rule_set))
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        for key in SEGMENTS:
            self.fields.update(self._segment_fields(key))
        defaults = [plain(limit * 100) for limit in default_band_limits()]
        for group in self.product_groups:
            self.fields.update(self._group_fields(group, defaults))
        self._group_limits: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _initial(rule_set: SegmentRuleSet) -> dict[str, Any]:
        initial: dict[str, Any] = {
            "base_version": rule_set.version,
            "potential_mode": rule_set.potential_mode,
            "potential_value": plain(Decimal(rule_set.potential_value)),
            "share_threshold_percent": plain(Decimal(rule_set.share_threshold) * 100),
        }
        priority = list(rule_set.priority or [])
        for key in SEGMENTS:
            values = rule_set.segments.get(key) or {}
            initial.update(
                {
                    f"{key}_name": rule_set.segment_name(key),
                    f"{key}_colour": values.get("colour", ""),
                    f"{key}_priority": priority.index(key) + 1 if key in priority else None,
                    f"{key}_strategy": rule_set.segment_strategy(key),
                    f"{key}_max_days_between_touches": values.get("max_days_between_touches"),
                    f"{key}_serving_role": values.get("serving_role"),
                    f"{key}_key_account_plan_required": values.get("key_account_plan_required"),
                    f"{key}_review_cadence_days": values.get("review_cadence_days"),
                }
            )
        return initial

    @staticmethod
    def _segment_fields(key: str) -> dict[str, forms.Field]:
        places = [(n, str(n)) for n in range(1, len(SEGMENTS) + 1)]
        return {
            f"{key}_name": forms.CharField(
                label=_("Name"),
                max_length=NAME_MAX_LENGTH,
                error_messages={"required": NAME_REQUIRED},
            ),
            f"{key}_colour": forms.CharField(
                label=_("Colour"),
                max_length=7,
                validators=[validate_colour],
                widget=forms.TextInput(attrs={"type": "color"}),
            ),
            f"{key}_priority": forms.TypedChoiceField(
                label=_("Place in the priority order"), choices=places, coerce=int
            ),
            f"{key}_strategy": forms.CharField(
                label=_("Strategy"),
                required=False,
                max_length=STRATEGY_MAX_LENGTH,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text=_("Empty: the built-in strategy of the segment."),
            ),
            f"{key}_max_days_between_touches": forms.IntegerField(
                label=_("Max days between touches"),
                validators=[validate_days, validate_days_max],
                error_messages={"invalid": DAYS_AT_LEAST_ONE},
            ),
            f"{key}_serving_role": forms.ChoiceField(
                label=_("Served by"), choices=ServingRole.choices
            ),
            f"{key}_key_account_plan_required": forms.BooleanField(
                label=_("Key-account plan required"), required=False
            ),
            f"{key}_review_cadence_days": forms.IntegerField(
                label=_("Review every, days"),
                validators=[validate_days, validate_days_max],
                error_messages={"invalid": DAYS_AT_LEAST_ONE},
            ),
        }

    @staticmethod
    def _group_initial(rule_set: SegmentRuleSet) -> dict[str, Any]:
        initial: dict[str, Any] = {}
        for key, entry in (rule_set.group_limits or {}).items():
            threshold = entry.get("share_threshold")
            if threshold is not None:
                initial[f"group_{key}_{GROUP_THRESHOLD}"] = plain(Decimal(threshold) * 100)
            for band, limit in zip(GROUP_BANDS, entry.get("band_limits") or [], strict=False):
                initial[f"group_{key}_{band}"] = plain(Decimal(str(limit)) * 100)
        return initial

    def _group_fields(self, group: ProductGroup, defaults: list[str]) -> dict[str, forms.Field]:
        """Four optional per-cent inputs; the placeholder shows what an empty one means."""
        overall = self.initial.get("share_threshold_percent", "")
        placeholders = dict(zip(GROUP_BANDS, defaults, strict=True))
        placeholders[GROUP_THRESHOLD] = str(overall)
        invalid = str(GROUP_PERCENT_INVALID % {"group": group.name})
        fields: dict[str, forms.Field] = {}
        for suffix, label in GROUP_INPUTS:
            fields[f"group_{group.pk}_{suffix}"] = forms.DecimalField(
                label=label,
                required=False,
                error_messages={"invalid": invalid},
                widget=forms.TextInput(
                    attrs={
                        "inputmode": "decimal",
                        "size": 6,
                        "placeholder": placeholders[suffix],
                        "aria-label": f"{group.name}: {label}",
                    }
                ),
            )
        return fields

    def group_rows(self) -> Iterator[tuple[ProductGroup, list[forms.BoundField]]]:
        """(product group, its four bound fields) for the template, by name."""
        for group in self.product_groups:
            yield group, [self[f"group_{group.pk}_{suffix}"] for suffix, _label in GROUP_INPUTS]

    def _clean_group(self, group: ProductGroup) -> dict[str, Any] | None:
        """The group's stored limits (fractions), None when it sets none; errors on its fields."""
        data = self.cleaned_data
        name = {"group": group.name}
        prefix = f"group_{group.pk}_"
        given: dict[str, Decimal] = {}
        for suffix, _label in GROUP_INPUTS:
            field = prefix + suffix
            value = data.get(field)
            if value is None:
                continue
            range_message = (
                GROUP_THRESHOLD_PERCENT_RANGE
                if suffix == GROUP_THRESHOLD
                else GROUP_LIMIT_PERCENT_RANGE
            )
            if not (Decimal(0) < value <= Decimal(100)):
                self.add_error(field, str(range_message % name))
            elif value != value.quantize(Decimal("0.01")):
                self.add_error(field, str(GROUP_PERCENT_PLACES % name))
            else:
                given[suffix] = value
        if any(self.has_error(prefix + suffix) for suffix, _label in GROUP_INPUTS):
            return None
        entry: dict[str, Any] = {}
        if GROUP_THRESHOLD in given:
            entry["share_threshold"] = fraction_text(given[GROUP_THRESHOLD] / 100)
        if any(band in given for band in GROUP_BANDS):
            # An empty limit beside filled ones keeps its standard value.
            standard = dict(zip(GROUP_BANDS, default_band_limits(), strict=True))
            limits = [
                given[band] / 100 if band in given else standard[band] for band in GROUP_BANDS
            ]
            for position in (1, 2):
                if limits[position] <= limits[position - 1]:
                    later, earlier = GROUP_BANDS[position], GROUP_BANDS[position - 1]
                    field = prefix + (later if later in given else earlier)
                    self.add_error(field, str(GROUP_LIMITS_ASCENDING % name))
                    return None
            entry["band_limits"] = [fraction_text(limit) for limit in limits]
        if not entry:
            return None
        return {"name": group.name, **entry}

    def segment_sections(self) -> Iterator[tuple[str, list[forms.BoundField]]]:
        """(segment code, its bound fields) for the template, A to D."""
        for key in SEGMENTS:
            yield key, [self[name] for name in self.fields if name.startswith(f"{key}_")]

    def clean_share_threshold_percent(self) -> Decimal:
        value: Decimal = self.cleaned_data["share_threshold_percent"]
        if not (Decimal(0) < value <= Decimal(100)):
            raise forms.ValidationError(SHARE_PERCENT_RANGE, code="range")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        base = data.get("base_version")
        if base is not None and base != self.rule_set.version:
            raise forms.ValidationError(
                STALE_VERSION, code="stale", params={"version": self.rule_set.version}
            )
        mode, value = data.get("potential_mode"), data.get("potential_value")
        if mode is not None and value is not None:
            problem = potential_value_error(mode, value)
            if problem:
                self.add_error("potential_value", problem)
        places: dict[int, list[str]] = {}
        for key in SEGMENTS:
            place = data.get(f"{key}_priority")
            if place is not None:
                places.setdefault(place, []).append(key)
        for keys in places.values():
            if len(keys) > 1:
                for key in keys:
                    self.add_error(f"{key}_priority", PRIORITY_DUPLICATE)
        self._group_limits = {}
        for group in self.product_groups:
            entry = self._clean_group(group)
            if entry is not None:
                self._group_limits[str(group.pk)] = entry
        if not self.errors and unchanged(self.rule_set, self.changes()):
            raise forms.ValidationError(NOTHING_CHANGED, code="unchanged")
        return data

    def changes(self) -> dict[str, Any]:
        """The cleaned input as ``segment_rule_set_save`` takes it."""
        data = self.cleaned_data
        segments = copy.deepcopy(self.rule_set.segments)
        for key in SEGMENTS:
            segments[key] = {
                **(segments.get(key) or {}),
                "name": stored_text(key, "name", data[f"{key}_name"]),
                "colour": data[f"{key}_colour"].lower(),
                "strategy": stored_text(key, "strategy", data[f"{key}_strategy"]),
                "max_days_between_touches": data[f"{key}_max_days_between_touches"],
                "serving_role": data[f"{key}_serving_role"],
                "key_account_plan_required": bool(data[f"{key}_key_account_plan_required"]),
                "review_cadence_days": data[f"{key}_review_cadence_days"],
            }
        share = (data["share_threshold_percent"] / 100).quantize(Decimal("0.0001"))
        return {
            "potential_mode": data["potential_mode"],
            "potential_value": data["potential_value"],
            "share_threshold": share,
            "segments": segments,
            "priority": sorted(SEGMENTS, key=lambda key: data[f"{key}_priority"]),
            "group_limits": copy.deepcopy(self._group_limits),
        }


class SegmentOverrideForm(forms.Form):
    """A head's override of one client's segment: the segment and why."""

    segment = forms.ChoiceField(
        label=_("Segment"),
        choices=RATED_SEGMENT_CHOICES,
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("Say why the rules' segment does not fit this client.")},
    )


OVERRIDE_REMOVE_REASON_REQUIRED = _("Say why the override is removed.")


class SegmentOverrideRemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Why remove it"),
        max_length=500,
        error_messages={"required": OVERRIDE_REMOVE_REASON_REQUIRED},
    )
