"""The client list: search, filters and metric sorting on the page and in the API,
columns per user, the holdings view, scope, and a bounded number of queries.

Metrics are stored snapshot rows of hand-made runs: the list's contract is
to read the latest *successful* run, so an older run and a newer failed one
carry misleading values. Expected orders are worked out here from the
table of values, not typed in.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import Activity, ClientGrant
from segmentation.models import ClientMetricSnapshot, MetricRun
from tests.factories import ClientFactory, ContactFactory, inn_with_checksum

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()

# name: (owner, segment, status, share_band, revenue_12m, share, yoy, days, extra client fields)
VALUES: dict[str, dict[str, Any]] = {
    "Альфа": dict(
        owner="anna", segment="A", status="active", share_band="main", revenue_12m="500000",
        share_of_wallet="0.25", yoy_growth="0.10", days_since_last_order=5,
        client=dict(region="Kazan", industry="Retail", sales_type="transactional",
                    external_id="ALPHA-1", inn=inn_with_checksum("503412345")),
    ),
    "Бета": dict(
        owner="anna", segment="B", status="sleeping", share_band="secondary",
        revenue_12m="100000", share_of_wallet="0.05", yoy_growth="-0.20",
        days_since_last_order=100, client=dict(industry="Construction", sales_type="mixed"),
    ),
    "Гамма": dict(
        owner="anna", segment="unrated", status="prospect", share_band="", revenue_12m="0",
        share_of_wallet=None, yoy_growth=None, days_since_last_order=None,
        client=dict(sales_type="consultative"),
    ),
    "Дельта": dict(
        owner="boris", segment="C", status="active", share_band="dominant",
        revenue_12m="300000", share_of_wallet="0.6", yoy_growth=None,
        days_since_last_order=20, client=dict(sales_type="mixed"),
    ),
    "Холдинг": dict(
        owner="anna", segment="D", status="new", share_band="indifference",
        revenue_12m="50000", share_of_wallet="0.01", yoy_growth="0.5",
        days_since_last_order=5, client=dict(sales_type="mixed"),
    ),
    # Created after the run: no snapshot, every metric empty.
    "Свежий": dict(owner="anna", client=dict(sales_type="mixed")),
    # Another department's: never on Anna's, Boris's, Gleb's or Vera's lists.
    "Чужой": dict(
        owner="outsider", segment="A", status="active", share_band="main",
        revenue_12m="9000000", share_of_wallet="0.3", yoy_growth="1", days_since_last_order=1,
        client=dict(sales_type="transactional", region="Kazan", industry="Retail"),
    ),
    "Чужая дочка": dict(
        owner="outsider", segment="D", status="active", share_band="secondary",
        revenue_12m="70000", share_of_wallet="0.02", yoy_growth="0", days_since_last_order=3,
        client=dict(sales_type="mixed"),
    ),
}  # fmt: skip
METRICS = ("revenue_12m", "share_of_wallet", "yoy_growth", "days_since_last_order")


def make_run(as_of: dt.date, status: str = "succeeded") -> MetricRun:
    return MetricRun.objects.create(as_of=as_of, status=status, kind="full", trigger="manual")


def snapshot(run: MetricRun, client: Any, **values: Any) -> ClientMetricSnapshot:
    row: dict[str, Any] = dict(
        revenue_12m=Decimal(0), revenue_prev_12m=Decimal(0), revenue_ytd=Decimal(0),
        revenue_prev_ytd=Decimal(0), margin_12m=Decimal(0), orders_12m=0, skus_12m=0,
        groups_12m=0, status="active", segment="D", share_band="",
    )  # fmt: skip
    for key, value in values.items():
        if key in ("revenue_12m", "share_of_wallet", "yoy_growth") and value is not None:
            value = Decimal(value)
        row[key] = value
    return ClientMetricSnapshot.objects.create(
        run=run, client=client, owner=client.owner, sales_type=client.sales_type, **row
    )


@pytest.fixture
def book(company, km_anna, km_boris, outsider):
    """The clients of VALUES, their contacts, a holding, and three runs."""
    owners = {"anna": km_anna, "boris": km_boris, "outsider": outsider}
    clients = {
        name: ClientFactory(name=name, owner=owners[spec["owner"]], **spec["client"])
        for name, spec in VALUES.items()
    }
    holding = clients["Холдинг"]
    for name in ("Альфа", "Дельта", "Чужая дочка"):
        clients[name].parent = holding
        clients[name].save()
    old = make_run(TODAY - dt.timedelta(days=1))
    run = make_run(TODAY)
    failed = make_run(TODAY, status="failed")
    for name, spec in VALUES.items():
        if "segment" not in spec:
            continue
        values = {k: v for k, v in spec.items() if k not in ("owner", "client")}
        snapshot(run, clients[name], **values)
        # Misleading values in runs the list must not read.
        snapshot(old, clients[name], segment="D", status="lost", revenue_12m="1")
        snapshot(failed, clients[name], segment="B", status="new", revenue_12m="7")
    alpha = clients["Альфа"]
    ContactFactory(client=alpha, full_name="Иван Петров", phone="+7 (495) 123-45-67",
                   email="ivan@alpha.test")  # fmt: skip
    ContactFactory(client=alpha, full_name="Иван Сидоров", email="sidorov@alpha.test")
    ContactFactory(client=clients["Бета"], full_name="Мария Белова", phone="8 912 000-11-22",
                   email="maria@beta.test")  # fmt: skip
    ContactFactory(client=clients["Чужой"], full_name="Иван Чужой", phone="+7 495 123-45-67",
                   email="ivan@other.test")  # fmt: skip
    return clients


def page_names(http, params: dict[str, Any] | None = None, **headers: Any) -> list[str]:
    """Client names of the list page's rows, in order (ids come from data-client-id)."""
    response = http.get(reverse("crm:client_list"), params or {}, **headers)
    assert response.status_code == 200
    ids = [int(pk) for pk in re.findall(r'data-client-id="(\d+)"', response.content.decode())]
    by_id = {c.pk: c.name for c in ClientFactory._meta.model.objects.filter(pk__in=ids)}
    return [by_id[pk] for pk in ids]


