"""The demo data generator: deterministic, realistic in shape, safe to re-run."""

from __future__ import annotations

import io
import math
import random
import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count, F, Sum
from stdnum.ru import inn as stdnum_inn

from accounts.choices import Role
from accounts.models import Team, User, UserRole
from crm.demo import ADMIN_EMAIL, DEMO_DOMAIN, add_months, inn_check_digit
from crm.management.commands.seed_demo import Command
from crm.models import (
    Activity,
    Client,
    Contact,
    Deal,
    OwnershipChange,
    ShipmentLine,
    Task,
    WalletEstimate,
)
from crm.validators import validate_kpp

pytestmark = pytest.mark.django_db

AS_OF = date(2026, 10, 31)


def seed(*args: str, clients: int = 40) -> str:
    out = io.StringIO()
    call_command(
        "seed_demo", "--clients", str(clients), "--as-of", AS_OF.isoformat(), *args, stdout=out
    )
    return out.getvalue()


def fingerprint() -> tuple[list[Any], list[Any]]:
    """Clients by identity, and every shipment line keyed without database ids."""
    clients = sorted(Client.objects.values_list("name", "inn", "kpp", "external_id"))
    lines = sorted(
        ShipmentLine.objects.values_list(
            "client__inn",
            "client__kpp",
            "doc_number",
            "doc_date",
            "product__sku",
            "qty",
            "amount",
            "cost",
            "manager_email",
        )
    )
    return clients, lines


def documents() -> dict[int, list[tuple[date, Decimal]]]:
    """Per client: (date, total) of each document, a document being (number, date)."""
    found: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    rows = ShipmentLine.objects.values("client_id", "doc_number", "doc_date").annotate(
        total=Sum("amount")
    )
    for row in rows:
        found[row["client_id"]].append((row["doc_date"], row["total"]))
    return found


def test_same_seed_gives_the_same_rows_and_another_seed_other_rows():
    seed("--seed", "7")
    first = fingerprint()
    per_client = sorted(
        ShipmentLine.objects.values("client__inn", "client__kpp")
        .annotate(total=Sum("amount"), lines=Count("id"))
        .values_list("client__inn", "client__kpp", "total", "lines")
    )
    assert first[1], "the demo has shipments"

    seed("--seed", "7", "--reset")
    assert fingerprint() == first
    assert (
        sorted(
            ShipmentLine.objects.values("client__inn", "client__kpp")
            .annotate(total=Sum("amount"), lines=Count("id"))
            .values_list("client__inn", "client__kpp", "total", "lines")
        )
        == per_client
    )

    seed("--seed", "8", "--reset")
    assert fingerprint()[0] != first[0]


