"""The segmentation API: the pages' rules, scoped lists, rule versions, and the command's CSV."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from accounts.choices import Role
from segmentation import forms as rule_forms
from segmentation.models import MetricRun, SegmentRuleSet
from tests.factories import ClientFactory, UserFactory
from tests.segmentation._data import D, day, line, run, wallet

pytestmark = pytest.mark.django_db

EARLIER = dt.date(2026, 5, 31)
WORK_LISTS = ["overdue-touches", "sleeping", "unrated", "segment-movements", "cooling"]


@pytest.fixture
def head_other(company, outsider):
    """The head of the outsider's department: sees Petr's clients, never the Moscow team's."""
    head = UserFactory(email="ivan@example.test", first_name="Ivan", roles=[Role.HEAD])
    company["other"].head = head
    company["other"].save()
    return head


@pytest.fixture
def base(company, km_anna, km_boris, outsider, kam_oleg):
    """Clients of Anna, Boris and the outsider, with runs as of 31 May and 30 June."""
    anna_a = ClientFactory(owner=km_anna, name="Anna A", external_id="K-001")
    wallet(anna_a, 10_000)
    line(anna_a, day(-40), 5_000)
    anna_sleeping = ClientFactory(owner=km_anna, name="=Anna sleeping", external_id="K-002")
    line(anna_sleeping, day(-120), 700)
    boris_unrated = ClientFactory(owner=km_boris, name="Boris unrated", external_id="K-003")
    line(boris_unrated, day(-3), 900)
    foreign = ClientFactory(owner=outsider, name="Petr, Ltd", external_id="K-004")
    wallet(foreign, 10_000)
    line(foreign, day(-100), 90)
    no_code = ClientFactory(owner=km_anna, name="Anna, no code", external_id="")
    run(EARLIER)
    latest = run(D)
    return {
        "anna_a": anna_a,
        "anna_sleeping": anna_sleeping,
        "boris_unrated": boris_unrated,
        "foreign": foreign,
        "no_code": no_code,
        "run": latest,
    }


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def client_names(rows: list[dict]) -> set[str]:
    return {row["client"]["name"] for row in rows}


# ---------------------------------------------------------------- metric runs


def test_metric_runs_for_heads_and_admins_only(
    base, as_user, km_anna, outsider, kam_oleg, head_gleb, admin_olga
):
    for user in (km_anna, outsider, kam_oleg):
        http = as_user(user)
        assert http.get("/api/v1/metric-runs/").status_code == 403
        assert http.get(f"/api/v1/metric-runs/{base['run'].pk}/").status_code == 403
    rows = results(as_user(head_gleb).get("/api/v1/metric-runs/"))
    assert [r["as_of"] for r in rows] == ["2026-06-30", "2026-05-31"]  # newest first
    first = rows[0]
    assert (first["status"], first["kind"], first["trigger"], first["rule_set_version"]) == (
        "succeeded",
        "full",
        "manual",
        1,
    )
    assert first["counts"]["clients"] == 5 and first["clients_recomputed"] is None
    assert (first["base_run"], first["holds_rows"]) == (None, True)
    detail = as_user(admin_olga).get(f"/api/v1/metric-runs/{base['run'].pk}/")
    assert detail.json()["id"] == base["run"].pk
    filtered = results(as_user(head_gleb).get("/api/v1/metric-runs/?as_of=2026-05-31"))
    assert [r["as_of"] for r in filtered] == ["2026-05-31"]
    assert as_user(head_gleb).get("/api/v1/metric-runs/999999/").status_code == 404


# ---------------------------------------------------------------- client metrics


