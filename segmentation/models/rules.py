"""Segment rule sets: versioned, so every run names the exact rules it used."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

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
        if errors:
            raise ValidationError(errors)

    def segment_name(self, key: str) -> str:
        """The name a head gave the segment, or the built-in translated one."""
        stored = (self.segments.get(key) or {}).get("name", "")
        return stored or str(Segment(key).label)

    def segment_strategy(self, key: str) -> str:
        stored = (self.segments.get(key) or {}).get("strategy", "")
        return stored or str(DEFAULT_STRATEGIES.get(key, ""))
