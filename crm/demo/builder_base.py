"""The state and plumbing every generation step shares.

The steps are mixins of ``_BuilderBase`` grouped by use case (builder_setup,
builder_clients, builder_shipments, builder_work, builder_sales) and put
together, in their fixed order, by ``builder._Builder``. What one step leaves
for the later ones is declared here.
"""

from __future__ import annotations

import random
import time as clock
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.utils import timezone

from accounts.models import User
from crm.demo.helpers import add_months
from crm.demo.options import (
    BoolArray,
    ByteMatrix,
    DemoOptions,
    DemoResult,
    FloatArray,
    IntArray,
    Progress,
)
from crm.demo.vocabulary_people import FEMALE_NAMES, MALE_NAMES, SURNAMES
from crm.models import ClientGrant, ProductGroup


class _BuilderBase:
    """The random streams, the date window and what the steps pass on to each other."""

    # Staff (builder_setup).
    users: list[User]
    emails: list[str]
    admin: User
    by_role: dict[str, list[int]]
    roles_of: list[frozenset[str]]
    reviewer: list[int]
    # Catalogue (builder_setup).
    price_kop: IntArray
    whole_units: BoolArray
    group_cdf: FloatArray
    group_start: IntArray
    product_group: IntArray
    group_weight: FloatArray
    n_groups: int
    product_pk: IntArray
    group_pk: list[int]
    groups: list[ProductGroup]
    # Client plan and clients (builder_clients).
    kind: IntArray
    sales: IntArray
    size: FloatArray
    region: IntArray
    industry: IntArray
    parent: IntArray
    names: list[str]
    inns: list[str]
    kpps: list[str]
    domains: list[str]
    lo: IntArray
    hi: IntArray
    pin_lo: BoolArray
    freq: FloatArray
    p_lines: FloatArray
    growth: FloatArray
    discount: npt.NDArray[Any]  # floats; numpy's stubs type Generator.choice as integers
    created_day: IntArray
    owner: IntArray
    initial_owner: IntArray
    buying: BoolArray
    client_pk: IntArray
    # Shipments (builder_shipments).
    scale: float
    last_order: IntArray
    first_order: IntArray
    revenue_12m: FloatArray
    revenue_all: FloatArray
    group_revenue_12m: FloatArray
    date_bytes: ByteMatrix
    email_bytes: ByteMatrix
    # Contacts (builder_work) and access grants (builder_sales).
    contact_pks: list[list[int]]
    granted: set[tuple[int, int, str]]
    pending_grants: list[ClientGrant]

    def __init__(self, options: DemoOptions, say: Progress) -> None:
        self.opt = options
        self.say = say
        self.rnd = random.Random(options.seed)
        self.rng = np.random.default_rng(options.seed)
        self.result = DemoResult()
        self.tz = timezone.get_default_timezone()
        self.as_of = options.as_of
        self.start = add_months(options.as_of, -options.months) + timedelta(days=1)
        self.T = (self.as_of - self.start).days  # as-of as a day number; window is [0, T]
        self.step_started = clock.perf_counter()

    # -- plumbing --------------------------------------------------------

    def _done(self, what: str, count: int) -> None:
        self.result.counts[what] = count
        now = clock.perf_counter()
        self.say(f"  {what:<22} {count:>12,}   {now - self.step_started:6.1f} s")
        self.step_started = now

    def at(self, day: int, hour: int = 10, minute: int = 0) -> datetime:
        """An aware moment on window day ``day`` (may be before the window)."""
        return datetime.combine(self.start + timedelta(days=day), time(hour, minute), self.tz)

    def workday(self, day: int) -> int:
        """The day itself, or the Friday before when it falls on a weekend."""
        weekday = (self.start + timedelta(days=day)).weekday()
        return day - max(0, weekday - 4)

    def person(self) -> tuple[str, str, str, bool]:
        """(first name, patronymic, surname, is_female) of a random Russian person."""
        father = self.rnd.choice(MALE_NAMES)
        surname = self.rnd.choice(SURNAMES)
        if self.rnd.random() < 0.5:
            return self.rnd.choice(FEMALE_NAMES), father[2], surname[1], True
        first = self.rnd.choice(MALE_NAMES)
        return first[0], father[1], surname[0], False

    def pick(self, role: str) -> int:
        return self.rnd.choice(self.by_role[role])

    def users_roles(self, index: int) -> frozenset[str]:
        return self.roles_of[index]