def api_names(http, params: dict[str, Any] | None = None) -> list[str]:
    response = http.get("/api/v1/clients/", params or {})
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def both(http, params: dict[str, Any]) -> list[str]:
    """The same filter on the page and in the API gives the same clients in the same order."""
    on_page = page_names(http, params)
    assert api_names(http, params) == on_page
    return on_page


# ------------------------------------------------------------------- search


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("льф", ["Альфа"]),  # part of the name
        ("0341234", ["Альфа"]),  # part of the INN
        ("alpha-1", ["Альфа"]),  # external id, any case
        ("Иван", ["Альфа"]),  # two contacts match: listed once
        ("sidorov@alpha", ["Альфа"]),  # a contact's e-mail
        ("4951234567", ["Альфа"]),  # a contact's phone typed without separators
        ("123-45-67", ["Альфа"]),  # … or as stored
        ("912 000 11 22", ["Бета"]),
        ("maria@", ["Бета"]),
        ("нет такого", []),
    ],
)
def test_search_finds_by_name_inn_external_id_and_contacts(
    book, as_user, head_gleb, query, expected
):
    # Gleb heads Anna and Boris: the outsider's client with "Иван" and the same
    # phone never shows.
    assert both(as_user(head_gleb), {"q": query}) == expected


def test_search_outside_the_scope_finds_nothing(book, as_user, km_anna, outsider):
    assert both(as_user(km_anna), {"q": "ivan@other"}) == []
    assert both(as_user(outsider), {"q": "Иван"}) == ["Чужой"]


# ------------------------------------------------------------------ filters


