"""``field__any_of``: the same rows as ``__in``, one array parameter on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_any_of_picks_the_rows_in_picks(km_anna, km_boris, outsider):
    clients = [ClientFactory(owner=owner) for owner in (km_anna, km_boris, outsider, km_anna)]
    clients[3].parent = clients[0]
    clients[3].save()
    for wanted in ([km_anna.pk], [km_anna.pk, outsider.pk], [], [km_boris.pk, None], [0]):
        assert ids(Client.objects.filter(owner_id__any_of=wanted)) == ids(
            Client.objects.filter(owner_id__in=wanted)
        )
        assert ids(Client.objects.exclude(owner_id__any_of=wanted)) == ids(
            Client.objects.exclude(owner_id__in=wanted)
        )
        assert ids(Client.objects.filter(parent__owner__any_of=wanted)) == ids(
            Client.objects.filter(parent__owner__in=wanted)
        )
    some = [clients[1].pk, clients[2].pk]
    assert ids(Client.objects.filter(pk__any_of=some)) == set(some)


def test_any_of_sends_one_parameter_on_postgresql(km_anna):
    owners = list(range(1, 200))
    with CaptureQueriesContext(connection) as queries:
        list(Client.objects.filter(owner_id__any_of=owners))
    sql = queries.captured_queries[0]["sql"]
    if connection.vendor == "postgresql":
        assert "= ANY(ARRAY[1,2,3," in sql
        assert " IN (" not in sql
    else:
        assert " IN (1, 2, 3" in sql
