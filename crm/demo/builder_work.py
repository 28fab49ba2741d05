"""Generation steps of the day-to-day work with clients: contacts, activities and tasks."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from accounts.choices import Role
from crm import choices
from crm.demo.builder_base import _BuilderBase
from crm.demo.bulk import _create_with_history, _insert_rows
from crm.demo.helpers import translit
from crm.demo.options import LOST, NEW, PROSPECT, ROWS_PER_BATCH, SLEEPING, TYPICAL_REVENUE
from crm.demo.vocabulary_people import (
    ATTITUDE_WEIGHTS,
    ATTITUDES,
    MIDDLE_POSITIONS,
    OPERATIONAL_POSITIONS,
    TOP_POSITIONS,
)
from crm.demo.vocabulary_texts import ACTIVITY_OUTCOMES, ACTIVITY_SUMMARIES, TASK_TITLES
from crm.models import Activity, Contact, Task
from crm.models.contacts import phone_digits


class _WorkSteps(_BuilderBase):
    """The people at each client, what was done with them, and what is still to do."""

    # -- contacts --------------------------------------------------------

    def _contacts(self) -> None:
        """1–5 people per client; the first is the top decision maker the others report to."""
        rnd, n = self.rnd, self.opt.clients
        counts = []
        for i in range(n):
            extra = math.log10(max(self.size[i], 1) / TYPICAL_REVENUE)
            k = 1 + min(4, max(0, round(rnd.gauss(1.2 + extra, 1.0))))
            counts.append(min(k, 2) if not self.buying[i] else k)
        self.contact_pks: list[list[int]] = [[] for _ in range(n)]
        total = 0
        for start in range(0, n, ROWS_PER_BATCH):
            block = range(start, min(n, start + ROWS_PER_BATCH))
            bosses = [self._contact(i, level="top", boss=None) for i in block]
            for i, obj in zip(
                block, _create_with_history(Contact, bosses, self.admin), strict=True
            ):
                self.contact_pks[i].append(obj.pk)
            others: list[tuple[int, Contact]] = []
            for i in block:
                for _ in range(counts[i] - 1):
                    level = rnd.choices(("top", "middle", "operational"), weights=(15, 45, 40))[0]
                    boss = self.contact_pks[i][0] if level != "top" and rnd.random() < 0.7 else None
                    others.append((i, self._contact(i, level=level, boss=boss)))
            created = _create_with_history(Contact, (c for _, c in others), self.admin)
            for (i, _), obj in zip(others, created, strict=True):
                self.contact_pks[i].append(obj.pk)
            total += len(bosses) + len(others)
        self._done("contacts", total)

    def _contact(self, i: int, *, level: str, boss: int | None) -> Contact:
        rnd = self.rnd
        first, patronymic, last, _female = self.person()
        if level == "top":
            position, department = rnd.choice(TOP_POSITIONS)
            role = (
                choices.DecisionRole.DECISION_MAKER
                if boss is None or rnd.random() < 0.5
                else choices.DecisionRole.INFLUENCER
            )
            influence = choices.Influence.HIGH
        elif level == "middle":
            position, department = rnd.choice(MIDDLE_POSITIONS)
            role = rnd.choices(
                (
                    choices.DecisionRole.INFLUENCER,
                    choices.DecisionRole.BUYING_GROUP,
                    choices.DecisionRole.USER,
                ),
                weights=(40, 45, 15),
            )[0]
            influence = rnd.choice((choices.Influence.MEDIUM, choices.Influence.HIGH))
        else:
            position, department = rnd.choice(OPERATIONAL_POSITIONS)
            role = (
                choices.DecisionRole.GATEKEEPER
                if position == "Секретарь"
                else rnd.choices(
                    (choices.DecisionRole.USER, choices.DecisionRole.BUYING_GROUP), weights=(65, 35)
                )[0]
            )
            influence = rnd.choice((choices.Influence.LOW, choices.Influence.MEDIUM))
        # Entered with the client: activities never predate their contact.
        created_day = int(self.created_day[i])
        contact = Contact(
            client_id=int(self.client_pk[i]),
            full_name=f"{last} {first} {patronymic}",
            position=position,
            department=department,
            level=level,
            phone=f"+7 (9{rnd.randint(10, 99)}) {rnd.randint(100, 999)}-{rnd.randint(10, 99)}-"
            f"{rnd.randint(10, 99)}",
            email=f"{translit(first)[0]}.{translit(last)}@{self.domains[i]}"
            if rnd.random() < 0.7
            else "",
            decision_role=role,
            influence=influence,
            attitude=rnd.choices(ATTITUDES, weights=ATTITUDE_WEIGHTS)[0],
            reports_to_id=boss,
            is_active=rnd.random() < 0.95,
            created_at=self.at(created_day, 11),
        )
        contact.phone_digits = phone_digits(contact.phone)  # bulk_create skips save()
        contact._history_date = contact.created_at  # type: ignore[attr-defined]
        return contact

    # -- activities ------------------------------------------------------

    def _activities(self) -> None:
        rnd, T = self.rnd, self.T
        back_office = self.by_role[Role.BACK_OFFICE]
        kinds = [k.value for k in choices.ActivityKind]
        purposes = choices.ActivityPurpose
        durations = {"call": (5, 30), "meeting": (30, 120), "visit": (60, 180)}
        columns = [
            "client_id",
            "contact_id",
            "kind",
            "purpose",
            "initiated_by",
            "occurred_at",
            "duration_minutes",
            "performed_by_id",
            "entered_by_id",
            "summary",
            "outcome",
        ]

        def rows() -> Iterator[tuple[Any, ...]]:
            for i in range(self.opt.clients):
                kind = int(self.kind[i])
                size_factor = min(3.0, (self.size[i] / TYPICAL_REVENUE) ** 0.3)
                if kind == PROSPECT:
                    count, lo, hi = 1 + rnd.randint(0, 2), int(self.created_day[i]), T
                    purpose_pool = [purposes.ACQUISITION]
                elif kind == LOST:
                    last = int(self.last_order[i])
                    count, lo, hi = rnd.randint(0, 3), last - 120, min(T, last + 200)
                    purpose_pool = [purposes.RETENTION, purposes.RETENTION, purposes.SALE]
                elif kind == SLEEPING:
                    count, lo, hi = 1 + rnd.randint(0, 3), T - 365, T
                    purpose_pool = [purposes.RETENTION, purposes.RETENTION, purposes.SALE]
                elif kind == NEW:
                    count, lo, hi = 2 + rnd.randint(0, 4), int(self.created_day[i]), T
                    purpose_pool = [
                        purposes.ACQUISITION,
                        purposes.SALE,
                        purposes.SALE,
                        purposes.SERVICE,
                    ]
                else:
                    count, lo, hi = round(rnd.uniform(2, 6) * size_factor), T - 365, T
                    purpose_pool = (
                        [purposes.SALE] * 4
                        + [purposes.SERVICE] * 3
                        + [purposes.DEVELOPMENT] * 2
                        + [purposes.RETENTION]
                    )
                lo = max(lo, int(self.created_day[i]), 0)
                hi = max(lo, hi)
                owner = self.users[int(self.owner[i])].pk
                consultative = int(self.sales[i]) >= 2
                for _ in range(count):
                    activity_kind = rnd.choices(
                        kinds, weights=(30, 25, 20, 20, 5) if consultative else (50, 12, 8, 25, 5)
                    )[0]
                    purpose = rnd.choice(purpose_pool)
                    span = durations.get(activity_kind)
                    day = max(lo, self.workday(rnd.randint(lo, hi)))
                    yield (
                        int(self.client_pk[i]),
                        rnd.choice(self.contact_pks[i]) if rnd.random() < 0.85 else None,
                        activity_kind,
                        purpose,
                        choices.Initiator.CLIENT if rnd.random() < 0.25 else choices.Initiator.US,
                        self.at(min(day, T), rnd.randint(9, 17), rnd.choice((0, 15, 30, 45))),
                        rnd.randint(*span) if span else None,
                        owner,
                        self.users[rnd.choice(back_office)].pk if rnd.random() < 0.15 else owner,
                        rnd.choice(ACTIVITY_SUMMARIES[purpose]),
                        rnd.choice(ACTIVITY_OUTCOMES) if rnd.random() < 0.4 else "",
                    )

        self._done("activities", _insert_rows(Activity, columns, rows()))

    # -- tasks -----------------------------------------------------------

    def _tasks(self) -> None:
        rnd, T = self.rnd, self.T
        tasks: list[Task] = []
        for i in range(self.opt.clients):
            kind = int(self.kind[i])
            if rnd.random() > (0.5 if kind in (PROSPECT, SLEEPING, NEW) else 0.3):
                continue
            owner = self.users[int(self.owner[i])]
            if kind == SLEEPING:
                task_kind = choices.TaskKind.REACTIVATION
            elif kind != PROSPECT and rnd.random() < 0.25:
                task_kind = choices.TaskKind.ESTIMATE
            else:
                task_kind = rnd.choice((choices.TaskKind.TOUCH, choices.TaskKind.OTHER))
            # As seen on the as-of date: a quarter overdue, some due that day, the rest
            # ahead; the first two are one of each, so even a tiny demo shows both.
            when = (0.0, 0.3)[len(tasks)] if len(tasks) < 2 else rnd.random()
            due = (
                T - rnd.randint(1, 30)
                if when < 0.25
                else T
                if when < 0.4
                else T + rnd.randint(1, 30)
            )
            due = max(due, int(self.created_day[i]) + 1)  # never due before it existed
            status, completed = choices.TaskStatus.OPEN, None
            if rnd.random() < 0.15 and due < T and len(tasks) >= 2:
                status, completed = choices.TaskStatus.DONE, self.at(due, 16)
            creator = owner if rnd.random() < 0.8 else self.users[self.reviewer[int(self.owner[i])]]
            created = self.at(
                max(int(self.created_day[i]), min(due, T) - rnd.randint(1, 20)), 9, 30
            )
            task = Task(
                client_id=int(self.client_pk[i]),
                title=rnd.choice(TASK_TITLES[task_kind]),
                kind=task_kind,
                due_on=self.start + timedelta(days=due),
                assignee=owner,
                created_by=creator,
                status=status,
                created_at=created,
                completed_at=completed,
            )
            task._history_date = created  # type: ignore[attr-defined]
            tasks.append(task)
        self._done("tasks", len(_create_with_history(Task, tasks, self.admin)))