def visible_of(head: str) -> set[str]:
    owners = {"anna", "boris"} if head == "gleb" else {"anna"}
    return {name for name, spec in VALUES.items() if spec["owner"] in owners}


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({"segment": "A"}, lambda s: s.get("segment") == "A"),
        ({"segment": "unrated"}, lambda s: s.get("segment") == "unrated"),
        ({"status": "sleeping"}, lambda s: s.get("status") == "sleeping"),
        ({"status": "active"}, lambda s: s.get("status") == "active"),
        ({"share_band": "dominant"}, lambda s: s.get("share_band") == "dominant"),
        ({"share_band": "main"}, lambda s: s.get("share_band") == "main"),
        ({"region": "kazan"}, lambda s: s["client"].get("region") == "Kazan"),
        ({"industry": "retail"}, lambda s: s["client"].get("industry") == "Retail"),
        ({"sales_type": "mixed"}, lambda s: s["client"]["sales_type"] == "mixed"),
        ({"segment": "A", "sales_type": "mixed"}, lambda s: False),
    ],
)
def test_filters_by_metrics_of_the_latest_good_run_and_by_fields(
    book, as_user, head_gleb, params, rule
):
    expected = sorted(n for n in visible_of("gleb") if rule(VALUES[n]))
    assert both(as_user(head_gleb), params) == expected


def test_owner_team_and_sub_team_filters(book, as_user, admin_olga, head_gleb, km_boris, company):
    admin = as_user(admin_olga)
    ours = sorted(n for n, s in VALUES.items() if s["owner"] != "outsider")
    theirs = sorted(n for n, s in VALUES.items() if s["owner"] == "outsider")
    # Sales contains Moscow (Anna, Boris): a team filter takes its sub-teams.
    assert both(admin, {"team": company["sales"].pk}) == ours
    assert both(admin, {"team": company["moscow"].pk}) == ours
    assert both(admin, {"team": company["other"].pk}) == theirs
    assert both(admin, {"owner_id": km_boris.pk}) == ["Дельта"]
    # Gleb may filter by another department's team: he still sees none of it.
    assert both(as_user(head_gleb), {"team": company["other"].pk}) == []


def test_overdue_touch_filter_follows_the_service_standard(book, as_user, head_gleb):
    def touch(name: str, days_ago: int) -> None:
        client = book[name]
        Activity.objects.create(
            client=client, kind="call", performed_by=client.owner, entered_by=client.owner,
            occurred_at=timezone.now() - dt.timedelta(days=days_ago), summary="call",
        )  # fmt: skip

    touch("Альфа", 20)  # A: standard 14 days → overdue
    touch("Бета", 1)  # B: 21 days → fine
    touch("Холдинг", 30)  # D: 90 days → fine
    # Дельта (C) was never touched: overdue. Гамма is unrated: no standard.
    assert both(as_user(head_gleb), {"overdue": "true"}) == ["Альфа", "Дельта"]


def test_holding_filters(book, as_user, head_gleb, km_anna):
    holding = book["Холдинг"]
    assert both(as_user(head_gleb), {"holding": holding.pk}) == ["Альфа", "Дельта", "Холдинг"]
    assert both(as_user(km_anna), {"holding": holding.pk}) == ["Альфа", "Холдинг"]
    assert both(as_user(head_gleb), {"holdings_only": "true"}) == ["Холдинг"]


def test_a_bad_filter_is_a_message_on_the_page_and_400_in_the_api(book, as_user, km_anna):
    http = as_user(km_anna)
    page = http.get(reverse("crm:client_list"), {"segment": "Z", "ordering": "password"})
    assert page.status_code == 200
    body = page.content.decode()
    assert "Select a valid choice" in body and "0 clients" in body
    bad = http.get("/api/v1/clients/", {"segment": "Z", "ordering": "password"})
    assert bad.status_code == 400
    assert set(bad.json()) == {"segment", "ordering"}


# ------------------------------------------------------------------ sorting


