"""Named personas shared by every test.

The company: «Sales» is headed by Vera and contains the team «Moscow» (head
Gleb) with the client managers Anna and Boris. Oleg is a KAM who sees his
key accounts through grants; Ira is a telemarketer in no team; Olga is an
administrator; Petr is a client manager of another department (outsider).
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client as HttpClient

from accounts.choices import Role
from accounts.models import Team, User
from crm.models import ClientGrant
from tests.factories import PASSWORD, ClientFactory, UserFactory


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"
    # A slow password hash proves nothing here and costs seconds per persona.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def _own_task_queue():
    """Parallel test processes each get their own queue and their own Redis database.

    Their own queue, so one's worker never takes another's task (it would
    look for the task's data in the wrong test database). Their own Redis
    database, because Redis keeps the unacknowledged messages of every queue
    in one index: a worker with a short visibility timeout (the killed-worker
    test's) would hand another process's running task out a second time.
    """
    import os
    import urllib.parse

    from config.celery import app

    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        app.conf.task_default_queue = f"{app.conf.task_default_queue}-{worker}"
        url = os.environ.get("REDIS_URL")
        if url:
            number = 1 + int(worker.removeprefix("gw") or 0) % 15
            own = urllib.parse.urlsplit(url)._replace(path=f"/{number}").geturl()
            os.environ["REDIS_URL"] = own  # what the workers these tests start read
            app.conf.broker_url = own
            app.conf.result_backend = own
            _cache_in(own)
    yield


def _cache_in(url: str) -> None:
    """Point the cache at the process's own Redis database too: the workers it
    starts report an import's progress there, and the tests read it back."""
    import contextlib

    from django.conf import settings
    from django.core.cache import caches

    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        return
    settings.CACHES["default"]["LOCATION"] = url
    caches.__dict__.pop("settings", None)  # read again from settings on next use
    with contextlib.suppress(AttributeError):  # not opened yet
        del caches["default"]


@pytest.fixture(autouse=True)
def _no_metric_runs_after_imports(settings):
    """An import queues a metric run; tests of imports do not need one (tests of jobs do)."""
    settings.METRICS_AFTER_IMPORT = False


@pytest.fixture(autouse=True)
def _tasks_in_process():
    """Tasks run in-process unless a test starts a real worker (tests/test_worker.py)."""
    from config.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def km_anna(db):
    return UserFactory(
        email="anna@example.test", first_name="Anna", last_name="Kim", roles=[Role.KM]
    )


@pytest.fixture
def km_boris(db):
    return UserFactory(
        email="boris@example.test", first_name="Boris", last_name="Lee", roles=[Role.KM]
    )


@pytest.fixture
def outsider(db):
    return UserFactory(
        email="petr@example.test", first_name="Petr", last_name="Orlov", roles=[Role.KM]
    )


@pytest.fixture
def head_gleb(db):
    return UserFactory(
        email="gleb@example.test", first_name="Gleb", last_name="Nowak", roles=[Role.HEAD]
    )


@pytest.fixture
def head_vera(db):
    return UserFactory(
        email="vera@example.test", first_name="Vera", last_name="Stone", roles=[Role.HEAD]
    )


@pytest.fixture
def amount_rules(head_vera):
    """Wallet ≥ 1 M is high potential, so a segment follows from wallet and revenue."""
    from segmentation.services import segment_rule_set_save

    return segment_rule_set_save(
        changes={"potential_mode": "amount", "potential_value": Decimal(1_000_000)},
        acting_user=head_vera,
        comment="fixed threshold for tests",
    )


@pytest.fixture
def kam_oleg(db):
    return UserFactory(
        email="oleg@example.test", first_name="Oleg", last_name="Fox", roles=[Role.KAM]
    )


@pytest.fixture
def tm_ira(db):
    return UserFactory(
        email="ira@example.test", first_name="Ira", last_name="Gray", roles=[Role.TM]
    )


@pytest.fixture
def admin_olga(db):
    return UserFactory(
        email="olga@example.test",
        first_name="Olga",
        last_name="Admin",
        roles=[Role.ADMIN],
        is_staff=True,
    )


@pytest.fixture
def company(km_anna, km_boris, head_gleb, head_vera, outsider):
    """The team tree: Sales (Vera) ⊃ Moscow (Gleb: Anna, Boris); Petr elsewhere."""
    sales = Team.objects.create(name="Sales", head=head_vera)
    moscow = Team.objects.create(name="Moscow", parent=sales, head=head_gleb)
    moscow.members.add(km_anna, km_boris)
    other = Team.objects.create(name="Other department")
    other.members.add(outsider)
    return {"sales": sales, "moscow": moscow, "other": other}


@pytest.fixture
def anna_client(km_anna):
    return ClientFactory(name="ООО «Анна»", owner=km_anna)


@pytest.fixture
def boris_client(km_boris):
    return ClientFactory(name="ООО «Борис»", owner=km_boris)


@pytest.fixture
def outsider_client(outsider):
    return ClientFactory(name="ООО «Чужой»", owner=outsider)


@pytest.fixture
def key_account(km_boris, kam_oleg):
    client = ClientFactory(name="АО «Ключевой»", owner=km_boris)
    ClientGrant.objects.create(client=client, user=kam_oleg, reason="kam", level="edit")
    return client


def login(user: User) -> HttpClient:
    http = HttpClient()
    http.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return http


@pytest.fixture
def as_user():
    """``as_user(km_anna)`` gives a test client logged in as that persona."""
    return login


__all__ = ["PASSWORD"]
