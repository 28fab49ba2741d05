"""The client card: header facts from a metric run, the revenue chart, shares,
white space, the org chart, holdings, history, tabs and their query counts,
and the 404 outside the user's scope (pages and API)."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from itertools import count

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import services
from crm.models import Activity, ClientGrant, Contact, Deal, Task, WalletEstimate
from crm.selectors.card import CHART_MONTHS, WHITE_SPACE_MIN_SHARE
from segmentation.models import SegmentRuleSet
from segmentation.services import metrics_recompute, segment_rule_set_save
from tests.factories import ClientFactory, ContactFactory, ProductFactory, ProductGroupFactory

TABS = (
    "overview",
    "contacts",
    "activities",
    "tasks",
    "deals",
    "estimates",
    "history",
    "dossier",
    "surveys",
)
_docs = count(1)


def today() -> dt.date:
    return timezone.localdate()


def month_start(months_ago: int) -> dt.date:
    first = today().replace(day=1)
    index = first.year * 12 + first.month - 1 - months_ago
    return dt.date(index // 12, index % 12 + 1, 1)


def product(group_name: str):
    group = ProductGroupFactory(name=group_name)
    return ProductFactory(group=group)


def line(client, on: dt.date, amount, prod, *, doc: str | None = None):
    from crm.models import ShipmentLine

    return ShipmentLine.objects.create(
        client=client,
        doc_number=doc or f"D-{next(_docs)}",
        doc_date=on,
        product=prod,
        qty=Decimal(1),
        amount=Decimal(amount),
    )


def verified_wallet(client, amount, *, group=None) -> WalletEstimate:
    return WalletEstimate.objects.create(
        client=client,
        kind="wallet",
        year=today().year,
        amount=Decimal(amount),
        status="verified",
        product_group=group,
        reviewed_at=timezone.now() - dt.timedelta(days=1),
    )


def recompute(as_of: dt.date | None = None):
    run = metrics_recompute(as_of=as_of or today(), trigger="manual")
    assert run.status == "succeeded", run.error
    return run


def card_url(client, tab: str | None = None) -> str:
    url = reverse("crm:client_detail", args=[client.pk])
    return f"{url}?tab={tab}" if tab else url


def overview_api(client) -> str:
    return f"/api/v1/clients/{client.pk}/overview/"


# --- Header --------------------------------------------------------------------


def test_header_shows_segment_status_loyalty_and_standard_from_the_run(
    company, as_user, km_anna, km_boris, head_gleb, anna_client
):
    anna_client.industry = "Retail"
    anna_client.save()
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="co_owner")
    fasteners = product("Fasteners")
    line(anna_client, today() - dt.timedelta(days=30), 200_000, fasteners)
    line(anna_client, today() - dt.timedelta(days=10), 50_000, fasteners)
    verified_wallet(anna_client, 1_000_000)
    run = recompute()
    # The rules in force change after the run: the card shows the new standard.
    current = SegmentRuleSet.objects.active()
    segments = {key: dict(values) for key, values in current.segments.items()}
    segments["A"].update(
        colour="#123456",
        strategy="Guard it like gold",
        max_days_between_touches=7,
        serving_role="km",
        key_account_plan_required=False,
        review_cadence_days=30,
    )
    segment_rule_set_save(changes={"segments": segments}, acting_user=head_gleb)

    response = as_user(km_anna).get(card_url(anna_client))
    assert response.status_code == 200
    header = response.context["header"]
    assert header.run == run
    assert header.snapshot.segment == "A"  # the only rated client: high potential, 25 %
    assert header.segment.colour == "#123456"
    assert header.segment.strategy == "Guard it like gold"
    assert (
        header.segment.max_days_between_touches,
        header.segment.serving_role,
        header.segment.key_account_plan_required,
        header.segment.review_cadence_days,
    ) == (7, "km", False, 30)
    assert header.snapshot.status == "new"  # first order 30 days ago
    assert header.gauge.percent == Decimal("25.0")  # 250 000 / 1 000 000
    assert header.gauge.band == "main"
    assert [g.user for g in header.co_owners] == [km_boris]
    body = response.content.decode()
    assert "25.0 %" in body and "Main supplier" in body
    # 25 % sits in the third band (10–50 %): (2 + 0.15 / 0.40) × 25 = 59.375 % of the width.
    assert "left: 59.4%" in body
    assert "--segment-colour: #123456" in body
    assert "Guard it like gold" in body
    assert "Client manager" in body  # the serving role
    assert ">New<" in body  # the status badge
    assert str(km_boris) in body.split("Co-owners", 1)[1][:300]


def test_header_without_any_run_says_so(company, as_user, km_anna, anna_client):
    response = as_user(km_anna).get(card_url(anna_client))
    assert response.status_code == 200
    assert response.context["header"].run is None
    body = response.content.decode()
    assert "No metric run yet" in body
    assert "No metric run has covered this client yet." in body  # white space
    api = as_user(km_anna).get(overview_api(anna_client)).json()
    assert api["header"]["run_as_of"] is None and api["header"]["segment"] is None
    assert api["white_space"]["available"] is False
    assert api["group_shares"] == []


def test_a_client_created_after_the_run_is_not_in_it_yet(company, as_user, km_anna, anna_client):
    recompute()
    newcomer = ClientFactory(owner=km_anna)
    body = as_user(km_anna).get(card_url(newcomer)).content.decode()
    assert "did not cover this client yet" in body


# --- Chart ------------------------------------------------------------------------


def test_chart_series_are_monthly_sums_by_group_with_returns(
    company, as_user, km_anna, anna_client, boris_client
):
    fasteners, paint = product("Fasteners"), product("Paint")
    line(anna_client, today(), 1000, fasteners)
    line(anna_client, today(), 500, fasteners)
    line(anna_client, today(), -200, fasteners)  # a return lowers the month
    line(anna_client, month_start(3), 700, fasteners)
    line(anna_client, month_start(1) + dt.timedelta(days=14), 400, paint)
    line(anna_client, month_start(CHART_MONTHS - 1), 50, paint)  # the first month shown
    line(anna_client, month_start(CHART_MONTHS - 1) - dt.timedelta(days=1), 999, paint)  # before
    line(anna_client, today() + dt.timedelta(days=40), 777, paint)  # not shipped yet
    line(boris_client, today(), 10_000, fasteners)  # another client

    response = as_user(km_anna).get(card_url(anna_client))
    chart = response.context["chart"]
    assert chart.months[0] == month_start(CHART_MONTHS - 1)
    assert chart.months[-1] == month_start(0)
    assert [s.name for s in chart.series] == ["Fasteners", "Paint"]  # biggest first
    expected_fasteners = [Decimal(0)] * CHART_MONTHS
    expected_fasteners[-1] = Decimal(1300)
    expected_fasteners[-4] = Decimal(700)
    expected_paint = [Decimal(0)] * CHART_MONTHS
    expected_paint[-2] = Decimal(400)
    expected_paint[0] = Decimal(50)
    assert chart.series[0].values == expected_fasteners
    assert chart.series[1].values == expected_paint
    assert chart.total == Decimal(2450)

    body = response.content.decode()
    data = json.loads(
        re.search(
            r'<script id="revenue-chart-data" type="application/json">(.*?)</script>', body, re.S
        ).group(1)
    )
    assert len(data["labels"]) == CHART_MONTHS
    assert [Decimal(v) for v in data["datasets"][0]["data"]] == expected_fasteners
    assert "vendor/chartjs/chart.umd.js" in body and "cdn" not in body.lower()
    # The table form: a row per month (a cell per group, then the total), and the totals.
    table = body.split('id="revenue-chart"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", table, re.S)
    cells = [re.findall(r'<td class="num">(.*?)</td>', row) for _month, row in rows]
    assert [month for month, _row in rows[:-1]] == data["labels"]
    assert cells[-2] == ["1,300\u00a0₽", "0\u00a0₽", "1,300\u00a0₽"]  # this month
    assert cells[-3] == ["0\u00a0₽", "400\u00a0₽", "400\u00a0₽"]
    assert cells[-1] == ["2,000\u00a0₽", "450\u00a0₽", "2,450\u00a0₽"]  # the totals

    api = as_user(km_anna).get(overview_api(anna_client)).json()["chart"]
    assert api["months"][0] == f"{month_start(CHART_MONTHS - 1):%Y-%m}"
    assert [Decimal(v) for v in api["series"][1]["values"]] == expected_paint
    assert Decimal(api["totals"][-1]) == Decimal(1300)


# --- Shares and white space -------------------------------------------------------


def test_share_per_product_group_comes_from_the_run(company, as_user, km_anna, anna_client):
    fasteners, paint = product("Fasteners"), product("Paint")
    line(anna_client, today() - dt.timedelta(days=5), 2500, fasteners)
    line(anna_client, today() - dt.timedelta(days=5), 600, paint)
    verified_wallet(anna_client, 100_000)
    verified_wallet(anna_client, 10_000, group=fasteners.group)
    recompute()
    response = as_user(km_anna).get(card_url(anna_client))
    shares = {row.name: row for row in response.context["group_shares"]}
    assert shares["Fasteners"].revenue_12m == Decimal(2500)
    assert shares["Fasteners"].percent == Decimal("25.0")  # 2 500 / 10 000
    assert shares["Fasteners"].band == "main"
    assert shares["Paint"].percent is None  # no wallet for the group
    body = response.content.decode()
    assert "25.0 %" in body.split('id="group-shares"', 1)[1]
    api = as_user(km_anna).get(overview_api(anna_client)).json()["group_shares"]
    by_name = {row["name"]: row for row in api}
    assert Decimal(by_name["Fasteners"]["share_of_wallet"]) == Decimal("0.25")
    assert by_name["Paint"]["share_of_wallet"] is None


def test_white_space_is_what_most_peers_of_segment_and_industry_buy(
    company, as_user, km_anna, anna_client
):
    g1, g2, g3, g4, g5 = (product(name) for name in ("G1", "G2", "G3", "G4", "G5"))
    recent = today() - dt.timedelta(days=20)
    me = anna_client
    me.industry = "Retail"
    me.save()
    # Peers: unrated (no wallet), Retail. The client itself buys G1 only.
    peers = [ClientFactory(owner=km_anna, industry="Retail") for _ in range(4)]
    line(me, recent, 100, g1)
    for peer in peers:
        line(peer, recent, 100, g1)
    for peer in peers[:3]:
        line(peer, recent, 100, g2)  # 3 of 4 = 75 %: white space
    for peer in peers[:2]:
        line(peer, recent, 100, g3)  # 2 of 4 = 50 %: not more than half
    for peer in peers[:3]:
        line(peer, recent, -100, g5)  # returns only: not a purchase
    line(peers[3], today() - dt.timedelta(days=400), 100, g3)  # outside the 12 months
    # Not peers: same segment, other industry; same industry, other segment (rated).
    other_industry = ClientFactory(owner=km_anna, industry="Food")
    other_segment = ClientFactory(owner=km_anna, industry="Retail")
    verified_wallet(other_segment, 1000)
    for stranger in (other_industry, other_segment):
        line(stranger, recent, 100, g4)
        line(stranger, recent, 100, g3)
    recompute()

    response = as_user(km_anna).get(card_url(me))
    space = response.context["white_space"]
    assert space.available and space.peers == 4
    assert [(g.name, g.buyers) for g in space.groups] == [("G2", 3)]
    body = response.content.decode()
    assert "bought by 3 of 4 peers (75 %)" in body
    assert f"more than {int(WHITE_SPACE_MIN_SHARE * 100)} %" in body  # the rule is explained
    api = as_user(km_anna).get(overview_api(me)).json()["white_space"]
    assert api["peers"] == 4
    assert [(g["name"], g["buyers"]) for g in api["groups"]] == [("G2", 3)]
    # Once the client buys G2 itself, it is no longer white space.
    line(me, recent, 100, g2)
    recompute()
    assert as_user(km_anna).get(card_url(me)).context["white_space"].groups == []


def test_white_space_needs_an_industry_and_enough_peers(company, as_user, km_anna, anna_client):
    ClientFactory(owner=km_anna, industry="Retail")
    recompute()
    space = as_user(km_anna).get(card_url(anna_client)).context["white_space"]
    assert not space.available and "industry" in space.reason
    anna_client.industry = "Retail"
    anna_client.save()
    space = as_user(km_anna).get(card_url(anna_client)).context["white_space"]
    assert not space.available and space.peers == 1


# --- Contacts ---------------------------------------------------------------------


def test_org_chart_nests_by_reporting_lines(company, as_user, km_anna, anna_client):
    ceo = ContactFactory(client=anna_client, full_name="Anton CEO", decision_role="decision_maker")
    cfo = ContactFactory(
        client=anna_client, full_name="Bella CFO", reports_to=ceo, influence=3, attitude="supporter"
    )
    ContactFactory(client=anna_client, full_name="Clara Clerk", reports_to=cfo)
    gone = ContactFactory(client=anna_client, full_name="Dmitry Gone", is_active=False)
    ContactFactory(client=anna_client, full_name="Eva Orphan", reports_to=gone)

    response = as_user(km_anna).get(card_url(anna_client, "contacts"))
    roots = response.context["org_chart"]
    assert [n.contact.full_name for n in roots] == ["Anton CEO", "Eva Orphan"]
    assert [n.contact.full_name for n in roots[0].reports] == ["Bella CFO"]
    assert [n.contact.full_name for n in roots[0].reports[0].reports] == ["Clara Clerk"]
    assert [c.full_name for c in response.context["former_contacts"]] == ["Dmitry Gone"]
    body = response.content.decode()
    chart = body.split('class="org-chart"', 1)[1]
    # Clara's list item sits inside Bella's, which sits inside Anton's.
    anton, bella, clara = (chart.index(n) for n in ("Anton CEO", "Bella CFO", "Clara Clerk"))
    assert anton < bella < clara
    assert chart[anton:clara].count("<ul>") == 2
    assert "Decision maker" in body and "influence: High" in body and "Supporter" in body
    assert reverse("crm:contact_edit", args=[anna_client.pk, cfo.pk]) in body


def test_editing_a_contact_refuses_a_circle_and_keeps_history(
    company, as_user, km_anna, anna_client
):
    boss = ContactFactory(client=anna_client, full_name="Boss")
    deputy = ContactFactory(client=anna_client, full_name="Deputy", reports_to=boss)
    http = as_user(km_anna)
    url = reverse("crm:contact_edit", args=[anna_client.pk, boss.pk])
    form = {"full_name": "Boss", "attitude": "unknown", "is_active": "on", "version": boss.version}
    refused = http.post(url, {**form, "reports_to": deputy.pk})
    assert refused.status_code == 200
    assert "This would make the reporting lines a circle." in refused.content.decode()
    assert Contact.objects.get(pk=boss.pk).reports_to is None

    saved = http.post(url, {**form, "full_name": "Big Boss", "position": "CEO"})
    assert saved.status_code == 302
    assert saved["Location"] == card_url(anna_client, "contacts")
    boss.refresh_from_db()
    assert (boss.full_name, boss.position) == ("Big Boss", "CEO")
    assert boss.history.latest().history_user == km_anna


def test_a_stale_contact_edit_gets_a_conflict_naming_what_changed(
    company, as_user, km_anna, head_gleb, anna_client
):
    boss = ContactFactory(client=anna_client, full_name="Boss", phone="+7 900 000-00-01")
    loaded = boss.version
    changed = Contact.objects.get(pk=boss.pk)
    changed.position, changed.attitude = "CEO", "supporter"
    services.contact_save(contact=changed, acting_user=head_gleb, expected_version=loaded)
    url = reverse("crm:contact_edit", args=[anna_client.pk, boss.pk])
    form = {"full_name": "Big Boss", "attitude": "unknown", "is_active": "on", "version": loaded}
    refused = as_user(km_anna).post(url, form)
    assert refused.status_code == 200
    message = " ".join(refused.context["form"].non_field_errors())
    assert message.startswith("Gleb Nowak changed this contact while you were editing it: ")
    assert "position: — → CEO" in message
    assert "attitude: Unknown → Supporter" in message
    assert "phone" not in message
    boss.refresh_from_db()
    assert (boss.full_name, boss.position) == ("Boss", "CEO")
    missing = as_user(km_anna).post(url, {**form, "version": ""})
    assert missing.context["form"].errors["version"] == [
        "The form is missing the contact's version: reload it and edit again."
    ]
    boss.refresh_from_db()
    assert boss.full_name == "Boss"


def test_contact_edit_respects_the_scope(
    company, as_user, km_anna, km_boris, anna_client, outsider_client
):
    stranger = ContactFactory(client=outsider_client)
    mine = ContactFactory(client=anna_client)
    http = as_user(km_anna)
    assert (
        http.get(reverse("crm:contact_edit", args=[outsider_client.pk, stranger.pk])).status_code
        == 404
    )
    # A contact of another client through a visible client's URL is not found either.
    assert (
        http.get(reverse("crm:contact_edit", args=[anna_client.pk, stranger.pk])).status_code == 404
    )
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="other", level="read")
    url = reverse("crm:contact_edit", args=[anna_client.pk, mine.pk])
    assert as_user(km_boris).get(url).status_code == 403


# --- Holdings ---------------------------------------------------------------------


def test_holding_rolls_up_only_the_subsidiaries_the_user_sees(
    company, as_user, km_anna, km_boris, outsider, head_gleb
):
    goods = product("Goods")
    recent = today() - dt.timedelta(days=15)
    parent = ClientFactory(name="Holding Parent", owner=km_anna)
    own_sub = ClientFactory(name="Sub Anna", owner=km_anna, parent=parent)
    granted_sub = ClientFactory(name="Sub Boris", owner=km_boris, parent=parent)
    hidden_sub = ClientFactory(name="Sub Hidden", owner=outsider, parent=parent)
    ClientGrant.objects.create(client=granted_sub, user=km_anna, reason="other", level="read")
    line(parent, recent, 30_000, goods)
    verified_wallet(parent, 100_000)
    line(own_sub, recent, 100_000, goods)
    verified_wallet(own_sub, 400_000)
    line(granted_sub, recent, 50_000, goods)  # no wallet
    line(hidden_sub, recent, 1_000_000, goods)
    verified_wallet(hidden_sub, 2_000_000)
    for company_ in (own_sub, hidden_sub):
        Activity.objects.create(
            client=company_,
            kind="call",
            performed_by=company_.owner,
            entered_by=company_.owner,
            summary=f"call to {company_.name}",
        )
    recompute()

    response = as_user(km_anna).get(card_url(parent))
    holding = response.context["holding"]
    assert [row.client.name for row in holding.subsidiaries] == ["Sub Anna", "Sub Boris"]
    subs = holding.subsidiaries_total
    assert (subs.clients, subs.revenue_12m, subs.wallet) == (2, Decimal(150_000), Decimal(400_000))
    assert subs.share == Decimal("0.25")  # 100 000 / 400 000: only companies with a wallet
    whole = holding.group_total
    assert (whole.revenue_12m, whole.wallet) == (Decimal(180_000), Decimal(500_000))
    assert whole.share == Decimal("0.26")  # (30 000 + 100 000) / 500 000
    assert [a.summary for a in holding.activities] == ["call to Sub Anna"]
    body = response.content.decode()
    assert "Sub Hidden" not in body and "call to Sub Hidden" not in body
    assert "25.0 %" in body and "26.0 %" in body

    api = as_user(km_anna).get(overview_api(parent)).json()["holding"]
    assert [row["name"] for row in api["subsidiaries"]] == ["Sub Anna", "Sub Boris"]
    assert Decimal(api["subsidiaries_total"]["share_of_wallet"]) == Decimal("0.25")
    assert Decimal(api["group_total"]["revenue_12m"]) == Decimal(180_000)

    # The head of Anna's and Boris's team sees the same two, not the outsider's.
    gleb = as_user(head_gleb).get(card_url(parent)).context["holding"]
    assert [row.client.name for row in gleb.subsidiaries] == ["Sub Anna", "Sub Boris"]
    # Until he is granted the outsider's too.
    ClientGrant.objects.create(client=hidden_sub, user=head_gleb, reason="other", level="view")
    gleb = as_user(head_gleb).get(card_url(parent)).context["holding"]
    assert [row.client.name for row in gleb.subsidiaries] == ["Sub Anna", "Sub Boris", "Sub Hidden"]
    # A subsidiary links to its parent; a client without subsidiaries has no roll-up.
    sub_page = as_user(km_anna).get(card_url(own_sub))
    assert sub_page.context["holding"] is None
    assert card_url(parent) in sub_page.content.decode()
    assert as_user(km_anna).get(overview_api(own_sub)).json()["holding"] is None


# --- History ----------------------------------------------------------------------


def test_history_tab_shows_segment_owner_and_field_changes(
    company, as_user, km_anna, head_gleb, anna_client
):
    goods = product("Goods")
    line(anna_client, today() - dt.timedelta(days=100), 5000, goods)
    recompute(today() - dt.timedelta(days=60))  # unrated
    recompute(today() - dt.timedelta(days=30))  # unrated again: no row
    verified_wallet(anna_client, 10_000)
    recompute()  # rated now
    services.client_update(
        client=anna_client,
        acting_user=km_anna,
        expected_version=anna_client.version,
        region="Казань",
    )
    services.client_reassign(client=anna_client, new_owner=head_gleb, acting_user=head_gleb)

    response = as_user(head_gleb).get(card_url(anna_client, "history"))
    changes = response.context["segment_history"]
    assert [c.segment for c in changes] == ["A", "unrated"]  # newest first
    assert changes[0].as_of == today() and changes[1].as_of == today() - dt.timedelta(days=60)
    assert response.context["ownership_changes"][0].to_user == head_gleb
    entries = response.context["field_history"]
    region = [
        change
        for entry in entries
        for change in entry.changes
        if change.label == "region" and change.new == "Казань"
    ]
    assert region and region[0].old == "Москва"
    assert any(entry.user == km_anna for entry in entries)


# --- Tabs, htmx and query counts ----------------------------------------------------


@pytest.fixture
def busy_client(company, km_anna, km_boris):
    """A client with enough of everything that an N+1 on any tab would show."""
    client = ClientFactory(name="Busy", owner=km_anna, industry="Retail")
    ClientGrant.objects.create(client=client, user=km_boris, reason="co_owner")
    groups = [product(f"Group {i}") for i in range(6)]
    for month in range(24):
        for prod in groups:
            line(client, month_start(month) + dt.timedelta(days=3), 100 + month, prod)
    contacts = []
    boss = None
    for i in range(12):
        boss = Contact.objects.create(
            client=client,
            full_name=f"Person {i:02d}",
            reports_to=boss if i % 3 else None,
            decision_role="influencer",
            influence=2,
        )
        contacts.append(boss)
    for i in range(25):
        Activity.objects.create(
            client=client,
            contact=contacts[i % 12],
            kind="call",
            occurred_at=timezone.now() - dt.timedelta(hours=i + 1),
            performed_by=km_anna,
            entered_by=km_boris,
            summary=f"touch {i}",
        )
        Task.objects.create(
            client=client,
            title=f"task {i}",
            due_on=today() + dt.timedelta(days=i - 5),
            assignee=km_anna if i % 2 else km_boris,
            created_by=km_anna,
            status="open" if i % 3 else "done",
        )
        Deal.objects.create(client=client, kind="project", title=f"deal {i}", owner=km_boris)
        WalletEstimate.objects.create(
            client=client,
            kind="wallet",
            year=today().year,
            amount=Decimal(1000 + i),
            entered_by=km_anna,
            reviewed_by=km_boris,
            product_group=groups[i % 6].group,
            status="verified",
            reviewed_at=timezone.now(),
        )
        services.dossier_note_create(
            client=client, acting_user=km_anna, text=f"note {i}", visibility="everyone"
        )
        services.survey_answer_record(
            client=client, acting_user=km_anna, kind="nps", score=9, contact=contacts[i % 12]
        )
    for i in range(5):
        sub = ClientFactory(name=f"Sub {i}", owner=km_anna if i % 2 else km_boris, parent=client)
        if i == 0:
            ClientGrant.objects.create(client=sub, user=km_anna, reason="other", level="read")
        Activity.objects.create(
            client=sub, kind="visit", performed_by=km_boris, entered_by=km_boris, summary="v"
        )
    for i in range(6):
        services.client_update(
            client=client,
            acting_user=km_anna,
            expected_version=client.version,
            region=f"Region {i}",
        )
        client.refresh_from_db()
    for i in range(6):
        peer = ClientFactory(owner=km_boris, industry="Retail")
        line(peer, today() - dt.timedelta(days=3), 10, groups[i % 6])
    recompute(today() - dt.timedelta(days=40))
    recompute()
    return client


@pytest.mark.parametrize(
    ("tab", "limit"),
    [
        ("overview", 25),
        ("contacts", 12),
        ("activities", 13),
        ("tasks", 13),
        ("deals", 12),
        ("estimates", 14),
        ("history", 15),
        ("dossier", 12),
        ("surveys", 12),
    ],
)
def test_each_tab_keeps_a_bounded_number_of_queries(
    busy_client, as_user, km_anna, django_assert_max_num_queries, tab, limit
):
    http = as_user(km_anna)
    with django_assert_max_num_queries(limit):
        response = http.get(card_url(busy_client, tab))
    assert response.status_code == 200
    assert f'aria-current="page">{dict(response.context["tabs"])[tab]}<' in (
        response.content.decode()
    )
    with django_assert_max_num_queries(limit):
        partial = http.get(
            card_url(busy_client, tab), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="card-tabs"
        )
    assert partial.status_code == 200
    assert "<html" not in partial.content.decode()
    assert 'id="card-tabs"' in partial.content.decode()


def test_tabs_show_their_records(busy_client, as_user, km_anna):
    http = as_user(km_anna)

    def tab(name: str) -> str:
        return http.get(card_url(busy_client, name)).content.decode()

    timeline = tab("activities")
    assert "touch 0" in timeline and "touch 24" in timeline
    assert "task 1" in tab("tasks") and "Done and cancelled" in tab("tasks")
    assert "deal 24" in tab("deals")
    assert "note 24" in tab("dossier")
    assert "Person 11" in tab("surveys")
    assert "1,024" in tab("estimates")
    overview = tab("overview")
    assert "Sub 0" in overview and "Sub 1" in overview and "Group 0" in overview
    assert "Sub 2" not in overview  # Boris's, without a grant
    # An unknown tab falls back to the overview.
    assert http.get(card_url(busy_client, "nonsense")).context["tab"] == "overview"


def test_tab_links_work_without_javascript_and_with_htmx(company, as_user, km_anna, anna_client):
    body = as_user(km_anna).get(card_url(anna_client)).content.decode()
    for name in TABS:
        url = card_url(anna_client, name)
        assert f'href="{url}"' in body
        assert f'hx-get="{url}"' in body
    assert 'hx-target="#card-tabs"' in body


# --- Scope --------------------------------------------------------------------------


def test_a_card_outside_the_scope_is_404_on_every_tab_and_in_the_api(
    company, as_user, km_anna, outsider_client, anna_client, client
):
    http = as_user(km_anna)
    for name in TABS:
        assert http.get(card_url(outsider_client, name)).status_code == 404
        assert (
            http.get(
                card_url(outsider_client, name), HTTP_HX_REQUEST="true", HTTP_HX_TARGET="card-tabs"
            ).status_code
            == 404
        )
    assert http.get(overview_api(outsider_client)).status_code == 404
    assert http.get(overview_api(anna_client)).status_code == 200
    assert http.get("/api/v1/clients/999999/overview/").status_code == 404
    assert client.get(overview_api(anna_client)).status_code in (401, 403)


def test_api_overview_header_matches_the_run(company, as_user, km_anna, km_boris, anna_client):
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="co_owner")
    goods = product("Goods")
    line(anna_client, today() - dt.timedelta(days=5), 30_000, goods)
    verified_wallet(anna_client, 1_000_000)
    run = recompute()
    data = as_user(km_anna).get(overview_api(anna_client)).json()
    header = data["header"]
    assert header["run_as_of"] == run.as_of.isoformat() and header["in_run"] is True
    assert header["segment"]["code"] == "B"  # high potential (the only wallet), 3 % share
    assert header["share_band"] == "secondary"
    assert Decimal(header["share_of_wallet"]) == Decimal("0.03")
    assert Decimal(header["revenue_12m"]) == Decimal(30_000)
    assert header["co_owners"] == [{"id": km_boris.pk, "name": str(km_boris)}]
    assert header["status"] == "new"


def test_api_overview_keeps_a_bounded_number_of_queries(
    busy_client, as_user, km_anna, django_assert_max_num_queries
):
    http = as_user(km_anna)
    with django_assert_max_num_queries(20):
        response = http.get(overview_api(busy_client))
    assert response.status_code == 200
    data = response.json()
    assert len(data["chart"]["series"]) == 6
    assert [row["name"] for row in data["holding"]["subsidiaries"]] == ["Sub 0", "Sub 1", "Sub 3"]