def expected_order(names: set[str], metric: str, descending: bool, clients) -> list[str]:
    """Empty values last whatever the direction; equal values by client id."""

    def key(name: str):
        raw = VALUES[name].get(metric)
        value = None if raw is None else Decimal(str(raw))
        sign = -1 if descending else 1
        return (value is None, sign * (value or 0), clients[name].pk)

    return sorted(names, key=key)


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("descending", [False, True])
def test_sorting_by_each_metric_both_ways_with_empty_values_last(
    book, as_user, head_gleb, metric, descending
):
    ordering = f"-{metric}" if descending else metric
    expected = expected_order(visible_of("gleb"), metric, descending, book)
    assert both(as_user(head_gleb), {"ordering": ordering}) == expected
    assert expected[-1] == "Свежий"  # no snapshot: empty, last both ways


@pytest.mark.parametrize(
    ("params", "rule"),
    [
        ({"segment": "A"}, lambda s: s.get("segment") == "A"),
        (
            {"status": "active", "share_band": "main"},
            lambda s: s.get("status") == "active" and s.get("share_band") == "main",
        ),
    ],
)
@pytest.mark.parametrize("metric", ["revenue_12m", "share_of_wallet", "days_since_last_order"])
def test_metric_filters_and_a_metric_sort_together(book, as_user, head_gleb, params, rule, metric):
    """Filtered and sorted on the same run's snapshot: the filter's clients, in the sort's order."""
    everyone = expected_order(visible_of("gleb"), metric, True, book)
    expected = [name for name in everyone if rule(VALUES[name])]
    assert expected  # the case filters something in
    assert both(as_user(head_gleb), {**params, "ordering": f"-{metric}"}) == expected


def test_sorting_by_name_and_the_clickable_headers(book, as_user, km_anna):
    http = as_user(km_anna)
    names = sorted(visible_of("anna"))
    assert both(http, {}) == names
    assert both(http, {"ordering": "-name"}) == names[::-1]
    body = http.get(reverse("crm:client_list"), {"ordering": "-revenue_12m"}).content.decode()
    # The sorted column's header links to the other direction, keeping the filters.
    assert 'aria-sort="descending"' in body
    assert "?ordering=revenue_12m" in body


def test_sorting_and_filters_need_no_run_to_answer(company, as_user, km_anna):
    ClientFactory(name="Б", owner=km_anna)
    ClientFactory(name="А", owner=km_anna)
    http = as_user(km_anna)
    assert len(both(http, {"ordering": "-revenue_12m"})) == 2
    assert both(http, {"segment": "A"}) == []
    assert both(http, {"segment": "A", "ordering": "-revenue_12m"}) == []
    assert "no metric run yet" in http.get(reverse("crm:client_list")).content.decode()


# ------------------------------------------------------------ pages and htmx


def test_pages_of_fifty_in_a_stable_order(company, as_user, km_anna):
    run = make_run(TODAY)
    clients = ClientFactory.create_batch(55, owner=km_anna, name="Same name")
    for client in clients[:30]:
        snapshot(run, client, revenue_12m="1000")  # 30 ties, 25 empty
    http = as_user(km_anna)
    first = page_names_ids(http, {"ordering": "-revenue_12m"})
    second = page_names_ids(http, {"ordering": "-revenue_12m", "page": 2})
    assert len(first) == 50 and len(second) == 5
    assert first + second == [c.pk for c in clients]  # ties by id, empty last


def page_names_ids(http, params):
    body = http.get(reverse("crm:client_list"), params).content.decode()
    return [int(pk) for pk in re.findall(r'data-client-id="(\d+)"', body)]


