"""Plan – forecast – report: setting plans and forecasts, actuals, the roll-up, pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.choices import Role
from crm.models import Period, SalesForecast, SalesPlan, WalletEstimate
from crm.selectors import plans as plan_selectors
from crm.services import plans as plan_services
from tests.factories import ClientFactory, ShipmentLineFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
# A finished month, so that the whole month counts as "to date".
MONTH = Period.containing("month", TODAY).shifted(-2)


def page_url(period: Period = MONTH, **extra: object) -> str:
    query = f"kind={period.kind}&start={period.start.isoformat()}"
    for key, value in extra.items():
        query += f"&{key}={value}"
    return f"{reverse('crm:plans')}?{query}"


def plan_url(level: str, pk: int, period: Period = MONTH) -> str:
    url = reverse("crm:plan_set", args=[level, pk])
    return f"{url}?kind={period.kind}&start={period.start.isoformat()}"


def forecast_url(level: str, pk: int, period: Period = MONTH) -> str:
    url = reverse("crm:forecast_set", args=[level, pk])
    return f"{url}?kind={period.kind}&start={period.start.isoformat()}"


def set_plan(by, amount, period: Period = MONTH, **target):
    return plan_services.plan_set(
        acting_user=by,
        period_kind=period.kind,
        period_start=period.start,
        amount=Decimal(amount),
        **target,
    )


def set_forecast(by, amount, period: Period = MONTH, **target):
    return plan_services.forecast_set(
        acting_user=by,
        period_kind=period.kind,
        period_start=period.start,
        amount=Decimal(amount),
        **target,
    )


def rows_by_key(response) -> dict[str, plan_selectors.PlanRow]:
    return {row.key: row for row in response.context["rows"]}


# --- Who may set plans and forecasts ---------------------------------------------


def test_a_head_sets_a_plan_and_every_change_is_kept_with_old_and_new(
    company, head_gleb, anna_client
):
    plan = set_plan(head_gleb, "1000", client=anna_client)
    again = set_plan(head_gleb, "1500", client=anna_client)

    assert again.pk == plan.pk  # one plan per client and period
    assert SalesPlan.objects.get().amount == Decimal("1500")
    newest, oldest = again.history.order_by("-history_date", "-history_id")
    assert [oldest.amount, newest.amount] == [Decimal("1000"), Decimal("1500")]
    assert newest.history_user == head_gleb
    changes = {c.field: (c.old, c.new) for c in newest.diff_against(oldest).changes}
    assert changes["amount"] == (Decimal("1000.00"), Decimal("1500.00"))


def test_a_manager_cannot_set_a_plan_in_the_service_the_page_or_by_post(
    company, km_anna, anna_client, as_user
):
    with pytest.raises(PermissionDenied, match="Only a head of sales sets plans"):
        set_plan(km_anna, "1000", client=anna_client)
    http = as_user(km_anna)
    assert http.get(plan_url("client", anna_client.pk)).status_code == 403
    data = {"period_kind": "month", "period_start": MONTH.start, "amount": "10"}
    assert http.post(plan_url("client", anna_client.pk), data).status_code == 403
    assert http.post(plan_url("manager", km_anna.pk), data).status_code == 403
    assert not SalesPlan.objects.exists()
    # …and the page offers no "Set plan" to a manager.
    assert "Set plan" not in http.get(page_url()).content.decode()


def test_a_head_cannot_plan_outside_their_teams(
    company, head_gleb, outsider, outsider_client, as_user
):
    # Not visible at all: not found, in the service and the page.
    with pytest.raises(Http404):
        set_plan(head_gleb, "1000", client=outsider_client)
    http = as_user(head_gleb)
    assert http.get(plan_url("client", outsider_client.pk)).status_code == 404
    assert http.get(plan_url("manager", outsider.pk)).status_code == 404
    assert http.get(plan_url("team", company["other"].pk)).status_code == 404
    assert http.get(plan_url("team", company["sales"].pk)).status_code == 404  # above Gleb
    with pytest.raises(PermissionDenied, match="not in your teams"):
        set_plan(head_gleb, "1000", manager=outsider)
    with pytest.raises(PermissionDenied, match="not one of yours"):
        set_plan(head_gleb, "1000", team=company["other"])

    # Visible through a grant, but another department's client: a clear refusal.
    from crm.models import ClientGrant

    ClientGrant.objects.create(client=outsider_client, user=head_gleb, reason="kam", level="read")
    with pytest.raises(PermissionDenied, match="outside your teams"):
        set_plan(head_gleb, "1000", client=outsider_client)
    data = {"period_kind": "month", "period_start": MONTH.start, "amount": "10"}
    response = http.post(plan_url("client", outsider_client.pk), data)
    assert response.status_code == 200
    assert "belongs to a manager outside your teams" in response.content.decode()
    assert not SalesPlan.objects.exists()


def test_the_owner_forecasts_with_history_and_nobody_else_may(
    company, km_anna, km_boris, head_gleb, anna_client, as_user
):
    first = set_forecast(km_anna, "800", client=anna_client)
    second = set_forecast(km_anna, "950", client=anna_client)
    assert first.pk == second.pk
    newest, oldest = second.history.order_by("-history_date", "-history_id")
    assert (oldest.amount, newest.amount, newest.history_user) == (
        Decimal("800"),
        Decimal("950"),
        km_anna,
    )
    own = set_forecast(km_anna, "5000", manager=km_anna)
    assert own.level == "manager"

    with pytest.raises(PermissionDenied, match="Only the client's owner"):
        set_forecast(head_gleb, "1", client=anna_client)  # a head sees it, but it is not theirs
    with pytest.raises(PermissionDenied, match="their own book"):
        set_forecast(head_gleb, "1", manager=km_anna)
    with pytest.raises(Http404):
        set_forecast(km_boris, "1", client=anna_client)  # Boris cannot see Anna's client

    boris = as_user(km_boris)
    data = {"period_kind": "month", "period_start": MONTH.start, "amount": "1"}
    assert boris.get(forecast_url("client", anna_client.pk)).status_code == 404
    assert boris.post(forecast_url("client", anna_client.pk), data).status_code == 404
    assert boris.post(forecast_url("manager", km_anna.pk), data).status_code == 404
    assert as_user(head_gleb).post(forecast_url("client", anna_client.pk), data).status_code == 403
    assert SalesForecast.objects.get(level="client").amount == Decimal("950")


# --- Bad input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"amount": "-5"}, "amount", "An amount cannot be negative."),
        ({"share_percent": "150"}, "share_percent", "A share of wallet cannot exceed 100 %."),
        ({"share_percent": "-1"}, "share_percent", "A share of wallet cannot be negative."),
        (
            {"period_start": "2026-11-15"},
            "period_start",
            "A monthly plan starts on the first day of a month.",
        ),
        (
            {"period_kind": "quarter", "period_start": "2026-02-01"},
            "period_start",
            "A quarterly plan starts on the first day of a quarter",
        ),
        (
            {"period_kind": "year", "period_start": "2026-04-01"},
            "period_start",
            "A yearly plan starts on 1 January.",
        ),
        ({"period_kind": "week"}, "period_kind", "Select a valid choice."),
        ({"amount": "lots"}, "amount", "Enter a number."),
    ],
)
def test_bad_input_is_named_on_its_field_and_nothing_is_written(
    company, head_gleb, anna_client, as_user, data, field, message
):
    post = {"period_kind": "month", "period_start": "2026-11-01", "amount": "100", **data}
    response = as_user(head_gleb).post(plan_url("client", anna_client.pk), post)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert message in response.content.decode().replace("&#x27;", "'")
    assert not SalesPlan.objects.exists()


def test_the_services_refuse_bad_figures_too(company, head_gleb, km_anna, anna_client):
    with pytest.raises(ValidationError) as error:
        plan_services.plan_set(
            acting_user=head_gleb,
            client=anna_client,
            period_kind="quarter",
            period_start=dt.date(2026, 5, 1),
            amount=Decimal("-1"),
            share=Decimal("1.5"),
        )
    assert set(error.value.message_dict) == {"period_start", "amount", "share"}
    with pytest.raises(ValidationError) as error:
        plan_services.plan_set(
            acting_user=head_gleb,
            client=anna_client,
            period_kind="week",
            period_start=dt.date(2026, 5, 1),
            amount=Decimal("1"),
        )
    assert "period_kind" in error.value.message_dict
    with pytest.raises(ValidationError):
        set_forecast(km_anna, "-3", client=anna_client)
    assert not SalesPlan.objects.exists() and not SalesForecast.objects.exists()


def test_share_is_typed_in_per_cent_and_stored_as_a_fraction(
    company, head_gleb, anna_client, as_user
):
    post = {
        "period_kind": "quarter",
        "period_start": "2026-10-01",
        "amount": "250000",
        "share_percent": "12.5",
        "note": "Autumn push",
        "next": "/clients/plans/",
    }
    response = as_user(head_gleb).post(plan_url("client", anna_client.pk), post)
    assert response.status_code == 302
    plan = SalesPlan.objects.get()
    assert (plan.period_kind, plan.period_start, plan.amount, plan.share, plan.note) == (
        "quarter",
        dt.date(2026, 10, 1),
        Decimal("250000"),
        Decimal("0.125"),
        "Autumn push",
    )
    # Opening the form again shows the figures set.
    form = as_user(head_gleb).get(
        plan_url("client", anna_client.pk, Period("quarter", dt.date(2026, 10, 1)))
    )
    assert form.context["form"].initial["share_percent"] == Decimal("12.5")


def test_htmx_swaps_the_row_for_its_form_and_reloads_the_page_when_saved(
    company, head_gleb, anna_client, as_user
):
    http = as_user(head_gleb)
    url = plan_url("client", anna_client.pk)
    row = http.get(url, HTTP_HX_REQUEST="true")
    assert row.content.decode().startswith('<tr class="plan-edit-row"')
    bad = http.post(
        url,
        {"period_kind": "month", "period_start": MONTH.start, "amount": "-1"},
        HTTP_HX_REQUEST="true",
    )
    assert bad.status_code == 200 and "An amount cannot be negative." in bad.content.decode()
    good = http.post(
        url,
        {"period_kind": "month", "period_start": MONTH.start, "amount": "7", "next": page_url()},
        HTTP_HX_REQUEST="true",
    )
    assert good.status_code == 200 and good.headers["HX-Redirect"] == page_url()
    assert SalesPlan.objects.get().amount == Decimal("7")


# --- Actuals -------------------------------------------------------------------------


def test_actual_sums_the_lines_of_the_period_with_returns_and_nothing_outside(
    company, head_gleb, km_anna, anna_client, as_user
):
    other = ClientFactory(owner=km_anna)
    inside = [
        (MONTH.start, "1000.00"),
        (MONTH.start + dt.timedelta(days=9), "-200.00"),  # a return
        (MONTH.end, "350.50"),
    ]
    for day, amount in inside:
        ShipmentLineFactory(client=anna_client, doc_date=day, amount=Decimal(amount))
    ShipmentLineFactory(client=anna_client, doc_date=MONTH.start - dt.timedelta(days=1), amount=9)
    ShipmentLineFactory(client=anna_client, doc_date=MONTH.end + dt.timedelta(days=1), amount=7)
    ShipmentLineFactory(client=other, doc_date=MONTH.start, amount=Decimal("100"))
    set_plan(head_gleb, "2000", client=anna_client)

    response = as_user(head_gleb).get(
        reverse("crm:plans_manager", args=[km_anna.pk]) + page_url()[len(reverse("crm:plans")) :]
    )
    rows = rows_by_key(response)
    assert rows[f"client-{anna_client.pk}"].actual == Decimal("1150.50")  # 1000 − 200 + 350.50
    assert rows[f"client-{anna_client.pk}"].actual_gap == Decimal("-849.50")
    assert rows[f"client-{other.pk}"].actual == Decimal("100")
    assert rows[f"manager-{km_anna.pk}"].actual == Decimal("1250.50")
    assert "1,150.50" not in response.content.decode()  # money shows whole roubles
    assert "1,151\u00a0₽" in response.content.decode()

    # The same sum on the head's tree, for Anna and her team.
    tree = rows_by_key(as_user(head_gleb).get(page_url()))
    assert tree[f"manager-{km_anna.pk}"].actual == Decimal("1250.50")
    assert tree[f"team-{company['moscow'].pk}"].actual == Decimal("1250.50")


def test_a_running_period_counts_up_to_today_only(company, km_anna, anna_client):
    period = Period("month", dt.date(2026, 3, 1))
    ShipmentLineFactory(client=anna_client, doc_date=dt.date(2026, 3, 10), amount=100)
    ShipmentLineFactory(client=anna_client, doc_date=dt.date(2026, 3, 20), amount=50)
    book = plan_selectors.manager_plans(
        user=km_anna, manager=km_anna, period=period, today=dt.date(2026, 3, 15)
    )
    assert book.manager.actual == Decimal("100")
    assert book.clients[0].actual == Decimal("100")


def test_a_managers_actual_follows_the_current_owner(
    company, head_gleb, km_anna, km_boris, anna_client, as_user
):
    from crm.models import Client

    ShipmentLineFactory(client=anna_client, doc_date=MONTH.start, amount=Decimal("500"))
    Client.objects.filter(pk=anna_client.pk).update(owner=km_boris)
    rows = rows_by_key(as_user(head_gleb).get(page_url()))
    assert rows[f"manager-{km_anna.pk}"].actual == 0
    assert rows[f"manager-{km_boris.pk}"].actual == Decimal("500")


def test_actual_share_comes_from_the_latest_metric_run_up_to_the_period_end(
    company, head_gleb, km_anna, anna_client, as_user
):
    from segmentation.services import metrics_recompute

    other = ClientFactory(owner=km_anna)
    for client, wallet, revenue in [(anna_client, "10000", "1000"), (other, "30000", "3000")]:
        WalletEstimate.objects.create(
            client=client,
            kind="wallet",
            year=MONTH.start.year,
            amount=Decimal(wallet),
            status="verified",
        )
        ShipmentLineFactory(client=client, doc_date=MONTH.start, amount=Decimal(revenue))
    ClientFactory(owner=km_anna)  # no wallet: left out of the weighted share
    metrics_recompute(as_of=MONTH.end, trigger="manual")
    set_plan(head_gleb, "5000", client=anna_client)
    SalesPlan.objects.update(share=Decimal("0.15"))

    http = as_user(head_gleb)
    book = http.get(
        reverse("crm:plans_manager", args=[km_anna.pk]), {"kind": "month", "start": MONTH.start}
    )
    rows = rows_by_key(book)
    assert rows[f"client-{anna_client.pk}"].share_actual == Decimal("0.1")
    assert rows[f"manager-{km_anna.pk}"].share_actual == Decimal("4000") / Decimal("40000")
    html = book.content.decode()
    assert "15.0 %" in html and "10.0 %" in html
    # A period ending before the run has no run to read.
    earlier = http.get(page_url(MONTH.shifted(-1)))
    assert rows_by_key(earlier)[f"manager-{km_anna.pk}"].share_actual is None


# --- The roll-up ---------------------------------------------------------------------


@pytest.fixture
def dasha(company):
    """A manager directly in «Sales», beside the «Moscow» team."""
    user = UserFactory(first_name="Dasha", last_name="Ray", roles=[Role.KM])
    company["sales"].members.add(user)
    return user


def test_plans_roll_up_department_team_manager_client_with_differences(
    company, head_vera, head_gleb, km_anna, km_boris, dasha, anna_client, boris_client, as_user
):
    boris_second = ClientFactory(owner=km_boris)
    set_plan(head_vera, "1000", team=company["sales"])
    set_plan(head_vera, "800", team=company["moscow"])
    set_plan(head_gleb, "500", manager=km_anna)
    set_plan(head_gleb, "300", client=anna_client)
    set_plan(head_gleb, "200", client=boris_client)
    set_plan(head_gleb, "100", client=boris_second)
    set_plan(head_vera, "150", manager=dasha)
    set_forecast(km_anna, "450", manager=km_anna)
    set_forecast(km_boris, "120", client=boris_client)
    ShipmentLineFactory(client=anna_client, doc_date=MONTH.start, amount=Decimal("70"))
    ShipmentLineFactory(client=boris_second, doc_date=MONTH.start, amount=Decimal("30"))

    response = as_user(head_vera).get(page_url())
    rows = rows_by_key(response)
    sales, moscow = rows[f"team-{company['sales'].pk}"], rows[f"team-{company['moscow'].pk}"]
    anna, boris = rows[f"manager-{km_anna.pk}"], rows[f"manager-{km_boris.pk}"]
    dasha_row = rows[f"manager-{dasha.pk}"]

    # Managers: their own plan against the sum of their clients' plans.
    assert (anna.plan, anna.below_plan, anna.plan_difference) == (500, 300, 200)
    assert (boris.plan, boris.below_plan, boris.plan_difference) == (None, 300, None)
    assert boris.effective_plan == 300
    # Moscow: 800 against Anna's 500 and Boris's 300 (from his clients).
    assert (moscow.plan, moscow.below_plan, moscow.plan_difference) == (800, 800, 0)
    # Sales: 1000 against Moscow's 800 and Dasha's 150.
    assert (sales.plan, sales.below_plan, sales.plan_difference) == (1000, 950, 50)
    # Forecasts roll up the same way; actuals sum.
    assert (anna.effective_forecast, boris.effective_forecast) == (450, 120)
    assert moscow.effective_forecast == 570 and sales.effective_forecast == 570
    assert (moscow.actual, sales.actual, dasha_row.actual) == (100, 100, 0)
    assert moscow.forecast_gap == 570 - 800 and moscow.actual_gap == 100 - 800
    assert (sales.clients_count, moscow.clients_count) == (3, 3)
    # The page lists department, team, managers in tree order.
    keys = [row.key for row in response.context["rows"]]
    assert keys.index(sales.key) < keys.index(moscow.key) < keys.index(anna.key)

    # Gleb sees his team only; Petr (in no team he heads) sees his own book.
    gleb_rows = rows_by_key(as_user(head_gleb).get(page_url()))
    assert sales.key not in gleb_rows and moscow.key in gleb_rows
    assert gleb_rows[moscow.key].plan_difference == 0


def test_roll_up_for_quarters_and_years_is_separate_from_months(
    company, head_vera, km_anna, anna_client, as_user
):
    quarter = Period.containing("quarter", MONTH.start)
    year = Period.containing("year", MONTH.start)
    set_plan(head_vera, "100", client=anna_client)
    set_plan(head_vera, "300", quarter, client=anna_client)
    set_plan(head_vera, "1200", year, client=anna_client)
    set_plan(head_vera, "1300", year, team=company["moscow"])
    ShipmentLineFactory(client=anna_client, doc_date=quarter.start, amount=Decimal("40"))

    http = as_user(head_vera)
    moscow = f"team-{company['moscow'].pk}"
    by_quarter = rows_by_key(http.get(page_url(quarter)))
    assert by_quarter[moscow].below_plan == 300 and by_quarter[moscow].plan is None
    assert by_quarter[moscow].actual == 40
    by_year = rows_by_key(http.get(page_url(year)))
    assert (by_year[moscow].plan, by_year[moscow].below_plan) == (1300, 1200)
    assert by_year[moscow].plan_difference == 100
    # Any day of a period picks the period; a bad kind is named and the month shown.
    picked = http.get(reverse("crm:plans"), {"kind": "quarter", "start": quarter.end})
    assert picked.context["period"] == quarter
    bad = http.get(reverse("crm:plans"), {"kind": "week", "start": "2026-11-05"})
    assert bad.status_code == 200 and "Select a valid choice" in bad.content.decode()
    assert bad.context["period"].kind == "month"


def test_a_manager_sees_their_book_and_enters_forecasts_only(
    company, head_gleb, km_anna, km_boris, anna_client, boris_client, as_user
):
    set_plan(head_gleb, "900", client=anna_client)
    set_plan(head_gleb, "1000", manager=km_anna)
    http = as_user(km_anna)
    response = http.get(page_url())
    rows = rows_by_key(response)
    assert set(rows) == {f"manager-{km_anna.pk}", f"client-{anna_client.pk}"}
    assert rows[f"client-{anna_client.pk}"].plan == 900
    assert rows[f"manager-{km_anna.pk}"].plan == 1000
    assert (
        rows[f"client-{anna_client.pk}"].can_forecast
        and not rows[f"client-{anna_client.pk}"].can_plan
    )
    post = {"period_kind": "month", "period_start": MONTH.start, "amount": "880"}
    assert http.post(forecast_url("client", anna_client.pk), post).status_code == 302
    assert http.post(forecast_url("manager", km_anna.pk), post).status_code == 302
    assert SalesForecast.objects.count() == 2
    # Another manager's page is not found.
    assert http.get(reverse("crm:plans_manager", args=[km_boris.pk])).status_code == 404


# --- Query counts ----------------------------------------------------------------------


@pytest.fixture
def big_company(company, head_vera, head_gleb):
    """Four teams under «Sales», three managers each, five clients each, all with
    plans, forecasts, shipments and a metric run."""
    from segmentation.services import metrics_recompute

    managers = []
    for t in range(4):
        team = TeamFactory(parent=company["sales"] if t % 2 else company["moscow"])
        for _m in range(3):
            manager = UserFactory(roles=[Role.KM])
            team.members.add(manager)
            managers.append(manager)
            set_plan(head_vera, "1000", manager=manager)
            set_forecast(manager, "900", manager=manager)
            for _c in range(5):
                client = ClientFactory(owner=manager)
                set_plan(head_vera, "100", client=client)
                set_forecast(manager, "90", client=client)
                ShipmentLineFactory(client=client, doc_date=MONTH.start, amount=Decimal("80"))
        set_plan(head_vera, "3000", team=team)
    metrics_recompute(as_of=MONTH.end, trigger="manual")
    return managers


def test_the_tree_page_reads_in_a_bounded_number_of_queries(
    big_company, head_vera, as_user, django_assert_max_num_queries
):
    http = as_user(head_vera)
    with django_assert_max_num_queries(20):
        response = http.get(page_url())
    assert response.status_code == 200
    rows = rows_by_key(response)
    assert len([key for key in rows if key.startswith("manager-")]) == 12 + 2  # Anna, Boris
    assert rows[f"manager-{big_company[0].pk}"].below_plan == 500


def test_the_manager_page_reads_in_a_bounded_number_of_queries(
    company, head_gleb, km_anna, as_user, django_assert_max_num_queries
):
    from segmentation.services import metrics_recompute

    for _ in range(60):
        client = ClientFactory(owner=km_anna)
        set_plan(head_gleb, "100", client=client)
        set_forecast(km_anna, "90", client=client)
        ShipmentLineFactory(client=client, doc_date=MONTH.start, amount=Decimal("80"))
    metrics_recompute(as_of=MONTH.end, trigger="manual")
    for user, url in [
        (head_gleb, reverse("crm:plans_manager", args=[km_anna.pk])),
        (km_anna, reverse("crm:plans")),
    ]:
        http = as_user(user)
        with django_assert_max_num_queries(20):
            response = http.get(url, {"kind": "month", "start": MONTH.start})
        assert len(response.context["rows"]) == 61
        assert response.context["rows"][0].actual == 60 * 80


def test_an_administrator_sees_every_department_and_the_owners_in_no_team(
    company, admin_olga, tm_ira, outsider, outsider_client, anna_client, as_user
):
    ira_client = ClientFactory(owner=tm_ira)
    ShipmentLineFactory(client=ira_client, doc_date=MONTH.start, amount=Decimal("60"))
    ShipmentLineFactory(client=outsider_client, doc_date=MONTH.start, amount=Decimal("5"))
    set_plan(admin_olga, "90", client=ira_client)
    response = as_user(admin_olga).get(page_url())
    rows = rows_by_key(response)
    no_team = rows[f"team-{plan_selectors.NO_TEAM}"]
    assert [child.key for child in no_team.children] == [f"manager-{tm_ira.pk}"]
    assert (no_team.actual, no_team.below_plan, no_team.can_plan) == (60, 90, False)
    assert rows[f"team-{company['other'].pk}"].actual == 5
    assert f"team-{company['sales'].pk}" in rows
    assert "Without a team" in response.content.decode()
