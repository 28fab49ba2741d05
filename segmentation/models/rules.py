"""Segment rule sets: versioned, so every run names the exact rules it used."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from segmentation.choices import RATED_SEGMENTS, PotentialMode, Segment, ServingRole

# Built-in texts, translated at display time. A rule set stores an empty name
# or strategy to mean "the built-in one", so the Russian interface shows
# Russian defaults while a head may still write their own.
DEFAULT_STRATEGIES: dict[str, Promise] = {
    Segment.A: _(
        "Retain: protect, build switching barriers, key-account plan, "
        "relationships at several levels."
    ),
    Segment.B: _(
        "Develop: the largest growth reserve, become a main supplier; "
        "a head picks the few to pursue now."
    ),
    Segment.C: _("Keep the established revenue at the lowest cost to serve."),
    Segment.D: _("Serve on demand, through a low-touch channel, and only while profitable."),
}

# Product defaults (domain.md gives the kinds of standard, not the numbers).
DEFAULT_SEGMENTS: dict[str, dict[str, Any]] = {
    "A": {
        "name": "",
        "colour": "#1b7f3b",
        "strategy": "",
        "max_days_between_touches": 14,
        "serving_role": ServingRole.KAM.value,
        "key_account_plan_required": True,
        "review_cadence_days": 90,
    },
    "B": {
        "name": "",
        "colour": "#1f5fbf",
        "strategy": "",
        "max_days_between_touches": 21,
        "serving_role": ServingRole.KM.value,
        "key_account_plan_required": False,
        "review_cadence_days": 90,
    },
    "C": {
        "name": "",
        "colour": "#c98a00",
        "strategy": "",
        "max_days_between_touches": 45,
        "serving_role": ServingRole.KM.value,
        "key_account_plan_required": False,
        "review_cadence_days": 180,
    },
    "D": {
        "name": "",
        "colour": "#8a8f98",
        "strategy": "",
        "max_days_between_touches": 90,
        "serving_role": ServingRole.OFFICE.value,
        "key_account_plan_required": False,
        "review_cadence_days": 365,
    },
}
DEFAULT_PRIORITY = ["A", "B", "C", "D"]
SEGMENT_KEYS = frozenset(str(s) for s in RATED_SEGMENTS)
_SEGMENT_FIELDS = {
    "name": str,
    "colour": str,
    "strategy": str,
    "max_days_between_touches": int,
    "serving_role": str,
    "key_account_plan_required": bool,
    "review_cadence_days": int,
}

# Share limits per product group (domain.md "Segments": "the share threshold and
# the band limits may be set per product group"). ``group_limits`` is keyed by
# the product group id as a string: {"7": {"name": "Fasteners",
# "share_threshold": "0.15", "band_limits": ["0.02", "0.2", "0.6"]}}. Either
# setting may be absent (= the rule set's share threshold, the standard bands).
# Fractions are stored as decimal strings, exact and JSON-safe; the name is the
# group's name when the version was saved, so the version history reads
# without a query per version.
GROUP_SETTINGS = ("share_threshold", "band_limits")
FRACTION_PLACES = 4
GROUP_LIMITS_SHAPE = _("Give the limits per product group as an object keyed by product group id.")
GROUP_UNKNOWN = _("Product group %(group)s does not exist.")
GROUP_SETTINGS_UNKNOWN = _(
    "Product group %(group)s: only a share threshold and band limits can be set."
)
GROUP_THRESHOLD_RANGE = _(
    "Product group %(group)s: the share threshold lies above 0 and at most 1."
)
GROUP_LIMITS_THREE = _(
    "Product group %(group)s: give three band limits (secondary from, main from, dominant "
    "from) or none."
)
GROUP_LIMIT_RANGE = _("Product group %(group)s: a band limit lies above 0 and at most 1.")
GROUP_LIMITS_ASCENDING = _(
    "Product group %(group)s: the band limits must rise: secondary from < main from < "
    "dominant from."
)
GROUP_FRACTION_PLACES = _("Product group %(group)s: write fractions with at most four decimals.")


def default_band_limits() -> tuple[Decimal, Decimal, Decimal]:
    """The standard band limits (settings.SHARE_BAND_LIMITS): secondary, main, dominant from."""
    secondary, main, dominant = (Decimal(str(limit)) for limit in settings.SHARE_BAND_LIMITS)
    return secondary, main, dominant


def fraction_text(value: Decimal) -> str:
    """0.1500 → "0.15": how a fraction is stored and compared (never an exponent)."""
    return format(value.normalize(), "f")


def percent_text(fraction: Decimal) -> str:
    """0.15 → "15 %", as the rules pages write shares."""
    return "{} %".format(format((fraction * 100).normalize(), "f"))


def _fraction(value: Any) -> Decimal | None:
    """A finite number given as a number or a decimal string, else None (booleans too)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _group_id(key: Any) -> int | None:
    text = str(key)
    return int(text) if text.isascii() and text.isdigit() else None


