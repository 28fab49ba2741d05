"""A head's override of one client's segment: it wins until removed, with history."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from segmentation import services
from segmentation.models import ClientMetricSnapshot, MetricRun, SegmentOverride
from tests.factories import ClientFactory
from tests.segmentation._data import day, line, run, snap, wallet

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients(company, km_anna, outsider):
    """Five rated clients of Anna (threshold 420: 400 + 0.2 × 100) and one of Petr."""
    made = []
    for n, amount in enumerate((100, 200, 300, 400, 500)):
        client = ClientFactory(external_id=f"O-{n}", owner=km_anna)
        line(client, day(-10 - n), 10 * (n + 1))
        wallet(client, amount)
        made.append(client)
    foreign = ClientFactory(external_id="O-foreign", owner=outsider)
    line(foreign, day(-3), 5)
    wallet(foreign, 100)
    return made, foreign


def test_an_override_wins_over_the_rules_and_the_rules_segment_is_kept(clients, head_gleb):
    small = clients[0][0]  # wallet 100 < 420, share 10 / 100 = 0.10: C by the rules
    assert snap(run(), small).segment == "C"
    services.segment_override_set(
        client=small, segment="A", reason="Strategic for the region", acting_user=head_gleb
    )
    stored = snap(run(), small)
    assert (stored.segment, stored.rule_segment) == ("A", "C")
    assert snap(run(), clients[0][1]).rule_segment == snap(run(), clients[0][1]).segment

    assert services.segment_override_remove(
        client=small, reason="The region plan changed", acting_user=head_gleb
    )
    stored = snap(run(), small)
    assert (stored.segment, stored.rule_segment) == ("C", "C")


def test_an_override_is_not_credited_as_development(clients, head_gleb, km_anna):
    """Moves are reckoned on the rules' segments: C → A by override is no move up."""
    from segmentation.models import DevelopmentMetric

    run(day(-40))  # the run at the start of D's month

    def moves():
        end = run()
        row = DevelopmentMetric.objects.get(run=end, scope="manager", manager=km_anna)
        return row.moved_up, row.moved_by_potential, row.moved_down

    by_the_rules = moves()
    services.segment_override_set(
        client=clients[0][0], segment="A", reason="Strategic", acting_user=head_gleb
    )
    assert moves() == by_the_rules
    services.segment_override_set(
        client=clients[0][0], segment="D", reason="Downgraded", acting_user=head_gleb
    )
    assert moves() == by_the_rules


def test_only_a_head_of_the_client_s_team_may_override(clients, km_anna, head_gleb, outsider):
    mine, foreign = clients
    with pytest.raises(PermissionDenied):
        services.segment_override_set(client=mine[0], segment="A", reason="x", acting_user=km_anna)
    with pytest.raises(PermissionDenied):
        services.segment_override_set(
            client=foreign, segment="A", reason="x", acting_user=head_gleb
        )
    assert not SegmentOverride.objects.exists()


def test_every_change_keeps_who_when_old_and_new(clients, head_gleb, head_vera):
    client = clients[0][0]
    services.segment_override_set(client=client, segment="A", reason="One", acting_user=head_gleb)
    services.segment_override_set(client=client, segment="B", reason="Two", acting_user=head_vera)
    services.segment_override_remove(client=client, reason="Three", acting_user=head_gleb)
    history = list(SegmentOverride.history.filter(client_id=client.pk).order_by("history_date"))
    assert [(h.history_type, h.segment, h.reason, h.history_user) for h in history] == [
        ("+", "A", "One", head_gleb),
        ("~", "B", "Two", head_vera),
        ("-", "B", "Two", head_gleb),
    ]
    assert history[-1].history_change_reason == "Three"
    assert not services.segment_override_remove(
        client=client, reason="again", acting_user=head_gleb
    )


