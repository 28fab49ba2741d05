"""Estimates: drafts by managers, verification by heads, share of wallet on the card."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from crm import services
from crm.models import WalletEstimate
from crm.wallet import client_share_of_wallet, share_band
from tests.factories import ProductFactory, ProductGroupFactory, ShipmentLineFactory

pytestmark = pytest.mark.django_db

D = dt.date(2026, 10, 31)


def verified(client, amount, year=2026, group=None, by=None, **extra):
    return WalletEstimate.objects.create(
        client=client,
        kind="wallet",
        year=year,
        amount=Decimal(amount),
        product_group=group,
        status="verified",
        reviewed_by=by,
        reviewed_at=extra.pop("reviewed_at", None),
        **extra,
    )


@pytest.mark.parametrize(
    ("share", "band"),
    [
        (None, ""),
        (Decimal("0"), "indifference"),
        (Decimal("0.0099"), "indifference"),
        (Decimal("0.01"), "secondary"),
        (Decimal("0.0999"), "secondary"),
        (Decimal("0.10"), "main"),
        (Decimal("0.4999"), "main"),
        (Decimal("0.50"), "dominant"),
        (Decimal("1.7"), "dominant"),
    ],
)
def test_share_bands_at_their_boundaries(share, band):
    assert share_band(share) == band


def test_revenue_window_is_the_trailing_364_days_inclusive(company, anna_client):
    product = ProductFactory()
    for day, amount in [
        (D, "100"),
        (D - dt.timedelta(days=364), "10"),  # inside, both ends
        (D - dt.timedelta(days=365), "1000"),  # one day too old
        (D + dt.timedelta(days=1), "5000"),  # after D: never read
        (D - dt.timedelta(days=30), "-20"),  # a return counts
    ]:
        ShipmentLineFactory(
            client=anna_client, product=product, doc_date=day, amount=Decimal(amount)
        )
    verified(anna_client, "900")
    overall, _rows = client_share_of_wallet(client=anna_client, as_of=D)
    assert overall.revenue_12m == Decimal("90")
    assert overall.share == Decimal("0.1")
    assert overall.band == "main"


def test_wallet_is_the_latest_verified_not_after_the_year(company, anna_client, head_gleb):
    from django.utils import timezone

    now = timezone.now()
    verified(anna_client, "1000", year=2025, by=head_gleb, reviewed_at=now)
    verified(anna_client, "2000", year=2026, by=head_gleb, reviewed_at=now - dt.timedelta(days=2))
    verified(anna_client, "3000", year=2026, by=head_gleb, reviewed_at=now - dt.timedelta(days=1))
    verified(anna_client, "9999", year=2027, by=head_gleb, reviewed_at=now)  # a later year
    WalletEstimate.objects.create(
        client=anna_client, kind="wallet", year=2026, amount=Decimal("50000"), status="draft"
    )
    WalletEstimate.objects.create(
        client=anna_client, kind="wallet", year=2026, amount=Decimal("70000"), status="rejected"
    )
    WalletEstimate.objects.create(
        client=anna_client, kind="turnover", year=2026, amount=Decimal("80000"), status="verified"
    )
    overall, _rows = client_share_of_wallet(client=anna_client, as_of=D)
    assert overall.wallet is not None and overall.wallet.amount == Decimal("3000")
    assert overall.pending is not None and overall.pending.amount == Decimal("50000")


def test_per_group_share_uses_group_revenue_and_group_wallet(company, anna_client):
    tools, paint = ProductGroupFactory(name="Tools"), ProductGroupFactory(name="Paint")
    ShipmentLineFactory(
        client=anna_client, product=ProductFactory(group=tools), doc_date=D, amount=Decimal("30")
    )
    ShipmentLineFactory(
        client=anna_client, product=ProductFactory(group=paint), doc_date=D, amount=Decimal("70")
    )
    verified(anna_client, "1000")
    verified(anna_client, "60", group=tools)
    overall, rows = client_share_of_wallet(client=anna_client, as_of=D)
    assert overall.share == Decimal("0.1")
    by_name = {row.product_group.name: row for row in rows}
    assert by_name["Tools"].share == Decimal("0.5")
    assert by_name["Tools"].band == "dominant"
    assert by_name["Paint"].share is None  # no per-group wallet
    assert by_name["Paint"].revenue_12m == Decimal("70")


def test_manager_adds_a_draft_and_a_monthly_turnover_is_stored_per_year(
    company, as_user, km_anna, anna_client
):
    http = as_user(km_anna)
    url = reverse("crm:estimate_create", args=[anna_client.pk])
    response = http.post(
        url,
        {
            "kind": "turnover",
            "year": 2026,
            "amount": "5000000",
            "per_month": "on",
            "basis": "client",
        },
    )
    assert response.status_code == 302
    turnover = WalletEstimate.objects.get(kind="turnover")
    assert (turnover.amount, turnover.status, turnover.entered_by) == (
        Decimal("60000000"),
        "draft",
        km_anna,
    )
    assert turnover.history.get().history_user == km_anna
    response = http.post(url, {"kind": "wallet", "year": 2026, "amount": "90000000"}, follow=True)
    assert "The wallet is above the client&#x27;s own turnover for 2026" in (
        response.content.decode()
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "wallet", "year": 2026, "amount": "-5"}, "amount"),
        ({"kind": "wallet", "year": 2026, "amount": "lots"}, "amount"),
        ({"kind": "wallet", "year": 1999, "amount": "5"}, "year"),
        ({"kind": "guess", "year": 2026, "amount": "5"}, "kind"),
    ],
)
def test_bad_estimates_are_refused_on_the_field(
    company, as_user, km_anna, anna_client, data, field
):
    response = as_user(km_anna).post(reverse("crm:estimate_create", args=[anna_client.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not WalletEstimate.objects.exists()


def test_only_someone_who_may_edit_adds_estimates(company, as_user, km_anna, boris_client):
    url = reverse("crm:estimate_create", args=[boris_client.pk])
    assert as_user(km_anna).get(url).status_code == 404
    with pytest.raises(PermissionDenied):
        services.wallet_estimate_create(
            client=boris_client, acting_user=km_anna, kind="wallet", year=2026, amount=Decimal(1)
        )


def test_head_verifies_with_history_and_rules(
    company, km_anna, km_boris, head_gleb, admin_olga, anna_client
):
    draft = services.wallet_estimate_create(
        client=anna_client, acting_user=km_anna, kind="wallet", year=2026, amount=Decimal(1000)
    )
    with pytest.raises(PermissionDenied):
        services.wallet_estimate_verify(estimate=draft, acting_user=km_boris)
    own = services.wallet_estimate_create(
        client=anna_client, acting_user=head_gleb, kind="wallet", year=2026, amount=Decimal(5)
    )
    with pytest.raises(PermissionDenied):
        services.wallet_estimate_verify(estimate=own, acting_user=head_gleb)
    services.wallet_estimate_verify(estimate=draft, acting_user=head_gleb, comment="Checked")
    draft.refresh_from_db()
    assert (draft.status, draft.reviewed_by, draft.review_comment) == (
        "verified",
        head_gleb,
        "Checked",
    )
    newest, older = draft.history.order_by("-history_id")[:2]
    assert (older.status, newest.status, newest.history_user) == ("draft", "verified", head_gleb)
    with pytest.raises(ValidationError, match="already verified"):
        services.wallet_estimate_reject(estimate=draft, acting_user=admin_olga, comment="No")
    with pytest.raises(ValidationError):
        services.wallet_estimate_reject(estimate=own, acting_user=admin_olga, comment="  ")
    own.refresh_from_db()
    assert own.status == "draft"


def test_verification_list_and_buttons(
    company,
    as_user,
    km_anna,
    head_gleb,
    outsider,
    anna_client,
    outsider_client,
    django_assert_max_num_queries,
):
    services.wallet_estimate_create(
        client=anna_client, acting_user=km_anna, kind="turnover", year=2026, amount=Decimal(100)
    )
    wallet = services.wallet_estimate_create(
        client=anna_client, acting_user=km_anna, kind="wallet", year=2026, amount=Decimal(500)
    )
    services.wallet_estimate_create(
        client=outsider_client, acting_user=outsider, kind="wallet", year=2026, amount=Decimal(7)
    )
    http = as_user(head_gleb)
    with django_assert_max_num_queries(12):
        page = http.get(reverse("crm:estimates_to_verify"))
    rows = page.context["rows"]
    assert [e.client for e, _warning in rows] == [anna_client, anna_client]
    assert [len(w) for _e, w in rows] == [0, 1]
    assert as_user(km_anna).get(reverse("crm:estimates_to_verify")).status_code == 403
    response = http.post(
        reverse("crm:estimate_reject", args=[wallet.pk]), {"comment": ""}, follow=True
    )
    assert "Say why the estimate is rejected" in response.content.decode()
    http.post(reverse("crm:estimate_reject", args=[wallet.pk]), {"comment": "Too high"})
    wallet.refresh_from_db()
    assert (wallet.status, wallet.review_comment) == ("rejected", "Too high")
    foreign = WalletEstimate.objects.get(client=outsider_client)
    assert http.post(reverse("crm:estimate_verify", args=[foreign.pk])).status_code == 404


def test_card_shows_share_of_wallet_and_unverified_drafts(
    company, as_user, km_anna, head_gleb, anna_client
):
    ShipmentLineFactory(client=anna_client, doc_date=dt.date.today(), amount=Decimal("250000"))
    draft = services.wallet_estimate_create(
        client=anna_client,
        acting_user=km_anna,
        kind="wallet",
        year=dt.date.today().year,
        amount=Decimal("1000000"),
    )
    card = as_user(km_anna).get(reverse("crm:client_detail", args=[anna_client.pk]))
    assert "No verified wallet yet" in card.content.decode()
    assert "Unverified estimate" in card.content.decode()
    services.wallet_estimate_verify(estimate=draft, acting_user=head_gleb)
    body = as_user(km_anna).get(reverse("crm:client_detail", args=[anna_client.pk])).content
    text = body.decode()
    assert "25.0 %" in text
    assert "Main supplier" in text


def test_estimates_api(
    company, as_user, km_anna, head_gleb, outsider, anna_client, outsider_client
):
    http = as_user(km_anna)
    created = http.post(
        "/api/v1/estimates/",
        {
            "client": anna_client.pk,
            "kind": "wallet",
            "year": 2026,
            "amount": "100",
            "per_month": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["amount"], body["entered_by"]["id"]) == (
        "draft",
        "1200.00",
        km_anna.pk,
    )
    refused = http.post(
        "/api/v1/estimates/",
        {"client": outsider_client.pk, "kind": "wallet", "year": 2026, "amount": "1"},
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "client" in refused.json()
    bad = http.post(
        "/api/v1/estimates/",
        {"client": anna_client.pk, "kind": "wallet", "year": 2026, "amount": "-1"},
        content_type="application/json",
    )
    assert bad.status_code == 400
    assert "amount" in bad.json()
    assert WalletEstimate.objects.count() == 1
    url = f"/api/v1/estimates/{body['id']}/verify/"
    assert http.post(url, {}, content_type="application/json").status_code == 403
    assert as_user(outsider).post(url, {}, content_type="application/json").status_code == 404
    reject = as_user(head_gleb).post(
        f"/api/v1/estimates/{body['id']}/reject/", {}, content_type="application/json"
    )
    assert reject.status_code == 400
    assert "comment" in reject.json()
    done = as_user(head_gleb).post(url, {"comment": "ok"}, content_type="application/json")
    assert done.status_code == 200
    assert done.json()["status"] == "verified"
    listing = as_user(head_gleb).get("/api/v1/estimates/?status=verified").json()
    assert [row["id"] for row in listing["results"]] == [body["id"]]
    assert http.delete(f"/api/v1/estimates/{body['id']}/").status_code == 405


def _peer(owner, *, industry, region, outlets, wallet, status="verified"):
    from tests.factories import ClientFactory

    client = ClientFactory(owner=owner, industry=industry, region=region, outlets=outlets)
    WalletEstimate.objects.create(
        client=client, kind="wallet", year=2026, amount=Decimal(wallet), status=status
    )
    return client


def test_suggested_wallet_is_the_median_per_outlet_of_verified_peers(
    company, km_anna, km_boris, head_gleb
):
    from crm.wallet import suggested_wallet
    from tests.factories import ClientFactory

    target = ClientFactory(owner=km_anna, industry="Retail", region="Тверь", outlets=4)
    # Per outlet: 100, 200, 300, 400, 500 in Тверь -> median 300.
    for outlets, wallet in [(1, 100), (2, 400), (3, 900), (1, 400), (2, 1000)]:
        _peer(km_boris, industry="Retail", region="Тверь", outlets=outlets, wallet=wallet)
    _peer(km_boris, industry="Retail", region="Тверь", outlets=1, wallet=99999, status="draft")
    _peer(km_boris, industry="Food", region="Тверь", outlets=1, wallet=99999)
    suggestion = suggested_wallet(client=target, as_of=D)
    assert suggestion is not None
    assert (suggestion.per_outlet, suggestion.amount, suggestion.peers, suggestion.region) == (
        Decimal("300.00"),
        Decimal("1200.00"),
        5,
        "Тверь",
    )
    # A manager's draft below half of the suggestion is flagged for the head.
    low = services.wallet_estimate_create(
        client=target, acting_user=km_anna, kind="wallet", year=2026, amount=Decimal("500")
    )
    from crm.selectors import estimate_review_warnings

    assert any(
        "Less than half of the suggested wallet" in w
        for w in estimate_review_warnings(estimate=low)
    )
    fair = services.wallet_estimate_create(
        client=target, acting_user=km_anna, kind="wallet", year=2026, amount=Decimal("700")
    )
    assert estimate_review_warnings(estimate=fair) == []


def test_suggestion_widens_to_all_regions_and_needs_five_peers(company, km_anna, km_boris):
    from crm.wallet import suggested_wallet
    from tests.factories import ClientFactory

    target = ClientFactory(owner=km_anna, industry="Retail", region="Омск", outlets=2)
    _peer(km_boris, industry="Retail", region="Омск", outlets=1, wallet=10)
    for wallet in (20, 30, 40):
        _peer(km_boris, industry="Retail", region="Тула", outlets=1, wallet=wallet)
    assert suggested_wallet(client=target, as_of=D) is None  # four peers in all
    _peer(km_boris, industry="Retail", region="Тула", outlets=1, wallet=50)
    suggestion = suggested_wallet(client=target, as_of=D)
    assert suggestion is not None
    assert (suggestion.region, suggestion.peers, suggestion.amount) == ("", 5, Decimal("60.00"))
    target.outlets = None
    assert suggested_wallet(client=target, as_of=D) is None
