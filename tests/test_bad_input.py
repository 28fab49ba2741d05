"""Bad input at every write endpoint of the pages and of the API (/api/v1/).

The standard: a form or an API call that gets bad input answers with a clear
message naming the field, and leaves the data exactly as it was; never a 500.

Each endpoint starts from a payload it accepts (``test_a_valid_payload_is_
accepted`` proves it); each case then puts one value of a corpus of bad input
into one field, or leaves the field out. Whatever the answer, it is no 5xx.
A refusal (a 4xx, the page's form shown again with errors, or an error
message) names the field and changes no row of any table. A value taken
because it is legitimate ("<script>" in a note is just text) is stored as
given, and the page where the record shows still opens and shows it escaped.

Creating endpoints get the whole corpus of their fields' kind; endpoints that
edit what another one creates, through the same form or serializer, get a
short corpus, so that the module runs in about a minute.

Besides: a refusal speaks the user's language (one probe per endpoint); an
unknown or overflowing id in the address is a 404 that changes nothing; a bad
period in the plans pages' address falls back to the current one.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Model
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import escape
from django.utils.http import urlsafe_base64_encode

from accounts.models import SavedClientFilter, User
from crm import services
from crm.models import (
    Activity,
    Client,
    ClientGrant,
    ClientMerge,
    Contact,
    Deal,
    DossierNote,
    ImportRun,
    OwnershipChange,
    Period,
    SalesForecast,
    SalesPlan,
    SurveyAnswer,
    Task,
    WalletEstimate,
)
from crm.services import client_list as list_services
from crm.services import plans as plan_services
from segmentation import forms as rule_forms
from segmentation import services as segment_services
from segmentation.api.serializers import SegmentRuleSetSerializer
from segmentation.models import SegmentOverride, SegmentRuleSet
from tests.conftest import PASSWORD, login
from tests.factories import ClientFactory, ContactFactory, ProductGroupFactory, inn_with_checksum

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
SOON = (TODAY + dt.timedelta(days=10)).isoformat()
LATER = (TODAY + dt.timedelta(days=20)).isoformat()
MONTH = Period.containing("month", TODAY)
INN = inn_with_checksum("500100732")
NEW_PASSWORD = "Another-horse-2026"
SCRIPT = "<script>alert(1)</script>"
HUGE = 99999999999999999999999


# --- The corpus -------------------------------------------------------------------


class _Missing:
    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()  # the field left out of the payload


@dataclass(frozen=True)
class Raw:
    """A JSON number as written: 1e309 has no Python float to write it."""

    text: str


def _text(api: bool) -> list[tuple[str, Any]]:
    values = [
        ("empty", ""),
        ("5000-chars", "x" * 5000),
        ("nul", "a\x00b"),
        ("script", SCRIPT),
        ("fullwidth-digits", "１２３"),
        ("minus-one", "-1"),
        ("missing", MISSING),
    ]
    return values + ([("list", ["x"]), ("dict", {"a": "x"})] if api else [])


def _number(api: bool) -> list[tuple[str, Any]]:
    return [
        ("empty", ""),
        ("5000-digits", "9" * 5000),
        ("nul", "1\x002"),
        ("fullwidth-digits", "１２３"),
        ("minus-one", -1 if api else "-1"),
        ("1e309", Raw("1e309") if api else "1e309"),
        ("huge", HUGE if api else str(HUGE)),
        ("abc", "abc"),
        ("missing", MISSING),
    ] + ([("list", [1]), ("dict", {"a": 1})] if api else [])


def _date(api: bool) -> list[tuple[str, Any]]:
    return [
        ("feb-30", "2026-02-30"),
        ("dotted", "31.12.2026"),
        ("zeros", "0000-00-00"),
        ("year-9999", "9999-12-31"),
        ("empty", ""),
        ("nul", "2026-12-\x0031"),
        ("abc", "abc"),
        ("missing", MISSING),
    ] + ([("list", ["2026-12-31"]), ("dict", {"a": 1})] if api else [])


def _datetime(api: bool) -> list[tuple[str, Any]]:
    return [
        ("feb-30", "2026-02-30T10:00"),
        ("dotted", "31.12.2026 10:00"),
        ("zeros", "0000-00-00T00:00"),
        ("year-9999", "9999-12-31T23:59"),
        ("empty", ""),
        ("nul", "2026-12-01T10:\x0000"),
        ("abc", "abc"),
        ("missing", MISSING),
    ] + ([("list", ["2026-12-01T10:00"]), ("dict", {"a": 1})] if api else [])


def _reference(api: bool) -> list[tuple[str, Any]]:
    """Foreign keys and user ids."""
    return [
        ("unknown-id", 999999999 if api else "999999999"),
        ("abc", "abc"),
        ("minus-one", -1 if api else "-1"),
        ("huge", HUGE if api else str(HUGE)),
        ("empty", ""),
        ("fullwidth-digits", "１２３"),
        ("missing", MISSING),
    ] + ([("list", [1]), ("dict", {"a": 1})] if api else [])


def _choice(api: bool) -> list[tuple[str, Any]]:
    values = [("empty", ""), ("abc", "abc"), ("nul", "a\x00b"), ("missing", MISSING)]
    return values + ([("list", ["abc"]), ("dict", {"a": 1})] if api else [])


def _flag(api: bool) -> list[tuple[str, Any]]:
    return [("abc", "abc"), ("missing", MISSING)] + (
        [("list", [True]), ("dict", {"a": 1})] if api else []
    )


def _ids(api: bool) -> list[tuple[str, Any]]:
    """A list of ids (several values of one form field; a JSON list)."""
    if api:
        return [
            ("abc", ["abc"]),
            ("unknown-id", [999999999]),
            ("huge", [HUGE]),
            ("minus-one", [-1]),
            ("nul", ["1\x00"]),
            ("no-list", 1),
            ("dict", {"a": 1}),
            ("empty-list", []),
            ("missing", MISSING),
        ]
    return [
        ("abc", ["abc"]),
        ("unknown-id", ["999999999"]),
        ("huge", [str(HUGE)]),
        ("minus-one", ["-1"]),
        ("nul", ["1\x00"]),
        ("empty", [""]),
        ("missing", MISSING),
    ]


def _codes(api: bool) -> list[tuple[str, Any]]:
    """A JSON list of codes (the priority order of the segments)."""
    return [
        ("no-list", "abc"),
        ("repeated", ["A", "A", "B", "C"]),
        ("unknown", ["A", "B", "C", "X"]),
        ("nul", ["A", "B", "C", "D\x00"]),
        ("empty-list", []),
        ("dict", {"a": 1}),
        ("missing", MISSING),
    ]


def _object(api: bool) -> list[tuple[str, Any]]:
    """A nested JSON object replaced by something else."""
    return [
        ("text", "abc"),
        ("list", [1]),
        ("empty-dict", {}),
        ("nul-key", {"\x00": 1}),
        ("missing", MISSING),
    ]


def _file(api: bool) -> list[tuple[str, Any]]:
    return [
        ("empty-file", b""),
        ("nul-bytes", b"\x00" * 200),
        ("text-not-a-file", "abc"),
        ("missing", MISSING),
    ]


CORPUS: dict[str, Callable[[bool], list[tuple[str, Any]]]] = {
    "text": _text,
    "number": _number,
    "date": _date,
    "datetime": _datetime,
    "reference": _reference,
    "choice": _choice,
    "flag": _flag,
    "ids": _ids,
    "codes": _codes,
    "object": _object,
    "file": _file,
}
# An edit through the form or serializer a creating endpoint already covers.
SHORT = {
    "text": {"5000-chars", "nul", "script", "missing"},
    "number": {"huge", "abc", "minus-one", "1e309"},
    "date": {"feb-30", "year-9999", "empty"},
    "datetime": {"feb-30", "year-9999"},
    "reference": {"unknown-id", "abc", "huge"},
    "choice": {"abc", "nul"},
    "flag": {"abc"},
}


# --- Endpoints --------------------------------------------------------------------


class World:
    """The personas and records of tests/conftest.py, made when an endpoint asks."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self._request = request

    def __getattr__(self, name: str) -> Any:
        return self._request.getfixturevalue(name)

    def use(self, name: str) -> None:
        self._request.getfixturevalue(name)


@dataclass
class Call:
    """One valid call: who makes it, where, with what; and what it writes."""

    user: User | None
    url: str
    data: dict[str, Any]
    # The row an accepted call writes: (model, pk), or a model whose newest row
    # (or the API's answered ``id``) it is.
    record: tuple[type[Model], int] | type[Model] | None = None
    # The page where the record shows.
    show: Callable[[Any], str] | None = None
    # Path parts standing for ids known only once the records exist.
    alias: dict[str, str] = field(default_factory=dict)
    # Before the call (e.g. a page that puts a token in the session); gives the URL.
    prepare: Callable[[HttpClient], str] | None = None


@dataclass(frozen=True)
class Field:
    name: str  # a form field or JSON key; "a.b" inside a JSON object
    kind: str
    attr: str = ""  # where the record keeps an accepted value ("a.b" inside a JSON field)
    shown: bool = False  # the value shows on ``Call.show``: "<script>" there is escaped
    expect: Callable[[Any], Any] | None = None  # the stored form of an accepted value
    keys: tuple[str, ...] = ()  # what a refusal may name instead of ``name``
    not_found: bool = False  # an unknown target is a 404, by design
    extra: tuple[tuple[str, Any], ...] = ()  # values of this field's own besides the corpus
    template: str = ""  # a text value goes in here ("region={}": a list's query string)
    refuse: frozenset[str] = frozenset()  # values the domain rules out, though well-formed