def test_client_metrics_are_scoped_and_filtered(
    base, as_user, km_anna, outsider, head_gleb, head_other, admin_olga
):
    anna = as_user(km_anna)
    rows = results(anna.get("/api/v1/client-metrics/"))
    assert client_names(rows) == {"Anna A", "=Anna sleeping", "Anna, no code"}
    assert {r["as_of"] for r in rows} == {"2026-06-30"}
    assert client_names(results(as_user(outsider).get("/api/v1/client-metrics/"))) == {"Petr, Ltd"}
    assert client_names(results(as_user(head_other).get("/api/v1/client-metrics/"))) == {
        "Petr, Ltd"
    }
    assert len(results(as_user(head_gleb).get("/api/v1/client-metrics/"))) == 4
    assert len(results(as_user(admin_olga).get("/api/v1/client-metrics/"))) == 5

    # A client outside the scope is 404, in the list and by id.
    foreign = base["foreign"].pk
    assert anna.get(f"/api/v1/client-metrics/{foreign}/").status_code == 404
    assert as_user(outsider).get(f"/api/v1/client-metrics/{base['anna_a'].pk}/").status_code == 404
    one = anna.get(f"/api/v1/client-metrics/{base['anna_a'].pk}/").json()
    # 5 000 of a 10 000 wallet: 50 % → dominant; the only wallets are 10 000 → A.
    assert (one["segment"], one["share_band"], one["revenue_12m"]) == ("A", "dominant", "5000.00")

    def names(query: str) -> set[str]:
        return client_names(results(as_user(head_gleb).get("/api/v1/client-metrics/?" + query)))

    assert names("segment=A") == {"Anna A"}
    assert names("status=sleeping") == {"=Anna sleeping"}
    assert names("share_band=dominant") == {"Anna A"}
    assert names(f"owner={base['boris_unrated'].owner_id}") == {"Boris unrated"}
    assert names("segment=unrated&owner=" + str(km_anna.pk)) == {"=Anna sleeping", "Anna, no code"}
    assert as_user(head_gleb).get("/api/v1/client-metrics/?segment=Z").status_code == 400


def test_as_of_picks_the_stored_run_of_that_date(base, as_user, km_anna):
    anna = as_user(km_anna)
    earlier = anna.get(f"/api/v1/client-metrics/{base['anna_a'].pk}/?as_of=2026-05-31").json()
    assert earlier["as_of"] == "2026-05-31"
    assert earlier["days_since_last_order"] == 40 - 30  # the order was 10 days before 31 May
    missing = anna.get("/api/v1/client-metrics/?as_of=2026-06-01")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "No metrics are stored as of 2026-06-01."
    bad = anna.get("/api/v1/client-metrics/?as_of=yesterday")
    assert bad.status_code == 400
    assert bad.json() == {"as_of": ["Write the date as YYYY-MM-DD."]}


# ---------------------------------------------------------------- work lists


def test_work_lists_answer_everyone_within_their_scope(base, as_user, km_anna, outsider):
    anna, petr = as_user(km_anna), as_user(outsider)
    for name in WORK_LISTS:
        anna_rows = results(anna.get(f"/api/v1/work-lists/{name}/"))
        petr_rows = results(petr.get(f"/api/v1/work-lists/{name}/"))
        assert not client_names(petr_rows) & {"Anna A", "=Anna sleeping", "Anna, no code"}, name
        assert "Petr, Ltd" not in client_names(anna_rows), name
    sleeping = results(anna.get("/api/v1/work-lists/sleeping/"))
    assert [(r["client"]["name"], r["status"], r["reactivated_by"]) for r in sleeping] == [
        ("=Anna sleeping", "sleeping", "developer")
    ]
    unrated = results(anna.get("/api/v1/work-lists/unrated/"))
    assert [r["client"]["name"] for r in unrated] == ["=Anna sleeping", "Anna, no code"]
    overdue = results(anna.get("/api/v1/work-lists/overdue-touches/"))
    assert [
        (r["client"]["name"], r["last_touch_at"], r["max_days_between_touches"]) for r in overdue
    ] == [("Anna A", None, 14)]
    cooling = results(anna.get("/api/v1/work-lists/cooling/"))
    assert [(r["client"]["name"], r["reasons"]) for r in cooling] == [("Anna A", ["touch_overdue"])]
    filtered = results(
        as_user(km_anna).get(f"/api/v1/work-lists/unrated/?owner={km_anna.pk}&segment=unrated")
    )
    assert len(filtered) == 2
    movements = anna.get("/api/v1/work-lists/segment-movements/?since=2026-06-01")
    assert results(movements) == []  # nothing changed segment between the two runs
    assert anna.get("/api/v1/work-lists/segment-movements/?since=June").status_code == 400


def test_anonymous_gets_nothing(base, client):
    for url in [
        "/api/v1/client-metrics/",
        "/api/v1/segment-rule-sets/",
        "/api/v1/metric-runs/",
        "/api/v1/exports/metrics.csv",
        *(f"/api/v1/work-lists/{name}/" for name in WORK_LISTS),
    ]:
        assert client.get(url).status_code in (401, 403), url


# ---------------------------------------------------------------- segment rule sets


def post(http, url, data):
    return http.post(url, data, content_type="application/json")