def test_demo_has_the_shape_of_a_real_client_base():
    output = seed("--seed", "3")
    clients = list(Client.objects.all())
    assert len(clients) == 40
    assert "clientbase-demo" in output and ADMIN_EMAIL in output

    # Identity: valid, unique INN+KPP; branches share their company's INN.
    for client in clients:
        stdnum_inn.validate(client.inn)
        assert len(client.inn) == 10
        validate_kpp(client.kpp)
        assert re.fullmatch(rf"{client.inn[:4]}01\d{{3}}", client.kpp)
        assert client.external_id == "" or re.fullmatch(r"K-\d{6}", client.external_id)
    assert len({(c.inn, c.kpp) for c in clients}) == len(clients)
    by_inn = defaultdict(list)
    for client in clients:
        by_inn[client.inn].append(client)
    assert any(len(group) > 1 for group in by_inn.values()), "some branches share an INN"
    assert any(c.parent_id for c in clients), "some clients belong to a holding"
    assert len({c.sales_type for c in clients}) >= 3

    # Lifecycle, read from the documents as the metrics will.
    docs = documents()
    first_order = {pk: min(d for d, t in rows if t > 0) for pk, rows in docs.items()}
    last_order = {pk: max(d for d, t in rows if t > 0) for pk, rows in docs.items()}
    prospects = [c for c in clients if c.pk not in first_order]
    assert prospects
    assert {c.conveyor_stage for c in prospects} <= {"lead", "qualified"}
    assert {c.conveyor_stage for c in clients if c.pk in first_order} == {"account"}
    since_last = {pk: (AS_OF - day).days for pk, day in last_order.items()}
    assert any(d > 395 for d in since_last.values()), "lost: no order for 13+ months"
    assert any(110 <= d <= 310 for d in since_last.values()), "sleeping: 4-10 months"
    assert any((AS_OF - day).days <= 90 for day in first_order.values()), "new clients"
    assert sum(d <= 31 for d in since_last.values()) > len(clients) / 3, "mostly active"

    # Revenue is skewed: the top fifth of the clients makes most of it.
    revenue = sorted((sum(t for _, t in rows) for rows in docs.values()), reverse=True)
    top = math.ceil(len(revenue) * 0.2)
    assert sum(revenue[:top]) > Decimal("0.5") * sum(revenue)

    # Returns: whole return documents, and corrections inside ordinary ones.
    totals = [t for rows in docs.values() for _, t in rows]
    assert any(t < 0 for t in totals)
    negative_in_orders = (
        ShipmentLine.objects.filter(amount__lt=0)
        .values("doc_number", "doc_date")
        .annotate(n=Count("id"))
        .count()
    )
    assert negative_in_orders > sum(t < 0 for t in totals), "negative lines in orders too"

    # Lines: dated inside the window, priced consistently, owned by the owner.
    start = add_months(AS_OF, -26)
    assert not ShipmentLine.objects.exclude(doc_date__gt=start, doc_date__lte=AS_OF).exists()
    assert not ShipmentLine.objects.exclude(manager_email=F("client__owner__email")).exists()
    for line in ShipmentLine.objects.filter(amount__gt=100)[:300]:
        assert Decimal("0.59") <= line.cost / line.amount <= Decimal("0.86")
        assert re.fullmatch(r"РН-\d{6,}", line.doc_number)
    same_number = (
        ShipmentLine.objects.values("doc_number")
        .annotate(dates=Count("doc_date", distinct=True))
        .filter(dates__gt=1)
    )
    assert same_number.exists(), "numbers restart every year"


def test_demo_staff_teams_and_client_records():
    seed("--seed", "5", "--lines", "3000")
    roles = set(UserRole.objects.values_list("role", flat=True))
    assert roles == set(Role.values)
    assert UserRole.objects.filter(role=Role.KM).count() >= 3
    assert UserRole.objects.filter(role=Role.KAM).count() >= 2
    admin = User.objects.get(email=ADMIN_EMAIL)
    assert admin.is_superuser and admin.is_staff and admin.has_role(Role.ADMIN)
    assert admin.check_password("clientbase-demo")
    assert not User.objects.exclude(email__endswith=f"@{DEMO_DOMAIN}").exists()
    top = Team.objects.get(name="Sales department")
    assert top.head.has_role(Role.HEAD)
    subteams = Team.objects.filter(parent=top)
    assert {t.name for t in subteams} == {"Key accounts", "Regional sales"}
    assert all(t.head.has_role(Role.HEAD) and t.members.exists() for t in subteams)

    # History and the ownership ledger start with every client.
    clients = Client.objects.count()
    assert Client.history.filter(history_type="+").count() == clients
    assert Client.history.filter(history_user=admin, history_change_reason="demo data").exists()
    assert Contact.history.count() == Contact.objects.count()
    initial = OwnershipChange.objects.filter(kind="initial")
    assert initial.count() == clients == initial.values("client").distinct().count()
    owner_roles = {Role.KM, Role.KAM, Role.DEVELOPER, Role.OFFICE, Role.PM}
    for client in Client.objects.select_related("owner"):
        assert client.owner.role_codes & owner_roles

    # Contacts: 1-5 per client, reporting lines inside the client.
    per_client = Contact.objects.values("client").annotate(n=Count("id"))
    assert {row["n"] for row in per_client} <= {1, 2, 3, 4, 5}
    assert per_client.count() == clients
    bosses = Contact.objects.exclude(reports_to=None)
    assert bosses.exists()
    assert not bosses.exclude(reports_to__client=F("client")).exists()

    # Work: activities by owners, open tasks overdue and due today, deals.
    assert not Activity.objects.exclude(performed_by=F("client__owner")).exists()
    assert Activity.objects.exclude(entered_by=F("performed_by")).exists()
    open_tasks = Task.objects.filter(status="open")
    assert open_tasks.filter(due_on__lt=AS_OF).exists()
    assert open_tasks.filter(due_on=AS_OF).exists()
    assert Deal.objects.filter(stage="won").exists()
    lost = Deal.objects.filter(stage="lost")
    assert lost.exists() and not lost.filter(lost_reason="").exists()

    # Estimates: verified by a head, drafts, rejections.
    wallets = WalletEstimate.objects.filter(kind="wallet")
    verified = wallets.filter(status="verified")
    assert verified.exists() and wallets.filter(status="draft").exists()
    assert wallets.filter(status="rejected").exists()
    for estimate in verified.select_related("reviewed_by"):
        assert estimate.reviewed_by.has_role(Role.HEAD) and estimate.reviewed_at

    # Every generated row passes the models' own validation.
    for model in (Client, Contact, Deal, Task, WalletEstimate, Activity):
        for obj in model.objects.all()[:60]:
            obj.full_clean()


