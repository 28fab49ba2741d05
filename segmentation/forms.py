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
from django.core.validators import MinValueValidator, RegexValidator
from django.utils.translation import gettext_lazy as _

from segmentation.choices import RATED_SEGMENT_CHOICES, PotentialMode, Segment, ServingRole
from segmentation.models import SegmentRuleSet
from segmentation.models.rules import DEFAULT_STRATEGIES, SEGMENT_KEYS

SEGMENTS = sorted(SEGMENT_KEYS)  # A, B, C, D
NAME_MAX_LENGTH = 60
STRATEGY_MAX_LENGTH = 1000

# Messages shared by the form and the API, so both refuse the same input alike.
NAME_REQUIRED = _("Give the segment a name.")
COLOUR_INVALID = _("Write the colour as # and six hexadecimal digits, e.g. #1f5fbf.")
DAYS_AT_LEAST_ONE = _("Give a whole number of days, at least 1.")
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

validate_colour = RegexValidator(r"^#[0-9a-fA-F]{6}\Z", message=COLOUR_INVALID)
validate_days = MinValueValidator(1, message=DAYS_AT_LEAST_ONE)


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
        if isinstance(old, Decimal):
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
        kwargs.setdefault("initial", self._initial(rule_set))
        super().__init__(*args, **kwargs)
        for key in SEGMENTS:
            self.fields.update(self._segment_fields(key))

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
                validators=[validate_days],
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
                validators=[validate_days],
                error_messages={"invalid": DAYS_AT_LEAST_ONE},
            ),
        }

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


class SegmentOverrideRemoveForm(forms.Form):
    reason = forms.CharField(
        label=_("Why remove it"),
        max_length=500,
        error_messages={"required": _("Say why the override is removed.")},
    )