def test_rule_sets_are_readable_by_everyone_and_writable_by_heads(
    company, as_user, km_anna, outsider, head_vera, django_capture_on_commit_callbacks
):
    for user in (km_anna, outsider):
        assert (
            post(
                as_user(user),
                "/api/v1/segment-rule-sets/",
                {"share_threshold": "0.2", "comment": "x"},
            ).status_code
            == 403
        )
    assert SegmentRuleSet.objects.count() == 1
    active = SegmentRuleSet.objects.active()
    current = as_user(km_anna).get(f"/api/v1/segment-rule-sets/{active.pk}/")
    assert (current.status_code, current.json()["version"]) == (200, 1)
    listing = results(as_user(km_anna).get("/api/v1/segment-rule-sets/"))
    assert listing[0]["segments"]["A"]["name"] == "A — key"
    assert listing[0]["changes"] == []

    segments = listing[0]["segments"]
    segments["C"] = {**segments["C"], "name": "Опора", "max_days_between_touches": 30}
    with django_capture_on_commit_callbacks() as callbacks:
        created = post(
            as_user(head_vera),
            "/api/v1/segment-rule-sets/",
            {"share_threshold": "0.15", "segments": segments, "comment": "Через API"},
        )
    assert created.status_code == 201, created.json()
    assert len(callbacks) == 1  # the recompute on the new rules is queued after the commit
    body = created.json()
    assert (body["version"], body["share_threshold"], body["comment"]) == (2, "0.1500", "Через API")
    assert body["created_by"]["email"] == head_vera.email
    assert {(c["setting"], c["old"], c["new"]) for c in body["changes"]} == {
        ("Share threshold", "10 %", "15 %"),
        ("Segment C: name", "C — maintained", "Опора"),
        ("Segment C: max days between touches", "45", "30"),
    }
    stored = SegmentRuleSet.objects.active()
    assert stored.segments["A"]["name"] == ""  # the built-in name stays built-in
    assert stored.segments["C"]["name"] == "Опора"
    again = results(as_user(outsider).get("/api/v1/segment-rule-sets/"))
    assert [r["version"] for r in again] == [2, 1]
    assert len(again[0]["changes"]) == 3


def _segments_with(key: str, **values) -> dict:
    rules = SegmentRuleSet.objects.active()
    segments = {k: dict(rules.segments[k]) for k in "ABCD"}
    for k in "ABCD":
        segments[k]["name"] = rules.segment_name(k)
    segments[key].update(values)
    return segments


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"potential_value": "101"}, "potential_value", rule_forms.PERCENTILE_RANGE),
        (
            {"potential_mode": "amount", "potential_value": "-1"},
            "potential_value",
            rule_forms.AMOUNT_NOT_NEGATIVE,
        ),
        ({"share_threshold": "0"}, "share_threshold", rule_forms.SHARE_FRACTION_RANGE),
        ({"share_threshold": "1.5"}, "share_threshold", rule_forms.SHARE_FRACTION_RANGE),
        ({"priority": ["A", "A", "C", "D"]}, "priority", rule_forms.PRIORITY_DUPLICATE),
        ({"priority": ["A", "B", "C"]}, "priority", rule_forms.PRIORITY_SET),
        ({"segments": "A"}, "segments", None),
        ({"segments": {"A": {}}}, "segments", None),
        ({"comment": ""}, "comment", rule_forms.COMMENT_REQUIRED),
        ({"share_threshold": "0.10"}, "non_field_errors", rule_forms.NOTHING_CHANGED),
    ],
)
def test_bad_rule_sets_are_refused_and_save_nothing(
    company, as_user, head_vera, payload, field, message
):
    data = {"comment": "try", **payload}
    response = post(as_user(head_vera), "/api/v1/segment-rule-sets/", data)
    assert response.status_code == 400
    errors = response.json()
    assert field in errors, errors
    if message is not None:
        assert str(message) in errors[field]
    assert SegmentRuleSet.objects.count() == 1
    assert not MetricRun.objects.exists()


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        ("name", "", rule_forms.NAME_REQUIRED),
        ("colour", "green", rule_forms.COLOUR_INVALID),
        ("max_days_between_touches", -2, rule_forms.DAYS_AT_LEAST_ONE),
        ("review_cadence_days", 0, rule_forms.DAYS_AT_LEAST_ONE),
        ("serving_role", "boss", '"boss" is not a valid choice.'),
    ],
)
def test_bad_segment_settings_are_refused_on_their_field(
    company, as_user, head_vera, setting, value, message
):
    segments = _segments_with("B", **{setting: value})
    response = post(
        as_user(head_vera), "/api/v1/segment-rule-sets/", {"segments": segments, "comment": "x"}
    )
    assert response.status_code == 400
    assert response.json() == {"segments": {"B": {setting: [str(message)]}}}
    assert SegmentRuleSet.objects.count() == 1


