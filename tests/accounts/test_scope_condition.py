"""The scope as a condition on a related client admits exactly the clients
``clients_visible_to`` admits, for every kind of user, on every model that reads
through it (activities, tasks, deals, snapshot rows)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from accounts.selectors import clients_visible_to, visible_clients_condition
from crm.models import Activity, Client, ClientGrant, Deal, Task
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(company, km_anna, km_boris, outsider, kam_oleg, head_gleb):
    """Clients of every kind of reach, each with a touch, a task and a deal."""
    clients = {
        "anna": ClientFactory(owner=km_anna),
        "boris": ClientFactory(owner=km_boris),
        "outsider": ClientFactory(owner=outsider),
        "gleb": ClientFactory(owner=head_gleb),
        "granted": ClientFactory(owner=outsider),
        "expired": ClientFactory(owner=outsider),
        "merged_into": ClientFactory(owner=km_anna),
    }
    clients["merged"] = ClientFactory(owner=km_anna, merged_into=clients["merged_into"])
    ClientGrant.objects.create(client=clients["granted"], user=kam_oleg, reason="kam")
    ClientGrant.objects.create(client=clients["granted"], user=head_gleb, reason="support")
    ClientGrant.objects.create(
        client=clients["expired"],
        user=kam_oleg,
        reason="kam",
        expires_at=timezone.now() - dt.timedelta(days=1),
    )
    for client in clients.values():
        Activity.objects.create(
            client=client,
            kind="call",
            summary="touch",
            performed_by=client.owner,
            entered_by=client.owner,
        )
        Task.objects.create(
            client=client,
            title="Call back",
            due_on=timezone.localdate(),
            assignee=client.owner,
            created_by=client.owner,
        )
        Deal.objects.create(client=client, title="Pilot", owner=client.owner, amount=1)
    return clients


@pytest.mark.parametrize(
    "who", ["km_anna", "km_boris", "outsider", "kam_oleg", "head_gleb", "head_vera", "admin_olga"]
)
def test_every_model_sees_what_clients_visible_to_sees(world, request, who):
    user = request.getfixturevalue(who)
    expected = set(clients_visible_to(user=user).values_list("id", flat=True))
    for per_row in (False, True):
        condition = visible_clients_condition(user=user, path="client", per_row=per_row)
        for model in (Activity, Task, Deal):
            seen = set(model.objects.filter(condition).values_list("client_id", flat=True))
            assert seen == expected, (who, model.__name__, per_row)
    assert world["merged"].pk not in expected  # a merged card is seen through its survivor


def test_the_reach_of_each_kind_of_user(world, km_anna, kam_oleg, head_gleb, admin_olga):
    def seen(user):
        condition = visible_clients_condition(user=user, path="client")
        ids = set(Activity.objects.filter(condition).values_list("client_id", flat=True))
        return {name for name, client in world.items() if client.pk in ids}

    assert seen(km_anna) == {"anna", "merged_into"}
    assert seen(kam_oleg) == {"granted"}  # the expired grant no longer counts
    assert seen(head_gleb) == {"anna", "boris", "gleb", "granted", "merged_into"}
    assert seen(admin_olga) == set(world) - {"merged"}


def test_nobody_signed_in_sees_nothing(world):
    condition = visible_clients_condition(user=AnonymousUser(), path="client")
    assert not Activity.objects.filter(condition).exists()
    assert Client.objects.count() == len(world)


def test_a_head_with_more_grants_than_constants_still_sees_each(
    world, head_gleb, outsider, monkeypatch
):
    """Past ``GRANTS_AS_CONSTANTS`` a head's grants are read by a subquery: same reach."""
    from accounts import selectors

    extra = [ClientFactory(owner=outsider) for _ in range(3)]
    for client in extra:
        ClientGrant.objects.create(client=client, user=head_gleb, reason="support")
        Task.objects.create(
            client=client,
            title="Call back",
            due_on=timezone.localdate(),
            assignee=outsider,
            created_by=outsider,
        )
    expected = {world[name].pk for name in ("anna", "boris", "gleb", "granted", "merged_into")}
    expected |= {client.pk for client in extra}
    as_constants = set(clients_visible_to(user=head_gleb).values_list("id", flat=True))
    monkeypatch.setattr(selectors, "GRANTS_AS_CONSTANTS", 2)
    by_subquery = set(clients_visible_to(user=head_gleb).values_list("id", flat=True))
    condition = visible_clients_condition(user=head_gleb, path="client")
    through_tasks = set(Task.objects.filter(condition).values_list("client_id", flat=True))
    assert as_constants == by_subquery == through_tasks == expected
    assert world["outsider"].pk not in by_subquery


def test_a_heads_scope_is_read_once_per_request(world, head_gleb, django_assert_num_queries):
    """The people and grants of a head are read once and kept on the request's user."""
    head_gleb.request_memo = {}
    clients_visible_to(user=head_gleb)  # reads the teams, then the people and grants
    with django_assert_num_queries(1):  # only the clients themselves
        ids = set(clients_visible_to(user=head_gleb).values_list("id", flat=True))
    assert world["granted"].pk in ids and world["outsider"].pk not in ids
