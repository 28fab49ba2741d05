"""Screenshots of the client list and the client card, in English and in Russian,
on demo-like data: a finished metric run, two years of shipments in several
product groups, verified wallets, and contacts forming an org chart."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from crm.models import Activity, ClientGrant, Contact, ShipmentLine, WalletEstimate
from segmentation.services import metrics_recompute
from tests.factories import PASSWORD, ClientFactory, ProductFactory, ProductGroupFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _demo_base(km_anna, km_boris):
    """A client with a chart worth looking at, its peers, a subsidiary, and a run."""
    today = timezone.localdate()
    groups = {
        name: ProductFactory(group=ProductGroupFactory(name=name))
        for name in ("Крепёж", "Инструмент", "Лакокраска", "Электрика")
    }
    main = ClientFactory(
        name="ООО «Стройдвор»",
        owner=km_anna,
        industry="Стройматериалы",
        region="Москва",
        outlets=6,
        sales_type="mixed",
    )
    ClientGrant.objects.create(client=main, user=km_boris, reason="co_owner", level="edit")
    peers = [
        ClientFactory(name=f"ООО «Партнёр {i}»", owner=km_anna, industry="Стройматериалы")
        for i in range(1, 5)
    ]
    ClientFactory(name="ООО «Стройдвор-Юг»", owner=km_anna, parent=main, industry="Стройматериалы")
    lines = []
    number = 0
    for months_back in range(24):
        day = today - dt.timedelta(days=30 * months_back + 3)
        for index, (name, product) in enumerate(groups.items()):
            if name == "Электрика":
                continue  # the white space: peers buy it, this client does not
            number += 1
            amount = Decimal(40_000 + 9_000 * index + 1_500 * ((months_back * 7 + index) % 5))
            lines.append(
                ShipmentLine(
                    client=main,
                    doc_number=f"РН-{number}",
                    doc_date=day,
                    product=product,
                    qty=Decimal(1),
                    amount=amount,
                )
            )
    number += 1
    lines.append(
        ShipmentLine(
            client=main,
            doc_number=f"ВЗ-{number}",
            doc_date=today - dt.timedelta(days=40),
            product=groups["Крепёж"],
            qty=Decimal(-1),
            amount=Decimal(-12_000),
        )
    )
    for peer in peers:
        for name in ("Крепёж", "Электрика"):
            number += 1
            lines.append(
                ShipmentLine(
                    client=peer,
                    doc_number=f"РН-{number}",
                    doc_date=today - dt.timedelta(days=20),
                    product=groups[name],
                    qty=Decimal(1),
                    amount=Decimal(500_000),
                )
            )
    ShipmentLine.objects.bulk_create(lines)
    # Equal wallets and shares above 10 %: the client and its peers are all in A.
    for client, amount in ((main, 9_000_000), *((peer, 9_000_000) for peer in peers)):
        WalletEstimate.objects.create(
            client=client,
            kind="wallet",
            year=today.year,
            amount=Decimal(amount),
            status="verified",
            reviewed_at=timezone.now(),
        )
    ceo = Contact.objects.create(
        client=main,
        full_name="Игорь Власов",
        position="Генеральный директор",
        decision_role="decision_maker",
        influence=3,
        attitude="neutral",
        level="top",
    )
    buyer = Contact.objects.create(
        client=main,
        full_name="Ольга Смирнова",
        position="Руководитель закупок",
        decision_role="influencer",
        influence=2,
        attitude="supporter",
        level="middle",
        reports_to=ceo,
    )
    Contact.objects.create(
        client=main,
        full_name="Павел Кузнецов",
        position="Менеджер по закупкам",
        decision_role="buying_group",
        influence=1,
        attitude="supporter",
        level="operational",
        reports_to=buyer,
    )
    Activity.objects.create(
        client=main,
        contact=buyer,
        kind="meeting",
        purpose="development",
        performed_by=km_anna,
        entered_by=km_anna,
        summary="Обсудили осенний ассортимент",
    )
    run = metrics_recompute(as_of=today, trigger="manual")
    assert run.status == "succeeded", run.error
    return main


def test_client_list_and_card_in_english_and_russian(page, screenshot, company, km_anna, km_boris):
    main = _demo_base(km_anna, km_boris)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(km_anna.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Hello, Anna").wait_for()

    # English: the list, then the card with its chart drawn.
    page.get_by_role("link", name="Clients", exact=True).click()
    page.get_by_role("heading", name="Clients", exact=True).wait_for()
    page.get_by_role("link", name=main.name).wait_for()
    assert page.title().startswith("Clients")
    screenshot("list-en")

    page.get_by_role("link", name=main.name).click()
    page.get_by_role("heading", name=main.name, level=1).wait_for()
    page.locator("canvas[data-drawn]").wait_for()
    assert page.get_by_role("heading", name="Revenue by month").is_visible()
    assert page.get_by_role("heading", name="White space").is_visible()
    assert page.get_by_text("Электрика").first.is_visible()
    assert page.get_by_role("link", name="Overview").get_attribute("aria-current") == "page"
    screenshot("card-en")

    # The contacts tab comes in through htmx, with the org chart.
    page.get_by_role("link", name="Contacts", exact=True).click()
    page.locator(".org-chart").wait_for()
    assert "tab=contacts" in page.url
    assert page.locator(".org-chart ul ul").get_by_text("Павел Кузнецов").is_visible()
    screenshot("card-contacts-en")
    page.get_by_role("link", name="Overview").click()
    page.locator("canvas[data-drawn]").wait_for()

    # Russian, through the language switcher: the same card, then the list.
    page.get_by_label("Language").select_option("ru")
    page.wait_for_load_state()
    page.get_by_role("link", name="Клиенты", exact=True).wait_for()
    assert page.locator("html").get_attribute("lang") == "ru"
    page.locator("canvas[data-drawn]").wait_for()
    assert page.get_by_role("heading", name=main.name, level=1).is_visible()
    assert page.get_by_role("link", name="Контакты", exact=True).is_visible()
    assert page.get_by_role("heading", name="Доля в бюджете клиента").first.is_visible()
    assert page.get_by_text("Ответственный").first.is_visible()
    screenshot("card-ru")

    page.get_by_role("link", name="Клиенты", exact=True).click()
    page.get_by_role("heading", name="Клиенты", exact=True).wait_for()
    page.get_by_role("link", name=main.name).wait_for()
    assert page.title().startswith("Клиенты")
    screenshot("list-ru")
    km_anna.refresh_from_db()
    assert km_anna.language == "ru"
