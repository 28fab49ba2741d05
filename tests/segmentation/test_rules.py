"""Segment rule sets: seeded defaults, new versions instead of edits, validation."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from segmentation.models import SegmentRuleSet
from segmentation.services import segment_rule_set_save
from tests.factories import ClientFactory
from tests.segmentation._data import run

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_domain_defaults():
    rules = SegmentRuleSet.objects.active()
    assert rules.version == 1
    assert (rules.potential_mode, rules.potential_value, rules.share_threshold) == (
        "percentile",
        Decimal(80),
        Decimal("0.10"),
    )
    assert rules.priority == ["A", "B", "C", "D"]
    assert rules.segments["A"]["serving_role"] == "kam"
    assert rules.segments["A"]["key_account_plan_required"] is True
    assert rules.segments["D"]["serving_role"] == "office"
    rules.full_clean()


def test_names_and_strategies_fall_back_to_translated_defaults():
    rules = SegmentRuleSet.objects.active()
    assert rules.segment_name("A") == "A — key"
    assert rules.segment_strategy("C").startswith("Keep the established revenue")
    with translation.override("ru"):
        assert rules.segment_name("unrated")  # a label, whatever the catalogue says


def test_a_rule_set_is_never_edited_in_place():
    rules = SegmentRuleSet.objects.active()
    rules.share_threshold = Decimal("0.2")
    with pytest.raises(ValueError, match="new version"):
        rules.save()


def test_saving_rules_makes_a_new_version_and_keeps_the_old(head_vera):
    old = SegmentRuleSet.objects.active()
    segments = {**old.segments, "A": {**old.segments["A"], "name": "Ключевые"}}
    new = segment_rule_set_save(
        changes={"share_threshold": Decimal("0.15"), "segments": segments},
        acting_user=head_vera,
        comment="stricter",
    )
    assert (new.version, new.share_threshold, new.created_by) == (2, Decimal("0.15"), head_vera)
    assert new.segment_name("A") == "Ключевые"
    old.refresh_from_db()
    assert old.share_threshold == Decimal("0.10") and old.segments["A"]["name"] == ""
    assert SegmentRuleSet.objects.active() == new


def test_only_a_head_may_change_the_rules(km_anna):
    with pytest.raises(PermissionDenied):
        segment_rule_set_save(changes={"share_threshold": Decimal("0.2")}, acting_user=km_anna)


@pytest.mark.parametrize(
    "changes",
    [
        {"potential_value": Decimal(101)},
        {"segments": {"A": {}}},
        {"priority": ["A", "B", "C"]},
        {"share_threshold": Decimal(0)},
    ],
)
def test_invalid_rules_are_refused(head_vera, changes):
    with pytest.raises(ValidationError):
        segment_rule_set_save(changes=changes, acting_user=head_vera)
    assert SegmentRuleSet.objects.count() == 1


def test_a_database_without_rules_gets_the_defaults_back():
    SegmentRuleSet.objects.all().delete()  # what a flushed test database looks like
    ClientFactory()
    r = run()
    assert (r.rule_set.version, r.rule_set.potential_value) == (1, Decimal(80))