def _fraction_problem(value: Decimal, range_message: Any) -> Any:
    if not (Decimal(0) < value <= Decimal(1)):
        return range_message
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > FRACTION_PLACES:
        return GROUP_FRACTION_PLACES
    return None


def clean_group_limits(
    value: Any, *, names: Mapping[int, str]
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """(the limits in their stored form, the problems found), each problem naming its group.

    ``names`` are the names of the product groups that exist, by id. Entries
    that set nothing are dropped; names are refreshed from ``names``.
    """
    if not isinstance(value, dict):
        return {}, [str(GROUP_LIMITS_SHAPE)]
    cleaned: dict[str, dict[str, Any]] = {}
    problems: list[str] = []
    for key, entry in sorted(value.items(), key=lambda item: str(item[0])):
        group_id = _group_id(key)
        if group_id is None or group_id not in names:
            problems.append(str(GROUP_UNKNOWN % {"group": key}))
            continue
        group = {"group": names[group_id]}
        if not isinstance(entry, dict) or set(entry) - {"name", *GROUP_SETTINGS}:
            problems.append(str(GROUP_SETTINGS_UNKNOWN % group))
            continue
        stored: dict[str, Any] = {"name": names[group_id]}
        threshold = entry.get("share_threshold")
        if threshold is not None:
            number = _fraction(threshold)
            if number is None:
                problems.append(str(GROUP_THRESHOLD_RANGE % group))
            elif problem := _fraction_problem(number, GROUP_THRESHOLD_RANGE):
                problems.append(str(problem % group))
            else:
                stored["share_threshold"] = fraction_text(number)
        limits = entry.get("band_limits")
        if limits is not None:
            numbers = [_fraction(v) for v in limits] if isinstance(limits, list | tuple) else []
            if len(numbers) != 3:
                problems.append(str(GROUP_LIMITS_THREE % group))
            elif any(n is None for n in numbers):
                problems.append(str(GROUP_LIMIT_RANGE % group))
            else:
                exact = [n for n in numbers if n is not None]
                found = [_fraction_problem(n, GROUP_LIMIT_RANGE) for n in exact]
                problem = next((p for p in found if p), None)
                if problem:
                    problems.append(str(problem % group))
                elif not exact[0] < exact[1] < exact[2]:
                    problems.append(str(GROUP_LIMITS_ASCENDING % group))
                else:
                    stored["band_limits"] = [fraction_text(n) for n in exact]
        if len(stored) > 1:
            cleaned[str(group_id)] = stored
    return cleaned, problems


def product_group_names(group_limits: Any) -> dict[int, str]:
    """Names of the existing product groups among the keys (one query, none when empty)."""
    if not isinstance(group_limits, dict):
        return {}
    ids = [i for i in (_group_id(key) for key in group_limits) if i is not None]
    if not ids:
        return {}
    product_group = apps.get_model("crm", "ProductGroup")
    return dict(product_group.objects.filter(pk__in=ids).values_list("pk", "name"))


def group_limit_values(group_limits: Any) -> dict[str, dict[str, Any]]:
    """The settings alone (no names, fractions as text): what decides whether limits changed."""
    if not isinstance(group_limits, dict):
        return {}
    values: dict[str, dict[str, Any]] = {}
    for key, entry in group_limits.items():
        if not isinstance(entry, dict):
            continue
        kept: dict[str, Any] = {}
        threshold = _fraction(entry.get("share_threshold"))
        if threshold is not None:
            kept["share_threshold"] = fraction_text(threshold)
        limits = entry.get("band_limits")
        if isinstance(limits, list | tuple):
            kept["band_limits"] = [
                fraction_text(n) if (n := _fraction(v)) is not None else str(v) for v in limits
            ]
        if kept:
            values[str(key)] = kept
    return values


class SegmentRuleSetQuerySet(models.QuerySet["SegmentRuleSet"]):
    def active(self) -> SegmentRuleSet:
        """The rules in force: the latest version (a data migration seeds version 1)."""
        rule_set = self.order_by("-version").first()
        if rule_set is None:
            raise SegmentRuleSet.DoesNotExist(_("No segment rule set exists."))
        return rule_set


class SegmentRuleSet(models.Model):
    """One version of the segment rules; a change saves a new version.

    Append-only: a run points at the version it used, so editing a version in
    place would silently rewrite history. The per-segment display settings
    and service standards live in one JSON object, so a version is one row
    written at once and cannot end up with a missing segment.
    """

    version = models.PositiveIntegerField(_("version"), unique=True)
    potential_mode = models.CharField(
        _("potential threshold"),
        max_length=12,
        choices=PotentialMode.choices,
        default=PotentialMode.PERCENTILE,
    )
    potential_value = models.DecimalField(
        _("percentile or amount"),
        max_digits=18,
        decimal_places=2,
        default=Decimal(80),
        help_text=_("The percentile (0–100) of rated clients' wallets, or an amount."),
    )
    share_threshold = models.DecimalField(
        _("share threshold"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("0.10"),
        help_text=_("High share of wallet from this fraction up (0.10 = 10 %)."),
    )
    # {"A": {"name", "colour", "strategy", "max_days_between_touches",
    #        "serving_role", "key_account_plan_required", "review_cadence_days"}, …}
    segments = models.JSONField(_("segments"), default=dict)
    priority = models.JSONField(_("priority order"), default=list)
    # {"<product group id>": {"name", "share_threshold", "band_limits"}}: see GROUP_SETTINGS.
    group_limits = models.JSONField(
        _("share limits per product group"),
        default=dict,
        blank=True,
        help_text=_(
            "Per product group, an own share threshold and own band limits (fractions); "
            "a group without them uses the rule set's threshold and the standard bands."
        ),
    )
    comment = models.TextField(_("reason for the change"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("saved by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("saved"), default=timezone.now)

    objects = SegmentRuleSetQuerySet.as_manager()

    class Meta:
        verbose_name = _("segment rule set")
        verbose_name_plural = _("segment rule sets")
        ordering = ["-version"]
        constraints = [
            models.CheckConstraint(
                condition=Q(share_threshold__gt=0) & Q(share_threshold__lte=1),
                name="ruleset_share_threshold_fraction",
                violation_error_message=_("The share threshold must be above 0 and at most 1."),
            ),
            models.CheckConstraint(
                condition=Q(potential_value__gte=0),
                name="ruleset_potential_not_negative",
                violation_error_message=_("The potential threshold cannot be negative."),
            ),
        ]

    def __str__(self) -> str:
        return str(_("Segment rules v%(version)s") % {"version": self.version})

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise ValueError("A segment rule set is never edited in place: save a new version.")
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors: dict[str, list[Any]] = {}
        if self.potential_mode == PotentialMode.PERCENTILE and not (
            Decimal(0) < self.potential_value <= Decimal(100)
        ):
            errors.setdefault("potential_value", []).append(
                _("A percentile lies between 0 and 100.")
            )
        if not isinstance(self.segments, dict) or set(self.segments) != SEGMENT_KEYS:
            errors.setdefault("segments", []).append(_("Give exactly the segments A, B, C and D."))
        else:
            for key, values in self.segments.items():
                if not isinstance(values, dict) or any(
                    not isinstance(values.get(field), kind)
                    for field, kind in _SEGMENT_FIELDS.items()
                ):
                    errors.setdefault("segments", []).append(
                        _("Segment %(key)s lacks a setting or has one of the wrong type.")
                        % {"key": key}
                    )
                elif values["serving_role"] not in ServingRole.values:
                    errors.setdefault("segments", []).append(
                        _("Segment %(key)s has an unknown serving role.") % {"key": key}
                    )
        if sorted(self.priority or []) != sorted(SEGMENT_KEYS):
            errors.setdefault("priority", []).append(
                _("The priority order lists each of A, B, C and D once.")
            )
        group_limits, problems = clean_group_limits(
            self.group_limits, names=product_group_names(self.group_limits)
        )
        if problems:
            errors.setdefault("group_limits", []).extend(problems)
        else:
            self.group_limits = group_limits
        if errors:
            raise ValidationError(errors)

    def group_share_thresholds(self) -> dict[int, Decimal]:
        """Product group id → its own share threshold, for groups that have one."""
        return {
            int(key): Decimal(entry["share_threshold"])
            for key, entry in (self.group_limits or {}).items()
            if entry.get("share_threshold") is not None
        }

    def group_band_limits(self) -> dict[int, tuple[Decimal, Decimal, Decimal]]:
        """Product group id → its own (secondary, main, dominant) limits, where set."""
        result: dict[int, tuple[Decimal, Decimal, Decimal]] = {}
        for key, entry in (self.group_limits or {}).items():
            limits = entry.get("band_limits")
            if limits:
                secondary, main, dominant = (Decimal(str(limit)) for limit in limits)
                result[int(key)] = (secondary, main, dominant)
        return result

    def group_limit_rows(self) -> list[dict[str, str]]:
        """The groups with their own limits, by name, as the rules pages show them."""
        rows = []
        for key, entry in (self.group_limits or {}).items():
            threshold = entry.get("share_threshold")
            limits = entry.get("band_limits") or []
            rows.append(
                {
                    "id": str(key),
                    "name": str(entry.get("name") or key),
                    "share_threshold": percent_text(Decimal(threshold)) if threshold else "",
                    "band_limits": " / ".join(percent_text(Decimal(str(v))) for v in limits),
                }
            )
        return sorted(rows, key=lambda row: (row["name"].casefold(), row["id"]))

    def group_limit_facts(self) -> dict[str, tuple[str, str]]:
        """The per-group settings as one (label, display value), for the version history.

        One fact for all groups: the history compares the facts two versions
        share, so a group whose limits are removed still shows as a change.
        """
        shown = []
        for row in self.group_limit_rows():
            settings_of_group = []
            if row["share_threshold"]:
                settings_of_group.append(
                    str(_("high share from %(share)s") % {"share": row["share_threshold"]})
                )
            if row["band_limits"]:
                settings_of_group.append(
                    str(_("bands from %(limits)s") % {"limits": row["band_limits"]})
                )
            shown.append(
                str(
                    _("%(group)s: %(settings)s")
                    % {"group": row["name"], "settings": ", ".join(settings_of_group)}
                )
            )
        return {"group_limits": (str(_("Share limits per product group")), "; ".join(shown))}

    def segment_name(self, key: str) -> str:
        """The name a head gave the segment, or the built-in translated one."""
        stored = (self.segments.get(key) or {}).get("name", "")
        return stored or str(Segment(key).label)

    def segment_strategy(self, key: str) -> str:
        stored = (self.segments.get(key) or {}).get("strategy", "")
        return stored or str(DEFAULT_STRATEGIES.get(key, ""))