@dataclass(frozen=True)
class Endpoint:
    name: str
    build: Callable[[World], Call]
    fields: tuple[Field, ...]
    api: bool = False
    method: str = "post"
    form: str = "form"  # the page's form in the context; "" when it answers with messages
    short: bool = False
    multipart: bool = False  # an API upload
    in_query: bool = False  # the payload travels in the query string (DELETE)
    writes: bool = True
    ignores_bad: bool = False  # a bad value is dropped and nothing changes (language switch)
    answers_record: bool = True  # the API answers the written record (its ``id``)


def _stripped(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper()


def _lower(value: Any) -> Any:
    return value.lower()


def _list_query(value: Any) -> Any:
    return list_services.list_query_normalized(value)


def _card(record: Any) -> str:
    return reverse("crm:client_detail", args=[record.pk])


def _card_tab(tab: str) -> Callable[[Any], str]:
    def url(record: Any) -> str:
        return reverse("crm:client_detail", args=[record.client_id]) + f"?tab={tab}"

    return url


def _task_list(record: Any) -> str:
    return reverse("crm:task_list")


def _board(record: Any) -> str:
    return reverse("crm:deal_board")


def _plans_page(record: Any) -> str:
    return f"{reverse('crm:plans')}?kind={record.period_kind}&start={record.period_start}"


def _client_list(record: Any) -> str:
    return reverse("crm:client_list")


def _rules_page(record: Any) -> str:
    return reverse("segmentation:rules")


def _override_page(record: Any) -> str:
    return reverse("segmentation:override_edit", args=[record.client_id])


def _import_page(record: Any) -> str:
    return reverse("crm:import_run", args=[record.pk])


CLIENTS_CSV = (
    "Код;Наименование;ИНН;КПП;Регион;Тип продаж;Ответственный\n"
    f"K-900;ООО «Импорт»;{inn_with_checksum('770900001')};;Тверь;смешанные;anna@example.test\n"
).encode()


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("clients.csv", CLIENTS_CSV, content_type="text/csv")


def _client_fields(*, with_holding: str) -> tuple[Field, ...]:
    """The card's fields; the page names the holding by its code, the API by id."""
    holding = (
        Field("holding", "text", keys=("holding",))
        if with_holding == "code"
        else Field("parent", "reference")
    )
    return (
        Field("name", "text", attr="name", shown=True, expect=_stripped),
        # Without the INN, the card's KPP is refused: it means nothing alone.
        Field("inn", "text", attr="inn", keys=("inn", "kpp")),
        Field("kpp", "text", attr="kpp", expect=_upper),
        Field("external_id", "text", attr="external_id", shown=True, expect=_stripped),
        Field("region", "text", attr="region", shown=True, expect=_stripped),
        Field("industry", "text", attr="industry", shown=True, expect=_stripped),
        Field("employees", "number", attr="employees"),
        Field("outlets", "number", attr="outlets"),
        Field("sales_type", "choice"),
        Field("motivation_type", "choice"),
        holding,
        Field("address", "text", attr="address", expect=_stripped),
        Field("phone", "text", attr="phone", expect=_stripped),
        Field("email", "text", attr="email"),
        Field("website", "text", attr="website", expect=_stripped),
        Field("note", "text", attr="note", expect=_stripped),
    )


def _client_page_data(**extra: Any) -> dict[str, Any]:
    return {
        "name": "ООО «Новый»",
        "inn": INN,
        "kpp": "500101001",
        "external_id": "K-NEW",
        "region": "Тверь",
        "industry": "Retail",
        "employees": "120",
        "outlets": "4",
        "sales_type": "mixed",
        "motivation_type": "price",
        "holding": "",
        "address": "Тверь, ул. Советская, 1",
        "phone": "+7 4822 00-00-00",
        "email": "office@new.example.test",
        "website": "new.example.test",
        "note": "Met at the fair",
        **extra,
    }


def _contact_fields() -> tuple[Field, ...]:
    return (
        Field("full_name", "text", attr="full_name", shown=True, expect=_stripped),
        Field("position", "text", attr="position", shown=True, expect=_stripped),
        Field("department", "text", attr="department", expect=_stripped),
        Field("level", "choice"),
        Field("phone", "text", attr="phone", expect=_stripped),
        Field("email", "text", attr="email"),
        Field("decision_role", "choice"),
        Field("influence", "choice"),
        Field("attitude", "choice"),
        Field("reports_to", "reference"),
        Field("is_active", "flag"),
        Field("note", "text", attr="note", expect=_stripped),
    )


def _contact_data(boss, *, api):
    return {
        "full_name": "Иван Петров",
        "position": "Buyer",
        "department": "Purchasing",
        "level": "middle",
        "phone": "+7 900 000-00-00",
        "email": "ivan@example.test",
        "decision_role": "influencer",
        "influence": 2 if api else "2",
        "attitude": "supporter",
        "reports_to": boss.pk,
        "is_active": True if api else "on",
        "note": "Prefers e-mail",
    }


# Pages -----------------------------------------------------------------------------


def page_client_create(w):
    w.use("company")  # the teams: heads see their people
    return Call(
        w.head_gleb,
        reverse("crm:client_create"),
        _client_page_data(owner=w.km_anna.pk, not_a_duplicate="on"),
        record=Client,
        show=_card,
    )


def page_client_edit(w):
    client = w.anna_client
    data = _client_page_data(version=client.version)
    return Call(
        w.km_anna, reverse("crm:client_edit", args=[client.pk]), data, (Client, client.pk), _card
    )


def page_client_reassign(w):
    w.use("company")  # the teams: heads see their people
    client = w.anna_client
    data = {"new_owner": w.km_boris.pk, "note": "Anna is on leave"}
    url = reverse("crm:client_reassign", args=[client.pk])
    return Call(w.head_gleb, url, data, OwnershipChange, _card_tab("history"))


def page_client_merge(w):
    w.use("company")  # the teams: heads see their people
    survivor, merged = w.anna_client, ClientFactory(owner=w.km_anna)
    url = reverse("crm:client_merge", args=[survivor.pk, merged.pk])
    return Call(w.head_gleb, url, {"note": "One company, two cards"}, ClientMerge)


def page_contact_create(w):
    client = w.anna_client
    data = _contact_data(ContactFactory(client=client), api=False)
    url = reverse("crm:contact_create", args=[client.pk])
    return Call(w.km_anna, url, data, Contact, _card_tab("contacts"))


def page_contact_edit(w):
    client = w.anna_client
    boss, contact = ContactFactory(client=client), ContactFactory(client=client)
    data = {**_contact_data(boss, api=False), "version": contact.version}
    url = reverse("crm:contact_edit", args=[client.pk, contact.pk])
    return Call(w.km_anna, url, data, (Contact, contact.pk), _card_tab("contacts"))


def page_touch_create(w):
    client = w.anna_client
    contact = ContactFactory(client=client)
    data = {
        "kind": "call",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "contact": contact.pk,
        "purpose": "sale",
        "initiated_by": "us",
        "duration_minutes": "15",
        "summary": "Discussed the autumn order",
        "outcome": "They will order",
        "reactivation": "on",
        "lapse_side": "client",
        "lapse_reason": "Moved to a cheaper supplier",
        "next_title": "Send the samples",
        "next_due_on": SOON,
    }
    url = reverse("crm:touch_create", args=[client.pk])
    return Call(w.km_anna, url, data, Activity, _card_tab("activities"))


def page_task_create(w):
    client = w.anna_client
    data = {
        "title": "Call about the price list",
        "kind": "touch",
        "due_on": SOON,
        "assignee": w.km_anna.pk,
        "description": "They asked twice",
    }
    url = reverse("crm:client_task_create", args=[client.pk])
    return Call(w.km_anna, url, data, Task, _task_list)


def page_task_edit(w):
    task = services.task_create(
        acting_user=w.km_anna, client=w.anna_client, title="Call", due_on=TODAY, kind="touch"
    )
    data = {
        "title": "Call again",
        "kind": "touch",
        "due_on": SOON,
        "assignee": w.km_anna.pk,
        "description": "About the price",
        "version": task.version,
    }
    url = reverse("crm:task_edit", args=[task.pk])
    return Call(w.km_anna, url, data, (Task, task.pk), _task_list)


def page_task_complete(w):
    task = services.task_create(
        acting_user=w.km_anna, client=w.anna_client, title="Call", due_on=TODAY, kind="touch"
    )
    url = reverse("crm:task_status", args=[task.pk, "complete"])
    return Call(w.km_anna, url, {"next": "/clients/tasks/"}, (Task, task.pk), _task_list)


def page_touch_create_by_a_head(w):
    w.use("company")
    client = w.anna_client
    data = {
        "kind": "call",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "purpose": "sale",
        "initiated_by": "us",
        "summary": "Discussed the autumn order",
        "next_title": "Send the samples",
        "next_due_on": SOON,
        "next_assignee": w.km_anna.pk,
    }
    url = reverse("crm:touch_create", args=[client.pk])
    return Call(w.head_gleb, url, data, Activity, _card_tab("activities"))


def page_survey_create(w):
    client = w.anna_client
    data = {
        "kind": "nps",
        "score": "9",
        "contact": ContactFactory(client=client).pk,
        "answered_on": TODAY.isoformat(),
        "comment": "Happy with the delivery",
    }
    url = reverse("crm:survey_create", args=[client.pk])
    return Call(w.km_anna, url, data, SurveyAnswer, _card_tab("surveys"))


def page_note_create(w):
    client = w.anna_client
    data = {"text": "The buyer prefers calls after lunch", "visibility": "team"}
    url = reverse("crm:note_create", args=[client.pk])
    return Call(w.km_anna, url, data, DossierNote, _card_tab("dossier"))


def page_note_edit(w):
    note = services.dossier_note_create(
        client=w.anna_client, acting_user=w.km_anna, text="Calls", visibility="team"
    )
    data = {"text": "Calls after lunch", "visibility": "everyone"}
    url = reverse("crm:note_edit", args=[note.pk])
    return Call(w.km_anna, url, data, (DossierNote, note.pk), _card_tab("dossier"))


def page_estimate_create(w):
    client = w.anna_client
    data = {
        "kind": "wallet",
        "year": str(TODAY.year),
        "amount": "1000000",
        "product_group": ProductGroupFactory(name="Крепёж").pk,
        "basis": "expert",
        "comment": "The buyer's own figure",
    }
    url = reverse("crm:estimate_create", args=[client.pk])
    return Call(w.km_anna, url, data, WalletEstimate, _card_tab("estimates"))


def _draft_estimate(w):
    w.use("company")  # the teams: heads see their people
    return services.wallet_estimate_create(
        client=w.anna_client,
        acting_user=w.km_anna,
        kind="wallet",
        year=TODAY.year,
        amount=Decimal(1000),
    )


def page_estimate_verify(w):
    estimate = _draft_estimate(w)
    url = reverse("crm:estimate_verify", args=[estimate.pk])
    record = (WalletEstimate, estimate.pk)
    data = {"comment": "Matches the outlets", "next": "/clients/estimates/"}
    return Call(w.head_gleb, url, data, record, _card_tab("estimates"))


def page_estimate_reject(w):
    estimate = _draft_estimate(w)
    url = reverse("crm:estimate_reject", args=[estimate.pk])
    record = (WalletEstimate, estimate.pk)
    return Call(w.head_gleb, url, {"comment": "Far too low"}, record, _card_tab("estimates"))


def _deal(w):
    from crm.services.deals import deal_create

    return deal_create(
        acting_user=w.km_anna,
        client=w.anna_client,
        stage="qualification",
        title="Autumn supply",
        kind="new_business",
        amount=Decimal(1000),
    )


def page_deal_create(w):
    data = {
        "client": w.anna_client.pk,
        "kind": "new_business",
        "title": "Autumn supply",
        "stage": "qualification",
        "amount": "150000",
        "expected_close_on": SOON,
    }
    return Call(w.km_anna, reverse("crm:deal_create"), data, Deal, _board)


def page_deal_edit(w):
    w.use("company")  # the teams: heads see their people
    deal = _deal(w)
    data = {
        "kind": "project",
        "title": "Autumn supply, phase 2",
        "amount": "200000",
        "expected_close_on": LATER,
        "owner": w.km_anna.pk,
        "updated_at_seen": deal.updated_at.isoformat(),
    }
    url = reverse("crm:deal_edit", args=[deal.pk])
    return Call(w.head_gleb, url, data, (Deal, deal.pk), _board)


def page_deal_move(w):
    deal = _deal(w)
    data = {
        "stage": "lost",
        "reason": "Price",
        "updated_at": deal.updated_at.isoformat(),
        "next": "/clients/deals/",
    }
    url = reverse("crm:deal_move", args=[deal.pk])
    return Call(w.km_anna, url, data, (Deal, deal.pk), _card_tab("deals"))


def _amount_data(text_field: str) -> dict[str, Any]:
    return {
        "next": "/clients/plans/",
        "period_kind": MONTH.kind,
        "period_start": MONTH.start.isoformat(),
        "amount": "100000",
        "share_percent": "12.5",
        text_field: "A stretch, agreed with the team",
    }


def page_plan_set(w):
    w.use("company")  # the teams: heads see their people
    url = reverse("crm:plan_set", args=["client", w.anna_client.pk])
    url += f"?kind={MONTH.kind}&start={MONTH.start.isoformat()}"
    return Call(w.head_gleb, url, _amount_data("note"), SalesPlan, _plans_page)


def page_forecast_set(w):
    url = reverse("crm:forecast_set", args=["client", w.anna_client.pk])
    url += f"?kind={MONTH.kind}&start={MONTH.start.isoformat()}"
    return Call(w.km_anna, url, _amount_data("comment"), SalesForecast, _plans_page)


def page_saved_filter_create(w):
    w.use("company")  # the teams: heads see their people
    data = {"name": "Tver", "query": "region=Тверь"}
    url = reverse("crm:saved_filter_create")
    return Call(w.km_anna, url, data, SavedClientFilter, _client_list)


def page_bulk_task(w):
    data = {
        "ids": [w.anna_client.pk],
        "query": "",
        "title": "Offer the autumn range",
        "kind": "touch",
        "due_on": SOON,
        "to_owners": "",
        "description": "The new catalogue",
    }
    return Call(w.km_anna, reverse("crm:client_bulk_task"), data, Task, _task_list)


def page_list_columns(w):
    data = {"columns": ["region", "industry"], "query": "region=Тверь"}
    return Call(w.km_anna, reverse("crm:client_list_columns"), data, (User, w.km_anna.pk))


def page_client_export(w):
    data = {"ids": [w.anna_client.pk], "query": ""}
    return Call(w.km_anna, reverse("crm:client_export", args=["csv"]), data)


def page_import_new(w):
    w.use("company")  # the teams: heads see their people
    data = {
        "kind": "clients",
        "file": _upload(),
        "sheet": "",
        "create_missing_clients": "",
        "skip_invalid": "on",
    }
    return Call(w.head_gleb, reverse("crm:import_new"), data, ImportRun, _import_page)


def _rules_form_data() -> dict[str, Any]:
    """What the rules page posts for the version in force, with one change."""
    form = rule_forms.SegmentRuleSetForm(rule_set=SegmentRuleSet.objects.active())
    data: dict[str, Any] = {}
    for name, form_field in form.fields.items():
        value = form.get_initial_for_field(form_field, name)
        if isinstance(value, bool):
            if value:
                data[name] = "on"
        elif value is not None:
            data[name] = str(value)
    data.update(share_threshold_percent="15", comment="Stricter share")
    return data


def page_rules_edit(w):
    w.use("company")  # the teams: heads see their people
    ProductGroupFactory(name="Крепёж")
    data = _rules_form_data()
    return Call(w.head_vera, reverse("segmentation:rules_edit"), data, SegmentRuleSet, _rules_page)


def page_override_set(w):
    w.use("company")  # the teams: heads see their people
    url = reverse("segmentation:override_edit", args=[w.anna_client.pk])
    data = {"segment": "A", "reason": "Strategic for the region"}
    return Call(w.head_gleb, url, data, SegmentOverride, _override_page)


def page_override_remove(w):
    w.use("company")  # the teams: heads see their people
    client = w.anna_client
    segment_services.segment_override_set(
        client=client, segment="A", reason="Strategic", acting_user=w.head_gleb
    )
    url = reverse("segmentation:override_edit", args=[client.pk])
    data = {"action": "remove", "reason": "The region plan changed"}
    return Call(w.head_gleb, url, data, SegmentOverride.history.model, _override_page)


def page_language(w):
    data = {"language": "ru", "next": "/clients/"}
    return Call(w.km_anna, reverse("accounts:language"), data, (User, w.km_anna.pk))


def page_login(w):
    data = {"username": w.km_anna.email, "password": PASSWORD}
    return Call(None, reverse("accounts:login"), data)


def page_password_change(w):
    data = {
        "old_password": PASSWORD,
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
    }
    return Call(w.km_anna, reverse("accounts:password_change"), data, (User, w.km_anna.pk))


def page_password_reset(w):
    return Call(None, reverse("accounts:password_reset"), {"email": w.km_anna.email})


def page_password_reset_confirm(w):
    user = w.km_anna
    link = reverse(
        "accounts:password_reset_confirm",
        args=[
            urlsafe_base64_encode(force_bytes(user.pk)),
            default_token_generator.make_token(user),
        ],
    )

    def prepare(http: HttpClient) -> str:
        response = http.get(link)  # keeps the token in the session, then sends on
        assert response.status_code == 302, response.status_code
        return response["Location"]

    data = {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    return Call(None, link, data, (User, user.pk), prepare=prepare)


# API -------------------------------------------------------------------------------


def _client_api_data(**extra: Any) -> dict[str, Any]:
    data = _client_page_data(**extra)
    del data["holding"]
    data.update(employees=120, outlets=4)
    return data


def api_client_create(w):
    w.use("company")  # the teams: heads see their people
    data = _client_api_data(owner_id=w.km_anna.pk, parent=w.anna_client.pk)
    return Call(w.head_gleb, "/api/v1/clients/", data, Client, _card)


def api_client_update(w):
    client = w.anna_client
    holding = ClientFactory(owner=w.km_anna)
    data = _client_api_data(version=client.version, parent=holding.pk)
    return Call(w.km_anna, f"/api/v1/clients/{client.pk}/", data, (Client, client.pk), _card)


def api_client_reassign(w):
    w.use("company")  # the teams: heads see their people
    url = f"/api/v1/clients/{w.anna_client.pk}/reassign/"
    data = {"new_owner_id": w.km_boris.pk, "note": "Anna is on leave"}
    return Call(w.head_gleb, url, data, OwnershipChange, _card_tab("history"))


def api_client_merge(w):
    w.use("company")  # the teams: heads see their people
    duplicate = ClientFactory(owner=w.km_anna)
    url = f"/api/v1/clients/{w.anna_client.pk}/merge/"
    data = {"duplicate": duplicate.pk, "preview": False, "note": "One company, two cards"}
    return Call(w.head_gleb, url, data, ClientMerge)


def api_bulk_task(w):
    data = {
        "clients": [w.anna_client.pk],
        "title": "Offer the autumn range",
        "kind": "touch",
        "due_on": SOON,
        "description": "The new catalogue",
        "to_owners": False,
    }
    return Call(w.km_anna, "/api/v1/clients/bulk-task/", data, Task, _task_list)


def api_contact_create(w):
    client = w.anna_client
    data = {"client": client.pk, **_contact_data(ContactFactory(client=client), api=True)}
    return Call(w.km_anna, "/api/v1/contacts/", data, Contact, _card_tab("contacts"))


def api_contact_update(w):
    client = w.anna_client
    boss, contact = ContactFactory(client=client), ContactFactory(client=client)
    data = {**_contact_data(boss, api=True), "version": contact.version}
    url = f"/api/v1/contacts/{contact.pk}/"
    return Call(w.km_anna, url, data, (Contact, contact.pk), _card_tab("contacts"))


def api_saved_filter_create(w):
    w.use("company")  # the teams: heads see their people
    data = {"name": "Tver", "query": "region=Тверь"}
    return Call(w.km_anna, "/api/v1/saved-filters/", data, SavedClientFilter, _client_list)


def api_estimate_create(w):
    data = {
        "client": w.anna_client.pk,
        "kind": "wallet",
        "year": TODAY.year,
        "amount": "1000000.00",
        "per_month": False,
        "product_group": ProductGroupFactory(name="Крепёж").pk,
        "basis": "expert",
        "comment": "The buyer's own figure",
    }
    return Call(w.km_anna, "/api/v1/estimates/", data, WalletEstimate, _card_tab("estimates"))


def api_estimate_verify(w):
    estimate = _draft_estimate(w)
    url = f"/api/v1/estimates/{estimate.pk}/verify/"
    record = (WalletEstimate, estimate.pk)
    return Call(
        w.head_gleb, url, {"comment": "Matches the outlets"}, record, _card_tab("estimates")
    )


def api_estimate_reject(w):
    estimate = _draft_estimate(w)
    url = f"/api/v1/estimates/{estimate.pk}/reject/"
    record = (WalletEstimate, estimate.pk)
    return Call(w.head_gleb, url, {"comment": "Far too low"}, record, _card_tab("estimates"))


def api_import_create(w):
    w.use("company")  # the teams: heads see their people
    data = {
        "kind": "clients",
        "file": _upload(),
        "sheet": "",
        "create_missing_clients": "false",
        "skip_invalid": "true",
        "confirm": "false",
    }
    return Call(w.head_gleb, "/api/v1/imports/", data, ImportRun, _import_page)


def api_activity_create(w):
    client = w.anna_client
    data = {
        "client": client.pk,
        "contact": ContactFactory(client=client).pk,
        "kind": "call",
        "purpose": "retention",
        "initiated_by": "us",
        "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "duration_minutes": 15,
        "summary": "Discussed the autumn order",
        "outcome": "They will order",
        "next_task": {"title": "Send the samples", "due_on": SOON, "assignee_id": w.km_anna.pk},
        "reactivation": {"side": "client", "reason": "Moved to a cheaper supplier"},
    }
    return Call(w.km_anna, "/api/v1/activities/", data, Activity, _card_tab("activities"))


def _task_api_data(w):
    return {
        "client": w.anna_client.pk,
        "title": "Call about the price list",
        "kind": "touch",
        "due_on": SOON,
        "status": "open",
        "description": "They asked twice",
        "assignee_id": w.km_anna.pk,
    }


def api_task_create(w):
    return Call(w.km_anna, "/api/v1/tasks/", _task_api_data(w), Task, _task_list)


def api_task_update(w):
    task = services.task_create(
        acting_user=w.km_anna, client=w.anna_client, title="Call", due_on=TODAY, kind="touch"
    )
    data = {**_task_api_data(w), "due_on": LATER, "version": task.version}
    return Call(w.km_anna, f"/api/v1/tasks/{task.pk}/", data, (Task, task.pk), _task_list)


def api_survey_create(w):
    client = w.anna_client
    data = {
        "client": client.pk,
        "contact": ContactFactory(client=client).pk,
        "kind": "nps",
        "score": 9,
        "comment": "Happy with the delivery",
        "answered_on": TODAY.isoformat(),
    }
    return Call(w.km_anna, "/api/v1/survey-answers/", data, SurveyAnswer, _card_tab("surveys"))


def api_note_create(w):
    data = {"client": w.anna_client.pk, "text": "Calls after lunch", "visibility": "team"}
    return Call(w.km_anna, "/api/v1/dossier-notes/", data, DossierNote, _card_tab("dossier"))


def api_note_update(w):
    note = services.dossier_note_create(
        client=w.anna_client, acting_user=w.km_anna, text="Calls", visibility="team"
    )
    data = {"client": w.anna_client.pk, "text": "Calls after lunch", "visibility": "everyone"}
    url = f"/api/v1/dossier-notes/{note.pk}/"
    return Call(w.km_anna, url, data, (DossierNote, note.pk), _card_tab("dossier"))


def _plan_api_data(text_field: str, **target: Any) -> dict[str, Any]:
    return {
        **target,
        "period_kind": MONTH.kind,
        "period_start": MONTH.start.isoformat(),
        "amount": "100000.00",
        "share": "0.1250",
        text_field: "A stretch, agreed with the team",
    }


def api_plan_create(w):
    w.use("company")  # the teams: heads see their people
    data = _plan_api_data("note", client=w.anna_client.pk)
    return Call(w.head_gleb, "/api/v1/plans/", data, SalesPlan, _plans_page)


def api_plan_create_for_a_team(w):
    data = _plan_api_data("note", team=w.company["moscow"].pk)
    return Call(w.head_gleb, "/api/v1/plans/", data, SalesPlan, _plans_page)


def api_plan_create_for_a_manager(w):
    w.use("company")  # the teams: heads see their people
    data = _plan_api_data("note", manager=w.km_anna.pk)
    return Call(w.head_gleb, "/api/v1/plans/", data, SalesPlan, _plans_page)


def api_plan_update(w):
    w.use("company")  # the teams: heads see their people
    plan = plan_services.plan_set(
        acting_user=w.head_gleb,
        period_kind=MONTH.kind,
        period_start=MONTH.start,
        amount=Decimal(1000),
        client=w.anna_client,
    )
    data = _plan_api_data("note", client=w.anna_client.pk)
    return Call(w.head_gleb, f"/api/v1/plans/{plan.pk}/", data, (SalesPlan, plan.pk), _plans_page)


def api_forecast_create(w):
    data = _plan_api_data("comment", client=w.anna_client.pk)
    return Call(w.km_anna, "/api/v1/forecasts/", data, SalesForecast, _plans_page)


def api_forecast_create_for_a_manager(w):
    data = _plan_api_data("comment", manager=w.km_anna.pk)
    return Call(w.km_anna, "/api/v1/forecasts/", data, SalesForecast, _plans_page)


def api_forecast_update(w):
    forecast = plan_services.forecast_set(
        acting_user=w.km_anna,
        period_kind=MONTH.kind,
        period_start=MONTH.start,
        amount=Decimal(1000),
        client=w.anna_client,
    )
    data = _plan_api_data("comment", client=w.anna_client.pk)
    url = f"/api/v1/forecasts/{forecast.pk}/"
    return Call(w.km_anna, url, data, (SalesForecast, forecast.pk), _plans_page)


def api_deal_create(w):
    data = {
        "client": w.anna_client.pk,
        "kind": "new_business",
        "title": "Autumn supply",
        "stage": "qualification",
        "amount": "150000.00",
        "expected_close_on": SOON,
        "owner_id": w.km_anna.pk,
    }
    return Call(w.km_anna, "/api/v1/deals/", data, Deal, _board)


def api_deal_update(w):
    w.use("company")  # the teams: heads see their people
    deal = _deal(w)
    data = {
        "kind": "project",
        "title": "Autumn supply, phase 2",
        "amount": "200000.00",
        "expected_close_on": LATER,
        "owner_id": w.km_anna.pk,
        "updated_at": deal.updated_at.isoformat(),
    }
    return Call(w.head_gleb, f"/api/v1/deals/{deal.pk}/", data, (Deal, deal.pk), _board)


def api_deal_move(w):
    deal = _deal(w)
    data = {
        "stage": "lost",
        "lost_reason": "Price",
        "won_reason": "",
        "updated_at": deal.updated_at.isoformat(),
    }
    url = f"/api/v1/deals/{deal.pk}/move/"
    return Call(w.km_anna, url, data, (Deal, deal.pk), _card_tab("deals"))


def api_rule_set_create(w):
    w.use("company")  # the teams: heads see their people
    group = ProductGroupFactory(name="Крепёж")
    active = SegmentRuleSet.objects.active()
    segments = {
        key: dict(values)
        for key, values in SegmentRuleSetSerializer(active).data["segments"].items()
    }
    data = {
        "potential_mode": "amount",
        "potential_value": "1000000.00",
        "share_threshold": "0.1500",
        "priority": list(active.priority),
        "segments": segments,
        "group_limits": {
            str(group.pk): {"share_threshold": "0.2", "band_limits": ["0.02", "0.2", "0.6"]}
        },
        "comment": "Stricter share",
    }
    alias = {"GROUP": str(group.pk)}
    return Call(w.head_vera, "/api/v1/segment-rule-sets/", data, SegmentRuleSet, _rules_page, alias)


def api_override_set(w):
    w.use("company")  # the teams: heads see their people
    data = {"client": w.anna_client.pk, "segment": "A", "reason": "Strategic for the region"}
    return Call(w.head_gleb, "/api/v1/segment-overrides/", data, SegmentOverride, _override_page)


def api_override_remove(w):
    w.use("company")  # the teams: heads see their people
    client = w.anna_client
    segment_services.segment_override_set(
        client=client, segment="A", reason="Strategic", acting_user=w.head_gleb
    )
    url = f"/api/v1/segment-overrides/{client.pk}/"
    history = SegmentOverride.history.model
    return Call(w.head_gleb, url, {"reason": "The region plan changed"}, history, _override_page)


def api_token(w):
    data = {"username": w.km_anna.email, "password": PASSWORD}
    return Call(None, "/api/v1/auth/token/", data)


T, N, D, DT, R, C, B = "text", "number", "date", "datetime", "reference", "choice", "flag"
LIST_QUERY = "region={}"  # the client list's query string, as its forms carry it
# Two passwords that differ are refused on the second one.
_NEW_PASSWORD = Field("new_password1", T, keys=("new_password1", "new_password2"))
# Service standards in days: a huge one falls off the calendar in the overdue lists.
_A_DAYS, _A_CADENCE = "segments.A.max_days_between_touches", "segments.A.review_cadence_days"
_HUGE = frozenset({"huge"})
# A period at the end of the calendar has no period after it for the pages to link.
_PERIOD_START = Field(
    "period_start",
    D,
    attr="period_start",
    extra=(("month-of-9999", "9999-12-01"),),
    refuse=frozenset({"year-9999", "month-of-9999"}),
)

ENDPOINTS: tuple[Endpoint, ...] = (
    # Pages
    Endpoint(
        "page-client-create",
        page_client_create,
        (*_client_fields(with_holding="code"), Field("owner", R)),
    ),
    Endpoint(
        "page-client-edit",
        page_client_edit,
        (*_client_fields(with_holding="code"), Field("version", N)),
        short=True,
    ),
    Endpoint(
        "page-client-reassign",
        page_client_reassign,
        (Field("new_owner", R), Field("note", T, attr="note", shown=True, expect=_stripped)),
    ),
    Endpoint(
        "page-client-merge",
        page_client_merge,
        (Field("note", T, attr="note"),),
    ),
    Endpoint("page-contact-create", page_contact_create, _contact_fields()),
    Endpoint(
        "page-contact-edit",
        page_contact_edit,
        (*_contact_fields(), Field("version", N)),
        short=True,
    ),
    Endpoint(
        "page-touch-create",
        page_touch_create,
        (
            Field("kind", C),
            Field("occurred_at", DT),
            Field("contact", R),
            Field("purpose", C),
            Field("initiated_by", C),
            Field("duration_minutes", N, attr="duration_minutes"),
            Field("summary", T, attr="summary", shown=True, expect=_stripped),
            Field("outcome", T, attr="outcome", shown=True, expect=_stripped),
            Field("reactivation", B),
            Field("lapse_side", C),
            Field("lapse_reason", T),
            Field("next_title", T),
            Field("next_due_on", D),
        ),
    ),
    Endpoint(
        "page-task-create",
        page_task_create,
        (
            Field("title", T, attr="title", shown=True, expect=_stripped),
            Field("kind", C),
            Field("due_on", D, attr="due_on"),
            Field("assignee", R),
            Field("description", T, attr="description", expect=_stripped),
        ),
    ),
    Endpoint(
        "page-task-edit",
        page_task_edit,
        (
            Field("title", T, attr="title", shown=True, expect=_stripped),
            Field("kind", C),
            Field("due_on", D, attr="due_on"),
            Field("assignee", R),
            Field("description", T, attr="description", expect=_stripped),
            Field("version", N),
        ),
        short=True,
    ),
    Endpoint(
        "page-task-complete",
        page_task_complete,
        (Field("next", T),),
        form="",
    ),
    Endpoint(
        "page-touch-create-by-a-head",
        page_touch_create_by_a_head,
        (Field("next_assignee", R),),
    ),
    Endpoint(
        "page-survey-create",
        page_survey_create,
        (
            Field("kind", C),
            Field("score", N, attr="score"),
            Field("contact", R),
            # An answer cannot come from the future.
            Field("answered_on", D, attr="answered_on", refuse=frozenset({"year-9999"})),
            Field("comment", T, attr="comment", shown=True, expect=_stripped),
        ),
    ),
    Endpoint(
        "page-note-create",
        page_note_create,
        (Field("text", T, attr="text", shown=True, expect=_stripped), Field("visibility", C)),
    ),
    Endpoint(
        "page-note-edit",
        page_note_edit,
        (Field("text", T, attr="text", shown=True, expect=_stripped), Field("visibility", C)),
        short=True,
    ),
    Endpoint(
        "page-estimate-create",
        page_estimate_create,
        (
            Field("kind", C),
            Field("year", N, attr="year"),
            Field("amount", N, attr="amount"),
            Field("per_month", B),
            Field("product_group", R),
            Field("basis", C),
            Field("comment", T, attr="comment", expect=_stripped),
        ),
    ),
    Endpoint(
        "page-estimate-verify",
        page_estimate_verify,
        (
            Field("comment", T, attr="review_comment", shown=True, expect=_stripped),
            Field("next", T),
        ),
        form="",
    ),
    Endpoint(
        "page-estimate-reject",
        page_estimate_reject,
        (Field("comment", T, attr="review_comment", shown=True, expect=_stripped),),
        form="",
    ),
    Endpoint(
        "page-deal-create",
        page_deal_create,
        (
            Field("client", R),
            Field("kind", C),
            Field("title", T, attr="title", shown=True, expect=_stripped),
            Field("stage", C),
            Field("amount", N, attr="amount"),
            Field("expected_close_on", D, attr="expected_close_on"),
        ),
    ),
    Endpoint(
        "page-deal-edit",
        page_deal_edit,
        (
            Field("kind", C),
            Field("title", T, attr="title", shown=True, expect=_stripped),
            Field("amount", N, attr="amount"),
            Field("expected_close_on", D, attr="expected_close_on"),
            Field("owner", R),
            Field("updated_at_seen", DT),
        ),
        short=True,
    ),
    Endpoint(
        "page-deal-move",
        page_deal_move,
        (
            Field("stage", C),
            Field("reason", T, attr="lost_reason", shown=True, expect=_stripped),
            Field("updated_at", DT),
            Field("next", T),
        ),
        form="",
    ),
    Endpoint(
        "page-plan-set",
        page_plan_set,
        (
            Field("period_kind", C),
            _PERIOD_START,
            Field("amount", N, attr="amount"),
            Field("share_percent", N),
            Field("note", T, attr="note", expect=_stripped),
            Field("next", T),
        ),
    ),
    Endpoint(
        "page-forecast-set",
        page_forecast_set,
        (
            Field("period_kind", C),
            _PERIOD_START,
            Field("amount", N, attr="amount"),
            Field("share_percent", N),
            Field("comment", T, attr="comment", expect=_stripped),
        ),
        short=True,
    ),
    Endpoint(
        "page-saved-filter-create",
        page_saved_filter_create,
        (
            Field("name", T, attr="name", shown=True, expect=_stripped),
            Field("query", T, attr="query", expect=_list_query, template=LIST_QUERY),
        ),
        form="save_form",
    ),
    Endpoint(
        "page-bulk-task",
        page_bulk_task,
        (
            Field("ids", "ids", not_found=True),
            Field("all", B),
            Field("query", T, not_found=True, template=LIST_QUERY),
            Field("title", T, attr="title", shown=True, expect=_stripped),
            Field("kind", C),
            Field("due_on", D, attr="due_on"),
            Field("to_owners", C),
            Field("description", T, attr="description", expect=_stripped),
        ),
    ),
    Endpoint(
        "page-list-columns",
        page_list_columns,
        (Field("columns", "ids"), Field("query", T, template=LIST_QUERY)),
        form="",
    ),
    Endpoint(
        "page-client-export",
        page_client_export,
        (
            Field("ids", "ids", not_found=True),
            Field("query", T, not_found=True, template=LIST_QUERY),
        ),
        form="",
        writes=False,
    ),
    Endpoint(
        "page-import-new",
        page_import_new,
        (
            Field("kind", C),
            Field("file", "file"),
            Field("sheet", T),
            Field("create_missing_clients", B),
            Field("skip_invalid", B),
        ),
    ),
    Endpoint(
        "page-rules-edit",
        page_rules_edit,
        (
            Field("potential_mode", C),
            Field("potential_value", N, attr="potential_value"),
            Field("share_threshold_percent", N),
            Field("base_version", N),
            Field("comment", T, attr="comment", shown=True, expect=_stripped),
            Field("A_name", T, attr="segments.A.name", shown=True, expect=_stripped),
            Field("A_colour", T, attr="segments.A.colour", expect=_lower),
            Field("A_priority", C),
            Field("A_strategy", T, attr="segments.A.strategy", shown=True, expect=_stripped),
            Field("A_max_days_between_touches", N, attr=_A_DAYS, refuse=_HUGE),
            Field("A_serving_role", C),
            Field("A_key_account_plan_required", B),
            Field("A_review_cadence_days", N, attr=_A_CADENCE, refuse=_HUGE),
        ),
    ),
    Endpoint(
        "page-override-set",
        page_override_set,
        (Field("segment", C), Field("reason", T, attr="reason", shown=True, expect=_stripped)),
    ),
    Endpoint(
        "page-override-remove",
        page_override_remove,
        (Field("reason", T, attr="history_change_reason", shown=True, expect=_stripped),),
        form="remove_form",
    ),
    Endpoint(
        "page-language",
        page_language,
        (Field("language", C), Field("next", T)),
        form="",
        ignores_bad=True,
    ),
    Endpoint(
        "page-login",
        page_login,
        (Field("username", T), Field("password", T)),
        writes=False,
    ),
    Endpoint(
        "page-password-change",
        page_password_change,
        (Field("old_password", T), _NEW_PASSWORD, Field("new_password2", T)),
    ),
    Endpoint("page-password-reset", page_password_reset, (Field("email", T),), writes=False),
    Endpoint(
        "page-password-reset-confirm",
        page_password_reset_confirm,
        (_NEW_PASSWORD, Field("new_password2", T)),
    ),
    # API
    Endpoint(
        "api-client-create",
        api_client_create,
        (*_client_fields(with_holding="id"), Field("owner_id", R)),
        api=True,
    ),
    Endpoint(
        "api-client-update",
        api_client_update,
        (*_client_fields(with_holding="id"), Field("version", N)),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-client-reassign",
        api_client_reassign,
        (Field("new_owner_id", R), Field("note", T, attr="note", shown=True)),
        api=True,
        answers_record=False,
    ),
    Endpoint(
        "api-client-merge",
        api_client_merge,
        (Field("duplicate", R), Field("preview", B), Field("note", T, attr="note")),
        api=True,
        answers_record=False,
    ),
    Endpoint(
        "api-bulk-task",
        api_bulk_task,
        (
            Field("clients", "ids"),
            Field("title", T, attr="title", shown=True, expect=_stripped),
            Field("kind", C),
            Field("due_on", D, attr="due_on"),
            Field("description", T, attr="description", expect=_stripped),
            Field("to_owners", B),
        ),
        api=True,
        answers_record=False,
    ),
    Endpoint(
        "api-contact-create",
        api_contact_create,
        (Field("client", R), *_contact_fields()),
        api=True,
    ),
    Endpoint(
        "api-contact-update",
        api_contact_update,
        (*_contact_fields(), Field("version", N)),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-saved-filter-create",
        api_saved_filter_create,
        (
            Field("name", T, attr="name", shown=True, expect=_stripped),
            Field("query", T, attr="query", expect=_list_query, template=LIST_QUERY),
        ),
        api=True,
    ),
    Endpoint(
        "api-estimate-create",
        api_estimate_create,
        (
            Field("client", R),
            Field("kind", C),
            Field("year", N, attr="year"),
            Field("amount", N, attr="amount"),
            Field("per_month", B),
            Field("product_group", R),
            Field("basis", C),
            Field("comment", T, attr="comment"),
        ),
        api=True,
    ),
    Endpoint(
        "api-estimate-verify",
        api_estimate_verify,
        (Field("comment", T, attr="review_comment", shown=True),),
        api=True,
    ),
    Endpoint(
        "api-estimate-reject",
        api_estimate_reject,
        (Field("comment", T, attr="review_comment", shown=True),),
        api=True,
    ),
    Endpoint(
        "api-import-create",
        api_import_create,
        (
            Field("kind", C),
            Field("file", "file"),
            Field("sheet", T),
            Field("create_missing_clients", B),
            Field("skip_invalid", B),
            Field("confirm", B),
        ),
        api=True,
        multipart=True,
    ),
    Endpoint(
        "api-activity-create",
        api_activity_create,
        (
            Field("client", R),
            Field("contact", R),
            Field("kind", C),
            Field("purpose", C),
            Field("initiated_by", C),
            Field("occurred_at", DT),
            Field("duration_minutes", N, attr="duration_minutes"),
            Field("summary", T, attr="summary", shown=True),
            Field("outcome", T, attr="outcome", shown=True),
            Field("next_task", "object"),
            Field("next_task.title", T),
            Field("next_task.due_on", D),
            Field("next_task.assignee_id", R),
            # Back office only: a manager is refused whatever the id.
            Field("performed_by_id", R),
            Field("reactivation", "object"),
            Field("reactivation.side", C),
            Field("reactivation.reason", T),
        ),
        api=True,
    ),
    Endpoint(
        "api-task-create",
        api_task_create,
        (
            Field("client", R),
            Field("title", T, attr="title", shown=True),
            Field("kind", C),
            Field("due_on", D, attr="due_on"),
            Field("status", C),
            Field("description", T, attr="description"),
            Field("assignee_id", R),
        ),
        api=True,
    ),
    Endpoint(
        "api-task-update",
        api_task_update,
        (
            Field("client", R),
            Field("title", T, attr="title", shown=True),
            Field("kind", C),
            Field("due_on", D, attr="due_on"),
            Field("status", C),
            Field("description", T, attr="description"),
            Field("assignee_id", R),
            Field("version", N),
        ),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-survey-create",
        api_survey_create,
        (
            Field("client", R),
            Field("contact", R),
            Field("kind", C),
            Field("score", N, attr="score"),
            Field("comment", T, attr="comment", shown=True),
            Field("answered_on", D, attr="answered_on", refuse=frozenset({"year-9999"})),
        ),
        api=True,
    ),
    Endpoint(
        "api-note-create",
        api_note_create,
        (Field("client", R), Field("text", T, attr="text", shown=True), Field("visibility", C)),
        api=True,
    ),
    Endpoint(
        "api-note-update",
        api_note_update,
        (Field("client", R), Field("text", T, attr="text", shown=True), Field("visibility", C)),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-plan-create",
        api_plan_create,
        (
            Field("client", R, keys=("client", "level"), not_found=True),
            Field("period_kind", C),
            _PERIOD_START,
            Field("amount", N, attr="amount"),
            Field("share", N, attr="share"),
            Field("note", T, attr="note"),
        ),
        api=True,
    ),
    Endpoint(
        "api-plan-create-for-a-team",
        api_plan_create_for_a_team,
        (Field("team", R, keys=("team", "level"), not_found=True),),
        api=True,
    ),
    Endpoint(
        "api-plan-create-for-a-manager",
        api_plan_create_for_a_manager,
        (Field("manager", R, keys=("manager", "level"), not_found=True),),
        api=True,
    ),
    Endpoint(
        "api-plan-update",
        api_plan_update,
        (
            Field("client", R),
            Field("period_kind", C),
            Field("period_start", D),
            Field("amount", N, attr="amount"),
            Field("share", N, attr="share"),
            Field("note", T, attr="note"),
        ),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-forecast-create",
        api_forecast_create,
        (
            Field("client", R, keys=("client", "level"), not_found=True),
            Field("period_kind", C),
            _PERIOD_START,
            Field("amount", N, attr="amount"),
            Field("share", N, attr="share"),
            Field("comment", T, attr="comment"),
        ),
        api=True,
    ),
    Endpoint(
        "api-forecast-create-for-a-manager",
        api_forecast_create_for_a_manager,
        (Field("manager", R, keys=("manager", "level"), not_found=True),),
        api=True,
    ),
    Endpoint(
        "api-forecast-update",
        api_forecast_update,
        (
            Field("amount", N, attr="amount"),
            Field("share", N, attr="share"),
            Field("comment", T, attr="comment"),
        ),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-deal-create",
        api_deal_create,
        (
            Field("client", R),
            Field("kind", C),
            Field("title", T, attr="title", shown=True),
            Field("stage", C),
            Field("amount", N, attr="amount"),
            Field("expected_close_on", D, attr="expected_close_on"),
            Field("owner_id", R),
        ),
        api=True,
    ),
    Endpoint(
        "api-deal-update",
        api_deal_update,
        (
            Field("kind", C),
            Field("title", T, attr="title", shown=True),
            Field("amount", N, attr="amount"),
            Field("expected_close_on", D, attr="expected_close_on"),
            Field("owner_id", R),
            Field("updated_at", DT),
        ),
        api=True,
        method="patch",
        short=True,
    ),
    Endpoint(
        "api-deal-move",
        api_deal_move,
        (
            Field("stage", C),
            Field("lost_reason", T, attr="lost_reason", shown=True),
            Field("won_reason", T),
            Field("updated_at", DT),
        ),
        api=True,
    ),
    Endpoint(
        "api-rule-set-create",
        api_rule_set_create,
        (
            # Without the mode, the version in force's (a percentile) judges the value.
            Field("potential_mode", C, keys=("potential_mode", "potential_value")),
            Field("potential_value", N, attr="potential_value"),
            Field("share_threshold", N, attr="share_threshold"),
            Field("priority", "codes"),
            Field("segments", "object"),
            Field("segments.A.name", T, attr="segments.A.name", shown=True, expect=_stripped),
            Field("segments.A.colour", T, attr="segments.A.colour", expect=_lower),
            Field("segments.A.strategy", T, attr="segments.A.strategy", expect=_stripped),
            Field("segments.A.max_days_between_touches", N, attr=_A_DAYS, refuse=_HUGE),
            Field("segments.A.serving_role", C),
            Field("segments.A.key_account_plan_required", B),
            Field("segments.A.review_cadence_days", N, attr=_A_CADENCE, refuse=_HUGE),
            Field("group_limits", "object"),
            Field("group_limits.GROUP.share_threshold", N),
            Field("comment", T, attr="comment", shown=True),
        ),
        api=True,
    ),
    Endpoint(
        "api-override-set",
        api_override_set,
        (
            Field("client", R, not_found=True),
            Field("segment", C),
            Field("reason", T, attr="reason", shown=True),
        ),
        api=True,
        answers_record=False,
    ),
    Endpoint(
        "api-override-remove",
        api_override_remove,
        (Field("reason", T, attr="history_change_reason", shown=True, expect=_stripped),),
        api=True,
        method="delete",
        in_query=True,
        answers_record=False,
    ),
    Endpoint(
        "api-token",
        api_token,
        (Field("username", T), Field("password", T)),
        api=True,
    ),
)


# --- Sending, reading the answer, comparing the data --------------------------------


def _with_value(data: dict[str, Any], path: str, value: Any, alias: dict[str, str]) -> dict:
    """A copy of ``data`` with the value at ``path`` replaced (or left out)."""
    keys = [alias.get(key, key) for key in path.split(".")]
    result = dict(data)
    node = result
    for key in keys[:-1]:
        node[key] = dict(node[key])
        node = node[key]
    if value is MISSING:
        node.pop(keys[-1], None)
    else:
        node[keys[-1]] = value
    return result


def _json(data: Any) -> str:
    raws: list[str] = []

    def raw(value: Any) -> str:
        if not isinstance(value, Raw):
            raise TypeError(value)
        raws.append(value.text)
        return f"@@raw{len(raws) - 1}@@"

    text = json.dumps(data, default=raw)
    for index, number in enumerate(raws):
        text = text.replace(f'"@@raw{index}@@"', number)
    return text


def _form_value(value: Any) -> Any:
    if isinstance(value, bytes):
        return SimpleUploadedFile("upload.csv", value, content_type="text/csv")
    return value


def send(endpoint: Endpoint, call: Call, http: HttpClient, url: str, payload: dict) -> Any:
    if endpoint.in_query:
        return getattr(http, endpoint.method)(f"{url}?{urlencode(payload)}")
    if endpoint.api and not endpoint.multipart:
        body = _json(payload)
        return http.generic(endpoint.method.upper(), url, body, content_type="application/json")
    return http.post(url, {key: _form_value(value) for key, value in payload.items()})


def _context(response: Any, key: str) -> Any:
    context = getattr(response, "context", None)
    if not key or context is None:
        return None
    try:
        return context[key]
    except KeyError:
        return None


def _error_messages(response: Any) -> list[str]:
    request = getattr(response, "wsgi_request", None)
    if request is None or not hasattr(request, "_messages"):
        return []
    return [str(m) for m in get_messages(request) if m.level == messages.ERROR]


def refused(endpoint: Endpoint, response: Any) -> bool:
    if response.status_code >= 400:
        return True
    if endpoint.api:
        return False
    form = _context(response, endpoint.form)
    if response.status_code == 200 and form is not None and form.errors:
        return True
    return bool(_error_messages(response))


def names_the_field(endpoint: Endpoint, item: Field, response: Any) -> bool:
    keys = item.keys or (item.name.split(".")[0],)
    if endpoint.api:
        body = response.json()
        if not isinstance(body, dict):
            return False
        if response.status_code == 404 and item.not_found:
            return bool(body.get("detail"))
        return any(key in body for key in keys) or "non_field_errors" in body
    form = _context(response, endpoint.form)
    if form is not None and form.errors:
        return any(key in form.errors for key in keys) or "__all__" in form.errors
    if response.status_code == 404 and item.not_found:
        return True
    return bool(_error_messages(response))


def shows_the_message(endpoint: Endpoint, item: Field, response: Any) -> bool:
    """A page's refusal shows its message: on the field, or above the form."""
    form = _context(response, endpoint.form)
    if endpoint.api or form is None or not form.errors:
        return True
    keys = [*(item.keys or (item.name,)), "__all__"]
    problems = [str(error) for key in keys for error in form.errors.get(key, [])]
    body = response.content.decode()
    return any(escape(problem) in body for problem in problems)


@cache
def _counted_tables() -> tuple[str, ...]:
    labels = ("accounts", "crm", "segmentation", "authtoken")
    return tuple(
        model._meta.db_table
        for label in labels
        for model in apps.get_app_config(label).get_models(include_auto_created=True)
    )


# Every row of these is compared; every table of the apps is counted.
WATCHED: tuple[type[Model], ...] = (
    Client,
    ClientGrant,
    Contact,
    OwnershipChange,
    ClientMerge,
    Activity,
    Task,
    SurveyAnswer,
    DossierNote,
    Deal,
    WalletEstimate,
    SalesPlan,
    SalesForecast,
    SavedClientFilter,
    ImportRun,
    SegmentRuleSet,
    SegmentOverride,
)


def fingerprint() -> tuple[Any, ...]:
    """Every table's row count, and every row of the tables the endpoints write."""
    quote = connection.ops.quote_name
    counts = ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in _counted_tables())
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {counts}")
        row = cursor.fetchone()
    rows = [list(model._default_manager.order_by("pk").values()) for model in WATCHED]
    people = list(User.objects.order_by("pk").values(*_user_fields()))
    return (row, rows, people)


@cache
def _user_fields() -> tuple[str, ...]:
    return tuple(f.attname for f in User._meta.concrete_fields if f.name not in ("last_login",))


def _record(endpoint: Endpoint, call: Call, response: Any) -> Any:
    if call.record is None:
        return None
    if isinstance(call.record, tuple):
        model, pk = call.record
        return model._default_manager.get(pk=pk)
    model = call.record
    if endpoint.api and endpoint.answers_record:
        return model._default_manager.get(pk=response.json()["id"])
    return model._default_manager.order_by("pk").last()


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 80 else f"{text[:60]}… ({len(text)} characters)"


def _stored(record: Any, attr: str) -> Any:
    first, *inside = attr.split(".")
    value = getattr(record, first)
    for key in inside:
        value = value[key]
    return value


def _expected(item: Field, value: Any) -> Any:
    if item.expect is not None:
        return item.expect(value)
    if item.kind in ("number", "date") and value == "":
        return None
    if item.kind == "number":
        return Decimal(str(value))
    if item.kind == "date":
        return dt.date.fromisoformat(value)
    return value


def check_accepted(item: Field, value: Any, call: Call, record: Any, http: HttpClient) -> None:
    """A value taken is stored as given, and the record's page opens and escapes it."""
    if record is not None and item.attr and value is not MISSING:
        stored = _stored(record, item.attr)
        expected = _expected(item, value)
        if item.kind == "number" and stored is not None:
            stored = Decimal(str(stored))
        assert stored == expected, f"{item.attr} stored as {_short(stored)}, given {_short(value)}"
    if record is not None and call.show is not None and value is not MISSING:
        page = http.get(call.show(record))
        assert page.status_code == 200, page.status_code
        body = page.content.decode()
        assert SCRIPT not in body
        if value == SCRIPT and item.shown:
            assert escape(SCRIPT) in body, f"{item.attr} does not show on {call.show(record)}"


# --- The cases --------------------------------------------------------------------


# Bugs of files another change owns: the case and what goes wrong (see the report).
def _cases() -> list[Any]:
    cases = []
    for endpoint in ENDPOINTS:
        for item in endpoint.fields:
            as_json = endpoint.api and not (endpoint.multipart or endpoint.in_query)
            corpus = [*CORPUS[item.kind](as_json), *item.extra]
            for value_id, value in corpus:
                if endpoint.short and value_id not in SHORT.get(item.kind, {value_id}):
                    continue
                case_id = f"{endpoint.name}-{item.name}-{value_id}"
                cases.append(pytest.param(endpoint, item, value_id, value, id=case_id))
    return cases


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _open(endpoint: Endpoint, call: Call) -> tuple[HttpClient, str]:
    http = login(call.user) if call.user is not None else HttpClient()
    url = call.prepare(http) if call.prepare is not None else call.url
    return http, url


@pytest.mark.parametrize("endpoint", [pytest.param(e, id=e.name) for e in ENDPOINTS])
def test_a_valid_payload_is_accepted(request, endpoint):
    """The starting point of every case: without a bad value, the call does its work."""
    call = endpoint.build(World(request))
    http, url = _open(endpoint, call)
    before = fingerprint()
    response = send(endpoint, call, http, url, call.data)
    assert response.status_code < 400, getattr(response, "content", b"")[:2000]
    assert not refused(endpoint, response), _context(response, endpoint.form).errors
    if endpoint.writes:
        assert fingerprint() != before
    if not endpoint.api and endpoint.form:
        assert response.status_code == 302


@pytest.mark.parametrize(("endpoint", "item", "value_id", "value"), _cases())
def test_bad_input(request, endpoint, item, value_id, value):
    call = endpoint.build(World(request))
    http, url = _open(endpoint, call)
    if item.template and isinstance(value, str):
        value = item.template.format(value)
    payload = _with_value(call.data, item.name, value, call.alias)
    before = fingerprint()
    response = send(endpoint, call, http, url, payload)
    assert response.status_code < 500
    if value_id in item.refuse:
        assert refused(endpoint, response), f"{value_id} is no valid {item.name}"
    if refused(endpoint, response):
        assert fingerprint() == before, "a refused call changed the data"
        assert names_the_field(endpoint, item, response), (
            response.status_code,
            getattr(response, "content", b"")[:1000],
        )
        assert shows_the_message(endpoint, item, response), _context(response, endpoint.form).errors
        return
    assert response.status_code < 400
    form = _context(response, endpoint.form)
    if form is not None and not form.is_bound:
        # The step before (the bulk task's form asks for what the list sent).
        assert fingerprint() == before, "a page that only shows its form changed the data"
        return
    if not endpoint.api and endpoint.form:
        assert response.status_code == 302, "the page answered 200 without naming a problem"
    if endpoint.ignores_bad and fingerprint() == before:
        return
    check_accepted(item, value, call, _record(endpoint, call, response), http)


# --- Refusals speak the user's language -------------------------------------------

# The value each kind of field refuses whatever the endpoint.
PROBES = {
    "text": "nul",
    "number": "abc",
    "reference": "abc",
    "choice": "abc",
    "date": "feb-30",
    "datetime": "feb-30",
    "ids": "abc",
    "codes": "no-list",
    "object": "text",
    "file": "text-not-a-file",
}
CYRILLIC = re.compile("[А-Яа-яЁё]")


def _probes() -> list[Any]:
    """Per endpoint, its first field that a probe refuses by the field's own check."""
    cases = []
    for endpoint in ENDPOINTS:
        if endpoint.ignores_bad:
            continue
        for item in endpoint.fields:
            probe = PROBES.get(item.kind)
            # Where to go next is never refused: a bad one means the default page.
            if probe is None or item.not_found or item.name == "next":
                continue
            as_json = endpoint.api and not (endpoint.multipart or endpoint.in_query)
            value = dict(CORPUS[item.kind](as_json))[probe]
            case_id = f"{endpoint.name}-{item.name}-{probe}"
            cases.append(pytest.param(endpoint, item, value, id=case_id))
            break
    return cases


def _strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [text for value in data.values() for text in _strings(value)]
    if isinstance(data, list):
        return [text for value in data for text in _strings(value)]
    return [str(data)]


def _refusal_texts(endpoint: Endpoint, response: Any) -> list[str]:
    """The messages a refusal shows: the JSON's, the page's errors, the flashed ones."""
    if endpoint.api:
        return _strings(response.json())
    texts = _error_messages(response)
    if response.status_code != 302:
        body = response.content.decode()
        texts += re.findall(r'<p class="error"[^>]*>(.*?)</p>', body, re.S)
        texts += re.findall(r'<div class="form-errors"[^>]*>(.*?)</div>', body, re.S)
    return texts


@pytest.mark.parametrize(("endpoint", "item", "value"), _probes())
def test_a_refusal_speaks_the_users_language(request, endpoint, item, value):
    call = endpoint.build(World(request))
    if call.user is not None:
        call.user.language = "ru"
        call.user.save(update_fields=["language"])
    http, url = _open(endpoint, call)
    http.defaults["HTTP_ACCEPT_LANGUAGE"] = "ru"
    payload = _with_value(call.data, item.name, value, call.alias)
    response = send(endpoint, call, http, url, payload)
    assert refused(endpoint, response)
    texts = _refusal_texts(endpoint, response)
    assert any(CYRILLIC.search(text) for text in texts), texts


# --- An unknown id in the address ------------------------------------------------

ADDRESSES = [
    ("post", "/clients/{id}/edit/"),
    ("post", "/clients/{id}/reassign/"),
    ("post", "/clients/{id}/merge/{id}/"),
    ("post", "/clients/{id}/contacts/new/"),
    ("post", "/clients/{id}/contacts/{id}/edit/"),
    ("post", "/clients/{id}/touches/new/"),
    ("post", "/clients/{id}/tasks/new/"),
    ("post", "/clients/{id}/surveys/new/"),
    ("post", "/clients/{id}/notes/new/"),
    ("post", "/clients/{id}/estimates/new/"),
    ("post", "/clients/tasks/{id}/edit/"),
    ("post", "/clients/tasks/{id}/complete/"),
    ("post", "/clients/notes/{id}/edit/"),
    ("post", "/clients/estimates/{id}/verify/"),
    ("post", "/clients/estimates/{id}/reject/"),
    ("post", "/clients/deals/new/?client={id}"),
    ("post", "/clients/deals/{id}/edit/"),
    ("post", "/clients/deals/{id}/move/"),
    ("post", "/clients/plans/client/{id}/plan/"),
    ("post", "/clients/plans/manager/{id}/plan/"),
    ("post", "/clients/plans/team/{id}/plan/"),
    ("post", "/clients/plans/client/{id}/forecast/"),
    ("post", "/clients/saved-filters/{id}/delete/"),
    ("post", "/clients/imports/{id}/confirm/"),
    ("post", "/clients/imports/{id}/cancel/"),
    ("post", "/segments/overrides/{id}/"),
    ("patch", "/api/v1/clients/{id}/"),
    ("post", "/api/v1/clients/{id}/reassign/"),
    ("post", "/api/v1/clients/{id}/merge/"),
    ("patch", "/api/v1/contacts/{id}/"),
    ("delete", "/api/v1/saved-filters/{id}/"),
    ("post", "/api/v1/estimates/{id}/verify/"),
    ("post", "/api/v1/estimates/{id}/reject/"),
    ("post", "/api/v1/imports/{id}/confirm/"),
    ("post", "/api/v1/imports/{id}/cancel/"),
    ("patch", "/api/v1/tasks/{id}/"),
    ("patch", "/api/v1/dossier-notes/{id}/"),
    ("patch", "/api/v1/plans/{id}/"),
    ("patch", "/api/v1/forecasts/{id}/"),
    ("patch", "/api/v1/deals/{id}/"),
    ("post", "/api/v1/deals/{id}/move/"),
    ("delete", "/api/v1/segment-overrides/{id}/?reason=x"),
]


@pytest.mark.parametrize("number", [999999999, HUGE], ids=["unknown-id", "huge"])
@pytest.mark.parametrize(("method", "address"), ADDRESSES, ids=[f"{m}-{a}" for m, a in ADDRESSES])
def test_an_unknown_id_in_the_address_is_a_404(company, head_gleb, method, address, number):
    http = login(head_gleb)
    before = fingerprint()
    url = address.format(id=number)
    if url.startswith("/api/"):
        response = http.generic(method.upper(), url, "{}", content_type="application/json")
    else:
        response = getattr(http, method)(url, {})
    assert response.status_code == 404
    assert fingerprint() == before


# --- The period picker of the plans pages (?kind=&start=) --------------------------

PERIOD_ADDRESSES = [
    ("head_gleb", "/clients/plans/"),
    ("head_gleb", "/clients/plans/manager/{manager}/"),
    ("head_gleb", "/clients/plans/client/{client}/plan/"),
    ("km_anna", "/clients/plans/client/{client}/forecast/"),
    ("head_gleb", "/api/v1/plans/rollup/"),
]
BAD_STARTS = [
    *((value_id, value) for value_id, value in _date(False) if value is not MISSING),
    ("month-of-9999", "9999-12-01"),
    ("year-1", "0001-01-01"),
]


@pytest.mark.parametrize(("start_id", "start"), BAD_STARTS, ids=[i for i, _v in BAD_STARTS])
@pytest.mark.parametrize("kind", ["month", "year"])
@pytest.mark.parametrize(
    ("user", "address"), PERIOD_ADDRESSES, ids=[a for _u, a in PERIOD_ADDRESSES]
)
def test_a_bad_period_in_the_address_is_no_500(
    request, company, km_anna, anna_client, user, address, kind, start_id, start
):
    """A page falls back to the current period; the API names the bad parameter."""
    http = login(request.getfixturevalue(user))
    url = address.format(manager=km_anna.pk, client=anna_client.pk)
    response = http.get(url, {"kind": kind, "start": start})
    if url.startswith("/api/"):
        assert response.status_code in (200, 400)
        if response.status_code == 400:
            assert "start" in response.json()
    else:
        assert response.status_code == 200
