"""Factories for bulk test data; named personas live in conftest.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from factory.django import DjangoModelFactory

from accounts.models import Team, User, UserRole
from crm import models

PASSWORD = "correct-horse-battery"


def inn_with_checksum(base9: str) -> str:
    """A 10-digit INN whose check digit is right."""
    weights = [2, 4, 10, 3, 5, 9, 4, 6, 8]
    check = sum(int(d) * w for d, w in zip(base9, weights, strict=True)) % 11 % 10
    return base9 + str(check)


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.test")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def roles(user, create, extracted, **kwargs):
        user.save()
        for role in extracted or ():
            UserRole.objects.create(user=user, role=role)


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")


class ClientFactory(DjangoModelFactory):
    class Meta:
        model = models.Client

    name = factory.Sequence(lambda n: f"ООО «Клиент {n}»")
    inn = factory.Sequence(lambda n: inn_with_checksum(f"77{n:07d}"))
    external_id = factory.Sequence(lambda n: f"K-{n:06d}")
    region = "Москва"
    owner = factory.SubFactory(UserFactory)


class ContactFactory(DjangoModelFactory):
    class Meta:
        model = models.Contact

    client = factory.SubFactory(ClientFactory)
    full_name = factory.Sequence(lambda n: f"Контакт {n}")


class ProductGroupFactory(DjangoModelFactory):
    class Meta:
        model = models.ProductGroup
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Группа {n}")


class ProductFactory(DjangoModelFactory):
    class Meta:
        model = models.Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Товар {n}")
    group = factory.SubFactory(ProductGroupFactory)


class ShipmentLineFactory(DjangoModelFactory):
    class Meta:
        model = models.ShipmentLine

    doc_number = factory.Sequence(lambda n: f"РН-{n:06d}")
    doc_date = dt.date(2026, 10, 1)
    client = factory.SubFactory(ClientFactory)
    product = factory.SubFactory(ProductFactory)
    qty = Decimal("1")
    amount = Decimal("1000.00")


def stored_snapshot(*, client: models.Client, as_of: dt.date, **fields: object) -> object:
    """The client's row in a stored good metric run as of ``as_of``: ``fields`` as
    given, the other metrics zero (what the card's history and the reactivation
    counts read, without running the engine)."""
    from django.db.models import ForeignKey

    from segmentation.models import ClientMetricSnapshot, MetricRun

    run = MetricRun.objects.create(as_of=as_of, status="succeeded", kind="full", trigger="manual")
    values: dict[str, object] = {"run": run, "client": client, "owner": client.owner, **fields}
    for field in ClientMetricSnapshot._meta.concrete_fields:
        if field.primary_key or field.null or field.has_default() or field.name in values:
            continue
        if isinstance(field, ForeignKey):
            continue
        kind = field.get_internal_type()
        values[field.name] = (
            Decimal(0) if kind == "DecimalField" else 0 if "Integer" in kind else ""
        )
    values.setdefault("sales_type", client.sales_type)
    return ClientMetricSnapshot.objects.create(**values)