def test_htmx_gets_the_rows_and_links_that_keep_the_query(book, as_user, km_anna):
    http = as_user(km_anna)
    response = http.get(
        reverse("crm:client_list"), {"segment": "A", "ordering": "-revenue_12m"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    body = response.content.decode()
    assert "<html" not in body and 'id="bulk-form"' in body
    assert 'name="query" value="segment=A&amp;ordering=-revenue_12m"' in body
    full = http.get(reverse("crm:client_list"), {"segment": "A"}).content.decode()
    assert 'hx-push-url="true"' in full and 'method="get"' in full  # works without JS too


# ------------------------------------------------------------------ columns


def headers_of(body: str) -> list[str]:
    thead = body.split("<thead>", 1)[1].split("</thead>", 1)[0]
    cells = re.findall(r"<th[^>]*>(.*?)</th>", thead, flags=re.S)
    return [re.sub(r"<[^>]+>|[↑↓]", "", cell).strip() for cell in cells]


def test_chosen_columns_are_remembered_per_user(book, as_user, km_anna, km_boris):
    http = as_user(km_anna)
    assert headers_of(http.get(reverse("crm:client_list")).content.decode())[1:-1] == [
        "Name", "INN", "Segment", "Status", "Owner", "Region", "Sales type",
        "Revenue, 12 months", "Share of wallet",
    ]  # fmt: skip
    response = http.post(
        reverse("crm:client_list_columns"),
        {"columns": ["yoy_growth", "industry", "last_touch", "share_band"], "query": "segment=A"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:client_list") + "?segment=A"
    km_anna.refresh_from_db()
    assert km_anna.client_list_columns == ["share_band", "industry", "yoy_growth", "last_touch"]
    again = as_user(km_anna)  # a new session: the choice is on the user
    body = again.get(reverse("crm:client_list"), {"q": "Альфа"}).content.decode()
    assert headers_of(body)[1:-1] == [
        "Name", "Share band", "Industry", "Growth YoY", "Last touch",
    ]  # fmt: skip
    assert "+10.0\u00a0%" in body and "Main supplier" in body and "Retail" in body
    # Boris keeps the defaults; an unknown column changes nothing.
    assert "Owner" in headers_of(as_user(km_boris).get(reverse("crm:client_list")).content.decode())
    http.post(reverse("crm:client_list_columns"), {"columns": ["password"]})
    km_anna.refresh_from_db()
    assert km_anna.client_list_columns == ["share_band", "industry", "yoy_growth", "last_touch"]


# ----------------------------------------------------------------- holdings


def test_grouped_by_holding_puts_subsidiaries_under_their_holding(
    book, as_user, head_gleb, km_anna
):
    http = as_user(head_gleb)
    names = both(http, {"view": "holdings"})  # the API groups as the page does
    at = names.index("Холдинг")
    assert names[at : at + 3] == ["Холдинг", "Альфа", "Дельта"]
    body = http.get(reverse("crm:client_list"), {"view": "holdings"}).content.decode()
    # 50 000 + 500 000 + 300 000; the outsider's subsidiary is not counted.
    assert "850,000\u00a0₽" in body
    anna_body = as_user(km_anna).get(reverse("crm:client_list"), {"view": "holdings"})
    assert "550,000\u00a0₽" in anna_body.content.decode()  # Boris's Дельта is not Anna's


def test_a_subsidiary_whose_holding_is_filtered_out_gets_a_heading(book, as_user, head_gleb):
    body = (
        as_user(head_gleb)
        .get(reverse("crm:client_list"), {"view": "holdings", "segment": "A"})
        .content.decode()
    )
    assert 'class="group-heading"' in body and "Холдинг" in body


# -------------------------------------------------------------------- scope


@pytest.mark.parametrize("persona", ["km_anna", "km_boris", "head_gleb", "head_vera", "outsider"])
def test_nobody_sees_clients_outside_their_scope(book, as_user, request, persona):
    user = request.getfixturevalue(persona)
    owners = {
        "km_anna": {"anna"},
        "km_boris": {"boris"},
        "head_gleb": {"anna", "boris"},
        "head_vera": {"anna", "boris"},
        "outsider": {"outsider"},
    }[persona]
    expected = sorted(n for n, s in VALUES.items() if s["owner"] in owners)
    http = as_user(user)
    assert both(http, {}) == expected
    for params in ({"segment": "A"}, {"q": "Иван"}, {"ordering": "-revenue_12m"}):
        assert set(both(http, params)) <= set(expected)


def row_actions(http) -> dict[str, bool]:
    """Client name -> whether its row offers "Log a touch" (only for a client one may change)."""
    body = http.get(reverse("crm:client_list")).content.decode()
    rows = dict(re.findall(r'<tr data-client-id="(\d+)"(.*?)</tr>', body, flags=re.S))
    names = dict(ClientFactory._meta.model.objects.filter(pk__in=rows).values_list("pk", "name"))
    return {
        names[int(pk)]: reverse("crm:touch_create", args=[int(pk)]) in row
        for pk, row in rows.items()
    }


@pytest.mark.parametrize("persona", ["km_anna", "head_gleb", "head_vera"])
def test_rows_offer_a_touch_only_on_clients_one_may_change(book, as_user, request, persona):
    """Own clients, a head's people's (sub-teams too), edit grants: yes; read grants: no."""
    user = request.getfixturevalue(persona)
    ClientGrant.objects.create(client=book["Чужой"], user=user, reason="read", level="view")
    ClientGrant.objects.create(client=book["Чужая дочка"], user=user, reason="kam", level="edit")
    if persona == "km_anna":
        ClientGrant.objects.create(client=book["Дельта"], user=user, reason="read", level="view")
    actions = row_actions(as_user(user))
    own = {"anna"} if persona == "km_anna" else {"anna", "boris"}
    assert actions == {
        **{
            name: spec["owner"] in own
            for name, spec in VALUES.items()
            if spec["owner"] != "outsider"
        },
        "Чужой": False,
        "Чужая дочка": True,
    } | ({"Дельта": False} if persona == "km_anna" else {})


# ------------------------------------------------------------ query counts


def test_the_list_page_keeps_a_bounded_number_of_queries(
    company, as_user, head_gleb, km_anna, km_boris, kam_oleg, django_assert_max_num_queries
):
    run = make_run(TODAY)
    holding = ClientFactory(owner=km_anna, name="Группа")
    for number in range(60):
        client = ClientFactory(
            owner=km_anna if number % 2 else km_boris, parent=holding if number % 3 else None
        )
        snapshot(run, client, segment="ABCD"[number % 4], revenue_12m=str(1000 * number),
                 share_of_wallet="0.1", share_band="main")  # fmt: skip
        ContactFactory.create_batch(2, client=client)
        ClientGrant.objects.create(client=client, user=kam_oleg, reason="kam", level="edit")
        Activity.objects.create(
            client=client, kind="call", performed_by=client.owner, entered_by=client.owner,
            summary="call",
        )  # fmt: skip
    head_gleb.client_list_columns = [c for c in (
        "inn", "external_id", "segment", "status", "share_band", "owner", "region", "industry",
        "sales_type", "holding", "revenue_12m", "share_of_wallet", "yoy_growth",
        "days_since_last_order", "last_touch",
    )]  # fmt: skip
    head_gleb.save()
    http = as_user(head_gleb)
    for params in (
        {},
        {"ordering": "-revenue_12m", "segment": "A", "q": "Клиент"},
        {"view": "holdings", "ordering": "share_of_wallet"},
        {"page": 2, "team": company["moscow"].pk, "overdue": "true"},
    ):
        with django_assert_max_num_queries(15):
            response = http.get(reverse("crm:client_list"), params)
        assert response.status_code == 200
    oleg = as_user(kam_oleg)
    with django_assert_max_num_queries(12):
        assert oleg.get(reverse("crm:client_list")).status_code == 200
    # The API: session, user, roles, the scope (2), the run, count, rows, and the
    # serializer's scope of holdings (2); none per row.
    with django_assert_max_num_queries(10):
        api = http.get("/api/v1/clients/", {"ordering": "-revenue_12m", "segment": "B"})
    assert api.json()["count"] == 15
