"""Seed version 1 of the segment rules with domain.md's defaults.

The values are written out here rather than imported, so that later changes
of the code's defaults never rewrite what this migration did. Empty names
and strategies mean "the built-in, translated text".
"""

from decimal import Decimal

from django.db import migrations

SEGMENTS = {
    "A": {
        "name": "",
        "colour": "#1b7f3b",
        "strategy": "",
        "max_days_between_touches": 14,
        "serving_role": "kam",
        "key_account_plan_required": True,
        "review_cadence_days": 90,
    },
    "B": {
        "name": "",
        "colour": "#1f5fbf",
        "strategy": "",
        "max_days_between_touches": 21,
        "serving_role": "km",
        "key_account_plan_required": False,
        "review_cadence_days": 90,
    },
    "C": {
        "name": "",
        "colour": "#c98a00",
        "strategy": "",
        "max_days_between_touches": 45,
        "serving_role": "km",
        "key_account_plan_required": False,
        "review_cadence_days": 180,
    },
    "D": {
        "name": "",
        "colour": "#8a8f98",
        "strategy": "",
        "max_days_between_touches": 90,
        "serving_role": "office",
        "key_account_plan_required": False,
        "review_cadence_days": 365,
    },
}


def seed(apps, schema_editor):
    SegmentRuleSet = apps.get_model("segmentation", "SegmentRuleSet")
    if SegmentRuleSet.objects.exists():
        return
    SegmentRuleSet.objects.create(
        version=1,
        potential_mode="percentile",
        potential_value=Decimal(80),
        share_threshold=Decimal("0.10"),
        segments=SEGMENTS,
        priority=["A", "B", "C", "D"],
        comment="domain.md defaults",
    )


def unseed(apps, schema_editor):
    SegmentRuleSet = apps.get_model("segmentation", "SegmentRuleSet")
    SegmentRuleSet.objects.filter(version=1, runs__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