# ---------------------------------------------------------------- exports


def command_file(tmp_path, command: str, as_of: dt.date) -> bytes:
    path = tmp_path / f"{command}.csv"
    call_command(command, "--as-of", as_of.isoformat(), "--output", str(path), stdout=io.StringIO())
    return path.read_bytes()


def body(response) -> bytes:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_exports_equal_the_commands_files_byte_for_byte(base, as_user, admin_olga, tmp_path):
    http = as_user(admin_olga)
    for as_of in (D, EARLIER):
        for name, command in (("metrics", "export_metrics"), ("retention", "export_retention")):
            response = http.get(f"/api/v1/exports/{name}.csv?as_of={as_of.isoformat()}")
            assert body(response) == command_file(tmp_path, command, as_of), (name, as_of)
            assert f'filename="{name}-{as_of.isoformat()}.csv"' in response["Content-Disposition"]
    # Without as_of: the latest run.
    latest = body(http.get("/api/v1/exports/metrics.csv"))
    assert latest == command_file(tmp_path, "export_metrics", D)


def test_a_heads_metrics_export_holds_only_the_clients_they_may_see(
    base, as_user, head_gleb, head_other, tmp_path
):
    full = command_file(tmp_path, "export_metrics", D).decode().splitlines()
    gleb = body(as_user(head_gleb).get("/api/v1/exports/metrics.csv?as_of=2026-06-30"))
    gleb_lines = gleb.decode().splitlines()
    # The same header and the same cells, without the outsider's client.
    assert gleb_lines == [row for row in full if "Petr, Ltd" not in row]
    assert len(gleb_lines) == 5
    other = body(as_user(head_other).get("/api/v1/exports/metrics.csv")).decode().splitlines()
    assert other == [full[0], next(row for row in full if "Petr, Ltd" in row)]
    # Retention is base-wide: the same file for every head.
    retention = body(as_user(head_other).get("/api/v1/exports/retention.csv"))
    assert retention == command_file(tmp_path, "export_retention", D)


def test_exports_refuse_non_heads_and_missing_runs(base, as_user, km_anna, outsider, head_gleb):
    for user in (km_anna, outsider):
        for name in ("metrics", "retention"):
            response = as_user(user).get(f"/api/v1/exports/{name}.csv")
            assert response.status_code == 403
    for name in ("metrics", "retention"):
        missing = as_user(head_gleb).get(f"/api/v1/exports/{name}.csv?as_of=2026-06-29")
        assert missing.status_code == 404
        assert missing.json() == {"detail": "No metrics are stored as of 2026-06-29."}


def test_exports_without_any_run(company, as_user, head_gleb):
    response = as_user(head_gleb).get("/api/v1/exports/metrics.csv")
    assert response.status_code == 404
    assert response.json() == {"detail": "No metrics are stored yet."}


# ---------------------------------------------------------------- query counts


def test_list_endpoints_cost_a_bounded_number_of_queries(
    base, as_user, head_gleb, km_anna, django_assert_max_num_queries
):
    for n in range(30):  # more rows must not mean more queries
        client = ClientFactory(owner=km_anna if n % 2 else head_gleb, name=f"Extra {n:02}")
        line(client, day(-100 - n), 100 + n)
        if n % 3 == 0:
            wallet(client, Decimal(50_000))
    run(D)
    http = as_user(head_gleb)
    http.get("/api/v1/segment-rule-sets/")  # warm the session
    for url, limit in [
        ("/api/v1/metric-runs/", 8),
        ("/api/v1/client-metrics/", 9),
        ("/api/v1/client-metrics/?as_of=2026-05-31&segment=unrated", 9),
        ("/api/v1/segment-rule-sets/", 8),
        ("/api/v1/work-lists/overdue-touches/", 10),
        ("/api/v1/work-lists/sleeping/", 9),
        ("/api/v1/work-lists/unrated/", 9),
        ("/api/v1/work-lists/segment-movements/", 10),
        ("/api/v1/work-lists/cooling/", 12),
        ("/api/v1/exports/metrics.csv", 8),
    ]:
        with django_assert_max_num_queries(limit, info=url):
            response = http.get(url)
            if response.streaming:
                b"".join(response.streaming_content)
        assert response.status_code == 200, url
