"""The segment rules pages: anyone reads them, heads save new versions, bad input saves nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils.html import escape

from segmentation import forms as rule_forms
from segmentation.choices import RunTrigger
from segmentation.models import MetricRun, SegmentRuleSet
from segmentation.services import segment_rule_set_save
from tests.factories import ClientFactory
from tests.segmentation._data import D, day, line, run

pytestmark = pytest.mark.django_db

RULES = reverse("segmentation:rules")
EDIT = reverse("segmentation:rules_edit")


def form_data(**overrides: str) -> dict[str, str]:
    """What the edit page posts when nothing is touched (the version in force), plus overrides."""
    form = rule_forms.SegmentRuleSetForm(rule_set=SegmentRuleSet.objects.active())
    data: dict[str, str] = {}
    for name, field in form.fields.items():
        value = form.get_initial_for_field(field, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    data["comment"] = "Stricter share"
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_anyone_logged_in_reads_the_rules_and_anonymous_goes_to_login(
    company, as_user, km_anna, outsider, client
):
    for user in (km_anna, outsider):
        response = as_user(user).get(RULES)
        assert response.status_code == 200
        body = response.content.decode()
        assert "A — key" in body and "D — occasional" in body
        assert "Rules in force: version 1" in body
        assert EDIT not in body  # no edit button for a client manager
    assert client.get(RULES).status_code == 302


def test_only_heads_open_or_post_the_edit_form(company, as_user, km_anna, outsider, head_vera):
    for user in (km_anna, outsider):
        http = as_user(user)
        assert http.get(EDIT).status_code == 403
        assert http.post(EDIT, form_data(share_threshold_percent="20")).status_code == 403
    assert SegmentRuleSet.objects.count() == 1
    response = as_user(head_vera).get(EDIT)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="A_colour"' in page
    # The values of version 1, written as people write them (80, not 8E+1).
    assert re.search(r'name="potential_value" value="80"', page)
    assert re.search(r'name="share_threshold_percent" value="10"', page)
    assert re.search(r'name="A_name" value="A — key"', page)
    assert EDIT in as_user(head_vera).get(RULES).content.decode()


def test_a_head_saves_a_new_version_and_the_metrics_are_recomputed_on_it(
    company, as_user, km_anna, head_vera, django_capture_on_commit_callbacks
):
    client = ClientFactory(owner=km_anna)
    line(client, day(-10), 1000)
    first_run = run(D)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = as_user(head_vera).post(
            EDIT,
            form_data(share_threshold_percent="15", A_name="Ключевые", A_colour="#AA0000"),
        )
    assert response.status_code == 302, response.context["form"].errors
    assert len(callbacks) == 1
    new = SegmentRuleSet.objects.active()
    assert (new.version, new.created_by, new.comment) == (2, head_vera, "Stricter share")
    assert new.share_threshold == Decimal("0.15")
    assert new.segments["A"]["name"] == "Ключевые"
    assert new.segments["A"]["colour"] == "#aa0000"
    # Untouched built-in texts stay "built-in" (empty), so they keep being translated.
    assert new.segments["B"]["name"] == "" and new.segments["A"]["strategy"] == ""
    old = SegmentRuleSet.objects.get(version=1)
    assert old.share_threshold == Decimal("0.10") and old.segments["A"]["name"] == ""
    # The queued task ran (tasks run in-process in tests): a full run as of the
    # latest run's date, on the new rules, by the head.
    rerun = MetricRun.objects.exclude(pk=first_run.pk).get()
    assert (rerun.as_of, rerun.kind, rerun.trigger, rerun.status) == (
        D,
        "full",
        RunTrigger.MANUAL,
        "succeeded",
    )
    assert (rerun.rule_set, rerun.started_by) == (new, head_vera)

    page = as_user(km_anna).get(RULES).content.decode()
    assert "Rules in force: version 2" in page
    assert "Stricter share" in page and str(head_vera) in page
    # Version 2 lists what it changed against version 1: old → new.
    assert "Share threshold:</span> <del>10 %</del> → <ins>15 %</ins>" in page
    assert "Segment A: name:</span> <del>A — key</del> → <ins>Ключевые</ins>" in page
    assert "Segment A: colour:</span> <del>#1b7f3b</del> → <ins>#aa0000</ins>" in page
    assert "Segment B: name" not in page


def test_priority_order_and_standards_are_saved_and_shown(company, as_user, head_vera):
    response = as_user(head_vera).post(
        EDIT,
        form_data(
            A_priority="2",
            B_priority="1",
            C_max_days_between_touches="30",
            D_serving_role="km",
            B_key_account_plan_required="on",
            potential_mode="amount",
            potential_value="5000000",
        ),
    )
    assert response.status_code == 302, response.context["form"].errors
    new = SegmentRuleSet.objects.active()
    assert new.priority == ["B", "A", "C", "D"]
    assert new.segments["C"]["max_days_between_touches"] == 30
    assert new.segments["D"]["serving_role"] == "km"
    assert new.segments["B"]["key_account_plan_required"] is True
    assert (new.potential_mode, new.potential_value) == ("amount", Decimal(5000000))
    page = as_user(head_vera).get(RULES).content.decode()
    old, new = "A &gt; B &gt; C &gt; D", "B &gt; A &gt; C &gt; D"
    assert f"Priority order:</span> <del>{old}</del> → <ins>{new}</ins>" in page


# (posted changes, the field the message is on, the message)
BAD_INPUT = [
    ({"potential_value": "101"}, "potential_value", rule_forms.PERCENTILE_RANGE),
    ({"potential_value": "0"}, "potential_value", rule_forms.PERCENTILE_RANGE),
    (
        {"potential_mode": "amount", "potential_value": "-5"},
        "potential_value",
        rule_forms.AMOUNT_NOT_NEGATIVE,
    ),
    ({"share_threshold_percent": "0"}, "share_threshold_percent", rule_forms.SHARE_PERCENT_RANGE),
    (
        {"share_threshold_percent": "150"},
        "share_threshold_percent",
        rule_forms.SHARE_PERCENT_RANGE,
    ),
    ({"A_name": ""}, "A_name", rule_forms.NAME_REQUIRED),
    ({"C_name": "   "}, "C_name", rule_forms.NAME_REQUIRED),
    ({"A_colour": "red"}, "A_colour", rule_forms.COLOUR_INVALID),
    ({"B_colour": "#12345g"}, "B_colour", rule_forms.COLOUR_INVALID),
    (
        {"D_colour": "#1234567"},
        "D_colour",
        "Ensure this value has at most 7 characters (it has 8).",
    ),
    ({"B_priority": "1"}, "A_priority", rule_forms.PRIORITY_DUPLICATE),
    ({"B_priority": "1"}, "B_priority", rule_forms.PRIORITY_DUPLICATE),
    (
        {"C_max_days_between_touches": "-3"},
        "C_max_days_between_touches",
        rule_forms.DAYS_AT_LEAST_ONE,
    ),
    (
        {"C_max_days_between_touches": "0"},
        "C_max_days_between_touches",
        rule_forms.DAYS_AT_LEAST_ONE,
    ),
    (
        {"A_max_days_between_touches": "soon"},
        "A_max_days_between_touches",
        rule_forms.DAYS_AT_LEAST_ONE,
    ),
    ({"D_review_cadence_days": "-1"}, "D_review_cadence_days", rule_forms.DAYS_AT_LEAST_ONE),
    (
        {"D_serving_role": "boss"},
        "D_serving_role",
        "Select a valid choice. boss is not one of the available choices.",
    ),
    ({"comment": ""}, "comment", rule_forms.COMMENT_REQUIRED),
    ({}, "__all__", rule_forms.NOTHING_CHANGED),
    ({"base_version": "0"}, "__all__", rule_forms.STALE_VERSION % {"version": 1}),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_INPUT)
def test_bad_input_is_refused_on_its_field_and_saves_no_version(
    company, as_user, head_vera, changes, field, message
):
    data = form_data(**changes)
    if not changes:  # "nothing changed" needs a valid comment and no change at all
        data["comment"] = "no-op"
    response = as_user(head_vera).post(EDIT, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert str(message) in errors.get(field, []), errors
    assert escape(str(message)) in response.content.decode()
    assert SegmentRuleSet.objects.count() == 1
    assert not MetricRun.objects.exists()


def test_a_version_saved_meanwhile_is_not_overwritten(company, as_user, head_vera, head_gleb):
    data = form_data(share_threshold_percent="12")  # Vera opened version 1
    segment_rule_set_save(
        changes={"share_threshold": Decimal("0.2")}, acting_user=head_gleb, comment="Gleb first"
    )
    response = as_user(head_vera).post(EDIT, data)
    assert response.status_code == 200
    assert SegmentRuleSet.objects.active().share_threshold == Decimal("0.2")
    assert SegmentRuleSet.objects.count() == 2


def test_rules_page_queries_are_bounded(
    company, as_user, km_anna, head_vera, django_assert_max_num_queries
):
    for n in range(12):
        segment_rule_set_save(
            changes={"share_threshold": Decimal("0.10") + Decimal(n + 1) / 100},
            acting_user=head_vera,
            comment=f"step {n}",
        )
    http = as_user(km_anna)
    http.get(RULES)  # warm the session
    with django_assert_max_num_queries(10):
        response = http.get(RULES)
    assert response.status_code == 200
    assert response.content.decode().count("<del>") == 12  # every version but the first diffs
    head = as_user(head_vera)
    head.get(EDIT)
    with django_assert_max_num_queries(8):
        assert head.get(EDIT).status_code == 200