def test_wallets_are_plausible_multiples_of_revenue():
    seed("--seed", "11", clients=60)
    year_ago = AS_OF - timedelta(days=364)
    revenue = dict(
        ShipmentLine.objects.filter(doc_date__gte=year_ago)
        .values("client_id")
        .annotate(total=Sum("amount"))
        .values_list("client_id", "total")
    )
    buying = ShipmentLine.objects.values("client_id").distinct().count()
    overall = WalletEstimate.objects.filter(
        kind="wallet", product_group=None, year=AS_OF.year
    ).exclude(status="draft", comment="")
    with_wallet = overall.values("client_id").distinct().count()
    assert 0.4 * buying <= with_wallet <= 0.8 * buying
    checked = 0
    for estimate in overall:
        yearly = revenue.get(estimate.client_id, Decimal(0))
        if yearly > 100_000:
            assert Decimal("1.4") <= estimate.amount / yearly <= 21
            checked += 1
    assert checked
    assert WalletEstimate.objects.exclude(product_group=None).exists()


def test_lines_option_sets_the_approximate_number_of_lines():
    seed("--seed", "2", "--lines", "6000", clients=30)
    assert 5400 <= ShipmentLine.objects.count() <= 6600


def test_if_empty_seeds_an_empty_database_then_leaves_it_alone():
    out = seed("--if-empty", "--lines", "2000", clients=20)
    assert Client.objects.count() == 20
    assert "vera.head@demo.clientbase.local" in out
    before = fingerprint()
    users = sorted(User.objects.values_list("email", "password"))

    out = seed("--if-empty", "--seed", "99", clients=30)
    assert "nothing changed" in out and "clientbase-demo" in out
    assert fingerprint() == before
    assert sorted(User.objects.values_list("email", "password")) == users

    with pytest.raises(CommandError, match="--reset"):
        seed("--seed", "99", clients=30)
    assert fingerprint() == before


def test_reset_replaces_crm_data_and_demo_users_but_keeps_other_users():
    someone = User.objects.create_user("someone@example.test", "x")
    seed("--lines", "1000", clients=15)
    Client.objects.create(name="ООО «Чужой клиент»", owner=someone)
    seed("--reset", "--seed", "4", "--lines", "1000", clients=12)
    assert Client.objects.count() == 12
    assert not Client.objects.filter(owner=someone).exists()
    assert User.objects.filter(pk=someone.pk).exists()
    assert User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").count() == len(
        set(User.objects.filter(email__endswith=f"@{DEMO_DOMAIN}").values_list("email"))
    )
    assert Team.objects.filter(name="Sales department").count() == 1


def test_inn_check_digit_agrees_with_stdnum():
    rnd = random.Random(0)
    for _ in range(500):
        body = f"{rnd.randrange(10**9):09d}"
        assert inn_check_digit(body) == stdnum_inn.calc_company_check_digit(body)


def test_invalid_options_are_refused_and_help_is_translatable():
    with pytest.raises(CommandError, match="--clients"):
        seed(clients=0)
    help_text = Command().create_parser("manage.py", "seed_demo").format_help()
    assert "--if-empty" in help_text and "--reset" in help_text and "--as-of" in help_text
