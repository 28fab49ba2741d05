"""/api/v1/plans/ and /api/v1/forecasts/: the page's rules through the API."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm.models import ClientGrant, SalesForecast, SalesPlan
from tests.crm.test_plans import MONTH, set_forecast, set_plan
from tests.factories import ClientFactory, ShipmentLineFactory

pytestmark = pytest.mark.django_db

PLANS = "/api/v1/plans/"
FORECASTS = "/api/v1/forecasts/"


def body(**extra):
    return {
        "period_kind": MONTH.kind,
        "period_start": MONTH.start.isoformat(),
        "amount": "1000.00",
        **extra,
    }


def test_a_head_sets_and_changes_a_plan(company, head_gleb, anna_client, as_user):
    http = as_user(head_gleb)
    created = http.post(PLANS, body(client=anna_client.pk, share="0.2"), "application/json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert (data["level"], data["client"], data["amount"], data["share"]) == (
        "client",
        anna_client.pk,
        "1000.00",
        "0.2000",
    )
    assert data["set_by"]["id"] == head_gleb.pk
    # POST again on the same target and period replaces the figures of the same row.
    again = http.post(PLANS, body(client=anna_client.pk, amount="1200"), "application/json")
    assert again.status_code == 201 and again.json()["id"] == data["id"]
    patched = http.patch(f"{PLANS}{data['id']}/", {"note": "push"}, "application/json")
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["amount"], patched.json()["note"]) == ("1200.00", "push")
    moved = http.patch(f"{PLANS}{data['id']}/", {"period_start": "2020-01-01"}, "application/json")
    assert moved.status_code == 400 and "period_start" in moved.json()
    plan = SalesPlan.objects.get()
    assert plan.history.count() == 3
    assert [h.amount for h in plan.history.order_by("history_id")] == [1000, 1200, 1200]


def test_a_head_sets_manager_and_team_plans(company, head_vera, km_anna, as_user):
    http = as_user(head_vera)
    assert http.post(PLANS, body(manager=km_anna.pk), "application/json").status_code == 201
    team = company["moscow"].pk
    assert http.post(PLANS, body(team=team), "application/json").status_code == 201
    assert set(SalesPlan.objects.values_list("level", flat=True)) == {"manager", "team"}
    both = http.post(PLANS, body(team=team, manager=km_anna.pk), "application/json")
    assert both.status_code == 400 and "level" in both.json()


def test_managers_cannot_set_plans(company, km_anna, anna_client, as_user):
    http = as_user(km_anna)
    for target in ({"client": anna_client.pk}, {"manager": km_anna.pk}):
        response = http.post(PLANS, body(**target), "application/json")
        assert response.status_code in (403, 404)
    response = http.post(PLANS, body(client=anna_client.pk), "application/json")
    assert response.status_code == 403
    assert response.json()["detail"] == "Only a head of sales sets plans."
    assert not SalesPlan.objects.exists()


def test_out_of_scope_is_not_found_and_another_departments_client_is_refused(
    company, head_gleb, outsider, outsider_client, as_user
):
    http = as_user(head_gleb)
    # A plan of a client the head cannot see is not found.
    plan = set_plan(outsider_plan_head(company), "10", client=outsider_client)
    assert http.get(f"{PLANS}{plan.pk}/").status_code == 404
    assert http.patch(f"{PLANS}{plan.pk}/", {"amount": "1"}, "application/json").status_code == 404
    plan.delete()
    assert http.post(PLANS, body(client=outsider_client.pk), "application/json").status_code == 404
    assert http.post(PLANS, body(manager=outsider.pk), "application/json").status_code == 404
    team = company["other"].pk
    assert http.post(PLANS, body(team=team), "application/json").status_code == 404
    ClientGrant.objects.create(client=outsider_client, user=head_gleb, reason="kam", level="read")
    refused = http.post(PLANS, body(client=outsider_client.pk), "application/json")
    assert refused.status_code == 403
    assert "outside your teams" in refused.json()["detail"]
    assert not SalesPlan.objects.exists()


def outsider_plan_head(company):
    from accounts.choices import Role
    from tests.factories import UserFactory

    head = UserFactory(roles=[Role.HEAD])
    company["other"].head = head
    company["other"].save()
    return head


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"amount": "-1"}, "amount"),
        ({"share": "1.5"}, "share"),
        ({"share": "-0.1"}, "share"),
        ({"period_start": "2026-11-15"}, "period_start"),
        ({"period_kind": "quarter", "period_start": "2026-11-01"}, "period_start"),
        ({"period_kind": "week"}, "period_kind"),
        ({"client": None}, "level"),
    ],
)
def test_bad_figures_are_named_and_nothing_is_written(
    company, head_gleb, anna_client, as_user, extra, field
):
    payload = body(**{"client": anna_client.pk, **extra})
    response = as_user(head_gleb).post(PLANS, payload, "application/json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not SalesPlan.objects.exists()


def test_the_owner_forecasts_and_others_may_not(
    company, km_anna, km_boris, head_gleb, anna_client, as_user
):
    anna = as_user(km_anna)
    created = anna.post(FORECASTS, body(client=anna_client.pk, amount="900"), "application/json")
    assert created.status_code == 201, created.json()
    own = anna.post(FORECASTS, body(manager=km_anna.pk), "application/json")
    assert own.status_code == 201 and own.json()["level"] == "manager"
    hidden = as_user(km_boris).post(FORECASTS, body(client=anna_client.pk), "application/json")
    assert hidden.status_code == 404
    assert hidden.json()["detail"] == "No such client."
    head = as_user(head_gleb).post(FORECASTS, body(client=anna_client.pk), "application/json")
    assert head.status_code == 403
    assert (
        as_user(km_boris).post(FORECASTS, body(manager=km_anna.pk), "application/json").status_code
        == 404
    )
    forecast = SalesForecast.objects.get(level="client")
    assert forecast.amount == Decimal("900") and forecast.entered_by == km_anna
    assert as_user(km_boris).get(f"{FORECASTS}{forecast.pk}/").status_code == 404
    assert as_user(head_gleb).get(f"{FORECASTS}{forecast.pk}/").status_code == 200
    patched = anna.patch(f"{FORECASTS}{forecast.pk}/", {"amount": "950"}, "application/json")
    assert patched.status_code == 200 and patched.json()["amount"] == "950.00"
    assert forecast.history.count() == 2


def test_lists_are_scoped_and_filtered_by_period(
    company, head_gleb, km_anna, km_boris, anna_client, boris_client, as_user
):
    set_plan(head_gleb, "100", client=anna_client)
    set_plan(head_gleb, "200", client=boris_client)
    set_plan(head_gleb, "300", manager=km_anna)
    set_plan(head_gleb, "400", MONTH.shifted(-1), client=anna_client)
    quarter = MONTH.containing("quarter", MONTH.start)
    set_plan(head_gleb, "500", quarter, client=anna_client)

    anna = as_user(km_anna).get(PLANS).json()
    assert sorted(row["amount"] for row in anna["results"]) == [
        "100.00",
        "300.00",
        "400.00",
        "500.00",
    ]
    head = as_user(head_gleb)
    month = head.get(
        PLANS, {"period_kind": "month", "period_start": MONTH.start.isoformat()}
    ).json()
    assert sorted(row["amount"] for row in month["results"]) == ["100.00", "200.00", "300.00"]
    quarters = head.get(PLANS, {"period_kind": "quarter"}).json()
    assert [row["amount"] for row in quarters["results"]] == ["500.00"]
    since = head.get(
        PLANS, {"period_start_after": MONTH.start.isoformat(), "level": "client"}
    ).json()
    assert sorted(row["amount"] for row in since["results"]) == ["100.00", "200.00"]
    assert as_user(km_boris).get(PLANS, {"client_id": anna_client.pk}).json()["count"] == 0


def test_rollup_returns_the_rows_of_the_page(company, head_gleb, km_anna, anna_client, as_user):
    set_plan(head_gleb, "500", manager=km_anna)
    set_plan(head_gleb, "300", client=anna_client)
    set_forecast(km_anna, "280", client=anna_client)
    ShipmentLineFactory(client=anna_client, doc_date=MONTH.start, amount=Decimal("120"))
    params = {"kind": "month", "start": MONTH.start.isoformat()}
    tree = as_user(head_gleb).get(f"{PLANS}rollup/", params).json()
    rows = {(row["level"], row["id"]): row for row in tree["rows"]}
    anna = rows[("manager", km_anna.pk)]
    assert (anna["plan"], anna["plans_below"], anna["difference"]) == (
        "500.00",
        "300.00",
        "200.00",
    )
    assert (anna["actual"], anna["forecasts_below"]) == ("120.00", "280.00")
    own = as_user(km_anna).get(f"{PLANS}rollup/", params).json()
    assert [(row["level"], row["id"]) for row in own["rows"]] == [
        ("manager", km_anna.pk),
        ("client", anna_client.pk),
    ]
    bad = as_user(head_gleb).get(f"{PLANS}rollup/", {"kind": "week", "start": "x"})
    assert bad.status_code == 400 and set(bad.json()) == {"kind", "start"}


def test_the_plan_list_reads_in_a_bounded_number_of_queries(
    company, head_gleb, km_anna, as_user, django_assert_max_num_queries
):
    for _ in range(40):
        client = ClientFactory(owner=km_anna)
        set_plan(head_gleb, "100", client=client)
        set_forecast(km_anna, "90", client=client)
    http = as_user(head_gleb)
    for url in (PLANS, FORECASTS):
        with django_assert_max_num_queries(10):
            response = http.get(url)
        assert response.json()["count"] == 40
