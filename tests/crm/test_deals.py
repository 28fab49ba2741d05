"""The deals pipeline: the board, deal forms, moves with their rules, the
optimistic check, and the same access rules in pages and the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import ClientGrant, Deal
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
BOARD = reverse("crm:deal_board")


def deal(client, *, owner=None, stage="qualification", amount=1000, kind="new_business", **kw):
    """A deal saved like a person would (history, updated_at)."""
    return Deal.objects.create(
        client=client,
        owner=owner or client.owner,
        stage=stage,
        amount=Decimal(amount),
        kind=kind,
        title=kw.pop("title", f"Deal of {client.name}"),
        lost_reason=kw.pop("lost_reason", "price" if stage == "lost" else ""),
        **kw,
    )


def move_url(d):
    return reverse("crm:deal_move", args=[d.pk])


def post_json(http, url, data, method="post"):
    return getattr(http, method)(url, data, content_type="application/json")


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# ---------------------------------------------------------------- the board


def test_the_board_has_a_column_per_stage_with_cards_and_totals(
    company, as_user, km_anna, anna_client, boris_client, outsider_client
):
    deal(anna_client, amount=1_500_000, title="Autumn supply", expected_close_on=TODAY)
    deal(anna_client, amount=250_000, title="Pilot", stage="proposal", kind="project")
    deal(anna_client, amount=100, title="Old loss", stage="lost", closed_on=TODAY)
    deal(boris_client, amount=7, title="Boris's deal")
    deal(outsider_client, amount=9, title="Someone else's deal")
    response = as_user(km_anna).get(BOARD)
    assert response.status_code == 200
    columns = {c.stage: c for c in response.context["columns"]}
    assert list(columns) == [
        "qualification",
        "needs",
        "proposal",
        "negotiation",
        "contract",
        "won",
        "lost",
    ]
    assert [d.title for d in columns["qualification"].cards] == ["Autumn supply"]
    assert (columns["qualification"].count, columns["qualification"].total) == (1, 1_500_000)
    assert [d.title for d in columns["proposal"].cards] == ["Pilot"]
    assert [d.title for d in columns["lost"].cards] == ["Old loss"]
    body = response.content.decode()
    assert "1,500,000\u00a0₽" in body  # money for the locale
    assert "Boris&#x27;s deal" not in body and "Someone else" not in body
    assert 'src="/static/js/deals.js"' in body and "css/deals.css" in body

    projects = as_user(km_anna).get(BOARD, {"kind": "project"}).context["columns"]
    assert [d.title for c in projects for d in c.cards] == ["Pilot"]


def test_a_head_filters_the_board_by_owner(
    company, as_user, head_gleb, km_anna, km_boris, anna_client, boris_client
):
    deal(anna_client, title="Anna's")
    deal(boris_client, title="Boris's")
    http = as_user(head_gleb)
    everyone = http.get(BOARD).context["columns"]
    assert sorted(d.title for c in everyone for d in c.cards) == ["Anna's", "Boris's"]
    only_boris = http.get(BOARD, {"owner": km_boris.pk}).context["columns"]
    assert [d.title for c in only_boris for d in c.cards] == ["Boris's"]
    # A manager has no owner filter.
    assert "owner" not in as_user(km_anna).get(BOARD).context["filters"].fields


def test_the_board_keeps_a_bounded_number_of_queries(
    company, as_user, head_gleb, km_anna, km_boris, django_assert_max_num_queries
):
    stages = ["qualification", "needs", "proposal", "negotiation", "contract", "won", "lost"]
    for i in range(42):
        owner = km_anna if i % 2 else km_boris
        deal(
            ClientFactory(owner=owner),
            stage=stages[i % 7],
            closed_on=TODAY if stages[i % 7] in ("won", "lost") else None,
            amount=i * 100,
        )
    http = as_user(head_gleb)
    with django_assert_max_num_queries(16):
        response = http.get(BOARD)
    assert sum(c.count for c in response.context["columns"]) == 42


# ---------------------------------------------------------------- moves


def test_moving_a_card_keeps_history(company, as_user, km_anna, anna_client):
    d = deal(anna_client)
    seen = d.updated_at
    response = as_user(km_anna).post(
        move_url(d), {"stage": "proposal", "updated_at": seen.isoformat(), "next": BOARD}
    )
    assert response.status_code == 302 and response["Location"] == BOARD
    d.refresh_from_db()
    assert d.stage == "proposal" and d.updated_at > seen and d.closed_on is None
    record = d.history.order_by("-history_id").first()
    assert record.history_user == km_anna
    assert record.history_change_reason == "Moved from Qualification to Proposal"


def test_lost_needs_a_reason_won_takes_one_and_reopening_clears_the_close(
    company, as_user, km_anna, anna_client
):
    d = deal(anna_client, stage="negotiation")
    http = as_user(km_anna)
    refused = http.post(move_url(d), {"stage": "lost", "reason": "  "}, follow=True)
    assert any("Say why the deal was lost." in m for m in messages_of(refused))
    d.refresh_from_db()
    assert d.stage == "negotiation" and d.closed_on is None

    http.post(move_url(d), {"stage": "lost", "reason": "Competitor's price"})
    d.refresh_from_db()
    assert (d.stage, d.lost_reason, d.closed_on) == ("lost", "Competitor's price", TODAY)

    http.post(move_url(d), {"stage": "contract"})
    d.refresh_from_db()
    assert (d.stage, d.closed_on, d.lost_reason) == ("contract", None, "")

    http.post(move_url(d), {"stage": "won"})  # the reason is optional
    d.refresh_from_db()
    assert (d.stage, d.closed_on, d.won_reason) == ("won", TODAY, "")
    http.post(move_url(d), {"stage": "won", "reason": "Fast delivery"})
    d.refresh_from_db()
    assert d.won_reason == "Fast delivery"
    assert d.history.count() == 5  # created + four changes (the refusal wrote nothing)


def test_a_move_on_a_stale_copy_names_what_changed_and_saves_nothing(
    company, as_user, km_anna, head_gleb, anna_client
):
    d = deal(anna_client, amount=1000)
    seen = d.updated_at.isoformat()
    # The head changes the amount meanwhile.
    as_user(head_gleb).post(
        reverse("crm:deal_edit", args=[d.pk]),
        {
            "kind": "new_business",
            "title": d.title,
            "amount": "2000",
            "owner": km_anna.pk,
            "updated_at_seen": seen,
        },
    )
    d.refresh_from_db()
    assert d.amount == 2000
    response = as_user(km_anna).post(
        move_url(d), {"stage": "proposal", "updated_at": seen}, follow=True
    )
    (message,) = messages_of(response)
    assert "Gleb Nowak changed this deal" in message and "amount" in message
    d.refresh_from_db()
    assert d.stage == "qualification"


def test_outsiders_get_404_and_read_only_users_403(
    company, as_user, outsider, kam_oleg, anna_client
):
    d = deal(anna_client)
    for url in (reverse("crm:deal_edit", args=[d.pk]), move_url(d)):
        method = "post" if url.endswith("move/") else "get"
        assert getattr(as_user(outsider), method)(url, {"stage": "won"}).status_code == 404
    ClientGrant.objects.create(client=anna_client, user=kam_oleg, reason="support", level="read")
    assert as_user(kam_oleg).get(BOARD).context["columns"][0].cards == [d]
    assert as_user(kam_oleg).post(move_url(d), {"stage": "won"}).status_code == 403
    d.refresh_from_db()
    assert d.stage == "qualification"


# ---------------------------------------------------------------- create and edit


def test_creating_a_deal_from_a_card_link(company, as_user, km_anna, anna_client):
    http = as_user(km_anna)
    url = reverse("crm:deal_create") + f"?client={anna_client.pk}"
    page = http.get(url)
    assert page.status_code == 200
    assert page.context["form"]["client"].value() == anna_client.pk
    data = {
        "client": anna_client.pk,
        "kind": "project",
        "title": "Warehouse automation",
        "stage": "needs",
        "amount": "3500000",
        "expected_close_on": (TODAY + dt.timedelta(days=30)).isoformat(),
    }
    response = http.post(url, data)
    assert response.status_code == 302
    assert response["Location"] == reverse("crm:client_detail", args=[anna_client.pk])
    created = Deal.objects.get()
    assert (created.owner, created.stage, created.amount) == (km_anna, "needs", 3_500_000)
    assert created.history.get().history_user == km_anna


def test_deal_form_errors_are_translated_and_name_the_field(
    company, as_user, km_anna, anna_client, outsider_client
):
    http = as_user(km_anna)
    response = http.post(
        reverse("crm:deal_create"),
        {
            "client": outsider_client.pk,
            "kind": "new_business",
            "title": "x",
            "stage": "won",
            "amount": "-5",
            "expected_close_on": (TODAY - dt.timedelta(days=1)).isoformat(),
        },
    )
    errors = response.context["form"].errors
    assert errors["client"] == ["Choose one of your clients."]
    assert errors["amount"] == ["The amount cannot be negative."]
    assert errors["expected_close_on"] == ["The expected close date cannot be in the past."]
    assert "stage" in errors  # a new deal starts open
    assert not Deal.objects.exists()
    # Links to a client outside the scope answer 404.
    assert http.get(reverse("crm:deal_create") + f"?client={outsider_client.pk}").status_code == 404
    assert http.get(reverse("crm:deal_create") + "?client=abc").status_code == 404


def test_editing_a_deal_and_giving_it_to_someone(
    company, as_user, km_anna, km_boris, head_gleb, outsider, anna_client
):
    ClientGrant.objects.create(client=anna_client, user=km_boris, reason="co_owner", level="read")
    d = deal(anna_client, expected_close_on=TODAY - dt.timedelta(days=3))
    edit = reverse("crm:deal_edit", args=[d.pk])
    form = as_user(km_anna).get(edit).context["form"]
    assert "owner" not in form.fields  # managers do not hand deals over
    base = {"kind": "new_business", "title": "Renamed", "amount": "10"}
    # An unchanged past close date is kept; a new one may not be in the past.
    response = as_user(km_anna).post(
        edit,
        {
            **base,
            "expected_close_on": d.expected_close_on.isoformat(),
            "updated_at_seen": d.updated_at.isoformat(),
        },
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.title == "Renamed"
    seen_by_anna = d.updated_at.isoformat()
    gleb = as_user(head_gleb)
    refused = gleb.post(
        edit, {**base, "owner": outsider.pk, "updated_at_seen": d.updated_at.isoformat()}
    )
    assert refused.context["form"].errors["owner"] == ["You cannot give a deal to this user."]
    gleb.post(edit, {**base, "owner": km_boris.pk, "updated_at_seen": d.updated_at.isoformat()})
    d.refresh_from_db()
    assert d.owner == km_boris
    # A stale form is refused with what changed and by whom; a mangled one too.
    stale = as_user(km_anna).post(edit, {**base, "amount": "99", "updated_at_seen": seen_by_anna})
    assert "Gleb Nowak changed this deal" in str(stale.context["form"].errors)
    assert "owner" in str(stale.context["form"].errors)
    mangled = as_user(km_anna).post(edit, {**base, "amount": "99", "updated_at_seen": "soon"})
    assert "Reload the page" in str(mangled.context["form"].errors)
    d.refresh_from_db()
    assert d.amount == 10


# ---------------------------------------------------------------- API


def test_api_lists_with_filters_and_hides_other_scopes(
    company, as_user, km_anna, km_boris, head_gleb, anna_client, boris_client, outsider_client
):
    a = deal(anna_client, kind="project", stage="proposal")
    b = deal(boris_client)
    o = deal(outsider_client)
    http = as_user(head_gleb)
    ids = [row["id"] for row in http.get("/api/v1/deals/").json()["results"]]
    assert sorted(ids) == sorted([a.pk, b.pk])
    for params, expected in (
        ({"stage": "proposal"}, [a.pk]),
        ({"kind": "new_business"}, [b.pk]),
        ({"owner_id": km_boris.pk}, [b.pk]),
        ({"client_id": anna_client.pk}, [a.pk]),
    ):
        got = [row["id"] for row in http.get("/api/v1/deals/", params).json()["results"]]
        assert got == expected, params
    assert as_user(km_anna).get(f"/api/v1/deals/{o.pk}/").status_code == 404
    assert (
        post_json(as_user(km_anna), f"/api/v1/deals/{o.pk}/move/", {"stage": "won"}).status_code
        == 404
    )
    body = as_user(km_anna).get(f"/api/v1/deals/{a.pk}/").json()
    assert body["client_name"] == anna_client.name and body["owner"]["id"] == km_anna.pk


def test_api_create_update_and_move(
    company, as_user, km_anna, km_boris, head_gleb, anna_client, outsider_client
):
    http = as_user(km_anna)
    hidden = post_json(
        http, "/api/v1/deals/", {"client": outsider_client.pk, "kind": "new_business", "title": "x"}
    )
    assert hidden.status_code == 400 and "client" in hidden.json()
    handed = post_json(
        http,
        "/api/v1/deals/",
        {"client": anna_client.pk, "kind": "new_business", "title": "x", "owner_id": km_boris.pk},
    )
    assert handed.status_code == 400 and "owner_id" in handed.json()
    bad = post_json(
        http,
        "/api/v1/deals/",
        {
            "client": anna_client.pk,
            "kind": "new_business",
            "title": "x",
            "amount": "-1",
            "expected_close_on": (TODAY - dt.timedelta(days=2)).isoformat(),
        },
    )
    assert bad.status_code == 400
    assert set(bad.json()) == {"amount", "expected_close_on"}
    created = post_json(
        http,
        "/api/v1/deals/",
        {"client": anna_client.pk, "kind": "project", "title": "Line 2", "amount": "500"},
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["stage"] == "qualification" and body["owner"]["id"] == km_anna.pk
    url = f"/api/v1/deals/{body['id']}/"

    changed = post_json(
        http, url, {"amount": "700", "updated_at": body["updated_at"]}, method="patch"
    )
    assert changed.status_code == 200, changed.json()
    stale = post_json(http, url, {"title": "Other", "updated_at": body["updated_at"]}, "patch")
    assert stale.status_code == 409
    assert stale.json()["changed_fields"] == ["amount"]
    assert post_json(http, url, {"stage": "won"}, "patch").status_code == 400
    # A head gives it to Boris (who must see the client first).
    refused = post_json(as_user(head_gleb), url, {"owner_id": km_boris.pk}, "patch")
    assert refused.status_code == 400 and "owner" in refused.json()

    lost = post_json(http, url + "move/", {"stage": "lost"})
    assert lost.status_code == 400 and "lost_reason" in lost.json()
    moved = post_json(
        http,
        url + "move/",
        {"stage": "lost", "lost_reason": "Budget cut", "updated_at": changed.json()["updated_at"]},
    )
    assert moved.status_code == 200, moved.json()
    assert (moved.json()["stage"], moved.json()["closed_on"]) == ("lost", TODAY.isoformat())
    again = post_json(
        http, url + "move/", {"stage": "needs", "updated_at": changed.json()["updated_at"]}
    )
    assert again.status_code == 409 and "stage" in again.json()["changed_fields"]


def test_api_list_keeps_a_bounded_number_of_queries(
    company, as_user, head_gleb, km_anna, km_boris, django_assert_max_num_queries
):
    for i in range(30):
        deal(ClientFactory(owner=km_anna if i % 2 else km_boris))
    http = as_user(head_gleb)
    with django_assert_max_num_queries(8):
        response = http.get("/api/v1/deals/")
    assert response.json()["count"] == 30