def test_setting_an_override_recomputes_the_client_after_commit(
    clients, head_gleb, django_capture_on_commit_callbacks
):
    client = clients[0][0]
    base = run()
    with django_capture_on_commit_callbacks(execute=True):
        services.segment_override_set(
            client=client, segment="A", reason="Strategic", acting_user=head_gleb
        )
    incremental = MetricRun.objects.exclude(pk=base.pk).get()
    assert (incremental.kind, incremental.client_ids) == ("incremental", [client.pk])
    latest = ClientMetricSnapshot.objects.get(client=client)  # in the base run, rewritten
    assert (latest.run, latest.segment, latest.rule_segment) == (base, "A", "C")


# Pages -----------------------------------------------------------------------


def test_the_override_page_sets_changes_and_removes(client, clients, head_gleb):
    target = clients[0][0]
    run()
    client.force_login(head_gleb)
    url = reverse("segmentation:override_edit", args=[target.pk])
    page = client.get(url)
    assert page.status_code == 200 and "By the rules: C" in page.content.decode()

    response = client.post(url, {"segment": "B", "reason": "Growth region"})
    assert response.status_code == 302
    assert SegmentOverride.objects.get(client=target).segment == "B"

    response = client.post(url, {"action": "remove", "reason": ""})
    assert "Say why the override is removed." in response.content.decode()
    assert SegmentOverride.objects.filter(client=target).exists()
    client.post(url, {"action": "remove", "reason": "Done"})
    assert not SegmentOverride.objects.filter(client=target).exists()
    listing = client.get(reverse("segmentation:override_list"))
    assert listing.status_code == 200


def test_bad_input_on_the_page_is_answered_on_the_field(client, clients, head_gleb):
    client.force_login(head_gleb)
    url = reverse("segmentation:override_edit", args=[clients[0][0].pk])
    response = client.post(url, {"segment": "unrated", "reason": ""})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Say why the rules" in body and "Select a valid choice" in body
    assert not SegmentOverride.objects.exists()


def test_the_page_refuses_managers_and_hides_other_teams_clients(
    client, clients, km_anna, head_gleb
):
    mine, foreign = clients
    client.force_login(km_anna)
    assert client.get(reverse("segmentation:override_edit", args=[mine[0].pk])).status_code == 403
    assert client.get(reverse("segmentation:override_list")).status_code == 403
    client.force_login(head_gleb)
    url = reverse("segmentation:override_edit", args=[foreign.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"segment": "A", "reason": "x"}).status_code == 404
    assert not SegmentOverride.objects.exists()


# API -------------------------------------------------------------------------


def test_the_api_sets_lists_and_removes(client, clients, head_gleb, km_anna):
    target = clients[0][0]
    client.force_login(head_gleb)
    created = client.post(
        "/api/v1/segment-overrides/",
        {"client": target.pk, "segment": "A", "reason": "Strategic"},
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["segment"] == "A"
    listed = client.get("/api/v1/segment-overrides/").json()
    assert [row["client"]["id"] for row in listed["results"]] == [target.pk]

    assert client.delete(f"/api/v1/segment-overrides/{target.pk}/").status_code == 400
    assert SegmentOverride.objects.exists()
    gone = client.delete(f"/api/v1/segment-overrides/{target.pk}/?reason=Over")
    assert gone.status_code == 204
    assert not SegmentOverride.objects.exists()

    client.force_login(km_anna)
    assert client.get("/api/v1/segment-overrides/").json()["results"] == []


def test_the_api_refuses_bad_input_managers_and_other_teams(client, clients, head_gleb, km_anna):
    mine, foreign = clients
    client.force_login(head_gleb)
    bad = client.post(
        "/api/v1/segment-overrides/",
        {"client": mine[0].pk, "segment": "Z", "reason": ""},
        content_type="application/json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"segment", "reason"}
    hidden = client.post(
        "/api/v1/segment-overrides/",
        {"client": foreign.pk, "segment": "A", "reason": "x"},
        content_type="application/json",
    )
    assert hidden.status_code == 404
    client.force_login(km_anna)
    refused = client.post(
        "/api/v1/segment-overrides/",
        {"client": mine[0].pk, "segment": "A", "reason": "x"},
        content_type="application/json",
    )
    assert refused.status_code == 403
    assert not SegmentOverride.objects.exists()
