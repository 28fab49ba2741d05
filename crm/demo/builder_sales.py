"""Generation steps of account management: the ownership ledger and access
grants, deals, and turnover/wallet estimates."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from accounts.choices import Role
from crm import choices
from crm.demo.builder_base import _BuilderBase
from crm.demo.bulk import _create_with_history, _insert_rows
from crm.demo.options import NEW, PROSPECT, TYPICAL_REVENUE
from crm.demo.vocabulary_texts import (
    LOST_REASONS,
    NEW_BUSINESS_TITLES,
    PROJECT_TITLES,
    REJECT_COMMENTS,
)
from crm.models import ClientGrant, Deal, OwnershipChange, WalletEstimate


@dataclass(frozen=True)
class _EstimateSpec:
    """What distinguishes one estimate row of a client from another."""

    client: int
    amount: float
    kind: str
    status: str
    day: int
    year: int
    basis: str
    comment: str = ""
    group: int | None = None


class _SalesSteps(_BuilderBase):
    """Who owns and may see each client, the deals, and what each client could buy."""

    # -- ownership ledger and access grants --------------------------------

    def _ownership_and_grants(self) -> None:
        rnd, T = self.rnd, self.T
        changes: list[tuple[Any, ...]] = []
        grants: list[ClientGrant] = []
        granted: set[tuple[int, int, str]] = set()
        admin = self.admin.pk
        for i in range(self.opt.clients):
            client, owner, initial = (
                int(self.client_pk[i]),
                int(self.owner[i]),
                int(self.initial_owner[i]),
            )
            created = self.at(int(self.created_day[i]), 9)
            changes.append(
                (
                    client,
                    None,
                    self.users[initial].pk,
                    choices.OwnershipChangeKind.INITIAL,
                    admin,
                    created,
                    "",
                )
            )
            if initial != owner and self.first_order[i] >= 0:
                day = min(T, int(self.first_order[i]) + rnd.randint(5, 45))
                head = self.users[self.reviewer[owner]].pk
                changes.append(
                    (
                        client,
                        self.users[initial].pk,
                        self.users[owner].pk,
                        choices.OwnershipChangeKind.HANDOFF,
                        head,
                        self.at(day, 15),
                        "Передача после первой продажи",
                    )
                )
            roles = self.users_roles(owner)
            candidate: tuple[int, str, str] | None = None
            if (
                int(self.sales[i]) == 2
                and Role.KM in roles
                and self.buying[i]
                and rnd.random() < 0.5
            ):
                candidate = (
                    self.pick(Role.PM),
                    choices.GrantReason.CO_OWNER,
                    choices.GrantLevel.EDIT,
                )
            elif Role.KM in roles and self.size[i] > 6 * TYPICAL_REVENUE and rnd.random() < 0.4:
                candidate = (self.pick(Role.KAM), choices.GrantReason.KAM, choices.GrantLevel.READ)
            elif int(self.kind[i]) == NEW and Role.DEVELOPER in roles and rnd.random() < 0.5:
                candidate = (
                    self.pick(Role.KM),
                    choices.GrantReason.CO_OWNER,
                    choices.GrantLevel.EDIT,
                )
            if candidate and candidate[0] != owner:
                granted.add((i, candidate[0], candidate[1]))
                grant = ClientGrant(
                    client_id=client,
                    user_id=self.users[candidate[0]].pk,
                    level=candidate[2],
                    reason=candidate[1],
                    granted_by_id=self.users[self.reviewer[owner]].pk,
                    granted_at=self.at(
                        min(T, max(int(self.created_day[i]), 0) + rnd.randint(0, 30)), 12
                    ),
                )
                grant._history_date = grant.granted_at  # type: ignore[attr-defined]
                grants.append(grant)
        columns = [
            "client_id",
            "from_user_id",
            "to_user_id",
            "kind",
            "changed_by_id",
            "changed_at",
            "note",
        ]
        self._done("ownership changes", _insert_rows(OwnershipChange, columns, changes))
        self.granted = granted
        self.pending_grants = grants

    # -- deals -----------------------------------------------------------

    def _deals(self) -> None:
        rnd, T, n = self.rnd, self.T, self.opt.clients
        projects = [i for i in range(n) if self.buying[i] and int(self.sales[i]) >= 2]
        newcomers = [i for i in range(n) if int(self.kind[i]) in (PROSPECT, NEW)]
        wanted = max(3, round(n * 0.04))
        chosen = rnd.sample(projects, min(len(projects), wanted // 2))
        chosen += rnd.sample(newcomers, min(len(newcomers), wanted - len(chosen)))
        stages = [s.value for s in choices.DealStage]
        weights = (15, 12, 15, 10, 8, 22, 18)
        deals: list[Deal] = []
        for number, i in enumerate(chosen):
            project = self.buying[i] and int(self.sales[i]) >= 2 and int(self.kind[i]) != NEW
            stage = (
                ("won", "lost")[number] if number < 2 else rnd.choices(stages, weights=weights)[0]
            )
            created_day = max(int(self.created_day[i]), T - rnd.randint(10, 300))
            closed = min(T, created_day + rnd.randint(10, 120))
            owner = self.pick(Role.PM) if project else int(self.owner[i])
            deal = Deal(
                client_id=int(self.client_pk[i]),
                kind=choices.DealKind.PROJECT if project else choices.DealKind.NEW_BUSINESS,
                title=rnd.choice(PROJECT_TITLES)
                if project
                else f"{rnd.choice(NEW_BUSINESS_TITLES)}: "
                f"{self.groups[rnd.randrange(self.n_groups)].name.lower()}",
                stage=stage,
                amount=Decimal(max(10_000, round(self.size[i] * rnd.uniform(0.1, 0.8), -3))),
                expected_close_on=None
                if stage in ("won", "lost")
                else self.as_of + timedelta(days=rnd.randint(5, 120)),
                owner=self.users[owner],
                closed_on=self.start + timedelta(days=closed) if stage in ("won", "lost") else None,
                lost_reason=rnd.choice(LOST_REASONS) if stage == "lost" else "",
                created_at=self.at(created_day, 12),
            )
            deal._history_date = deal.created_at  # type: ignore[attr-defined]
            deals.append(deal)
            if (
                project
                and owner != int(self.owner[i])
                and (i, owner, choices.GrantReason.PROJECT) not in self.granted
            ):
                self.granted.add((i, owner, choices.GrantReason.PROJECT))
                grant = ClientGrant(
                    client_id=int(self.client_pk[i]),
                    user_id=self.users[owner].pk,
                    level=choices.GrantLevel.EDIT,
                    reason=choices.GrantReason.PROJECT,
                    granted_by_id=self.users[self.reviewer[int(self.owner[i])]].pk,
                    granted_at=deal.created_at,
                )
                grant._history_date = grant.granted_at  # type: ignore[attr-defined]
                self.pending_grants.append(grant)
        self._done("deals", len(_create_with_history(Deal, deals, self.admin)))
        self._done(
            "access grants", len(_create_with_history(ClientGrant, self.pending_grants, self.admin))
        )

    # -- turnover and wallet estimates ----------------------------------------

    def _estimates(self) -> None:
        """Wallets for ~60 % of buying clients at 1.5–20x their yearly revenue.

        The domain says managers under-estimate, so a head verifies or rejects
        each estimate: most are verified, a third are drafts, some rejected
        (and often re-entered higher). A few clients also get per-group
        wallets, a turnover estimate or last year's wallet.
        """
        rnd, T = self.rnd, self.T
        year = self.as_of.year
        rows: list[WalletEstimate] = []
        span_years = np.maximum(self.last_order - np.maximum(self.first_order, 0), 30) / 365.0
        wallets = 0
        for i in range(self.opt.clients):
            if not self.buying[i] or rnd.random() > 0.6:
                continue
            recent = float(self.revenue_12m[i])
            yearly = max(recent if recent > 0 else self.revenue_all[i] / span_years[i], 50_000.0)
            wallet = round(yearly * math.exp(rnd.uniform(math.log(1.5), math.log(20))), -4)
            statuses = (
                choices.EstimateStatus.VERIFIED,
                choices.EstimateStatus.DRAFT,
                choices.EstimateStatus.REJECTED,
            )
            # The first three wallets show one status each, however small the demo.
            wallets += 1
            status = (
                statuses[wallets - 1]
                if wallets <= len(statuses)
                else rnd.choices(statuses, weights=(55, 33, 12))[0]
            )
            day = T - rnd.randint(3, 240)
            by_outlets = rnd.random() < 0.3
            basis = (
                choices.EstimateBasis.OUTLETS
                if by_outlets
                else rnd.choice(
                    (
                        choices.EstimateBasis.CLIENT,
                        choices.EstimateBasis.EXPERT,
                        choices.EstimateBasis.FINANCIALS,
                    )
                )
            )
            base = _EstimateSpec(
                client=i,
                amount=wallet,
                kind=choices.EstimateKind.WALLET,
                status=status,
                day=day,
                year=year,
                basis=basis,
                comment="Оценка по числу торговых точек" if by_outlets else "",
            )
            rows.append(self._estimate(base))
            if status == choices.EstimateStatus.REJECTED and rnd.random() < 0.6:
                rows.append(
                    self._estimate(
                        replace(
                            base,
                            amount=wallet * rnd.uniform(1.5, 3),
                            status=choices.EstimateStatus.DRAFT,
                            day=min(T, day + rnd.randint(15, 40)),
                            comment="",
                        )
                    )
                )
            if status == choices.EstimateStatus.VERIFIED and rnd.random() < 0.3:
                top = np.argsort(-self.group_revenue_12m[i], kind="stable")[: rnd.randint(1, 3)]
                for g in map(int, top):
                    group_revenue = float(self.group_revenue_12m[i, g])
                    if group_revenue > 0:
                        spec = replace(
                            base,
                            amount=group_revenue * rnd.uniform(1.5, 10),
                            group=g,
                            comment="",
                        )
                        rows.append(self._estimate(spec))
            if rnd.random() < 0.3:
                turnover = replace(
                    base,
                    amount=wallet * rnd.uniform(3, 30),
                    kind=choices.EstimateKind.TURNOVER,
                    status=rnd.choice(
                        (choices.EstimateStatus.VERIFIED, choices.EstimateStatus.DRAFT)
                    ),
                    basis=rnd.choice(
                        (choices.EstimateBasis.FINANCIALS, choices.EstimateBasis.CLIENT)
                    ),
                    comment="",
                )
                rows.append(self._estimate(turnover))
            if rnd.random() < 0.15:
                previous = replace(
                    base,
                    amount=wallet * rnd.uniform(0.6, 1.1),
                    status=choices.EstimateStatus.VERIFIED,
                    day=day - 365,
                    year=year - 1,
                    comment="",
                )
                rows.append(self._estimate(previous))
        self._done("estimates", len(_create_with_history(WalletEstimate, rows, self.admin)))

    def _estimate(self, spec: _EstimateSpec) -> WalletEstimate:
        """One estimate row entered by the client's owner, reviewed by their head."""
        owner_index = int(self.owner[spec.client])
        reviewed = spec.status != choices.EstimateStatus.DRAFT
        review_day = min(self.T, spec.day + self.rnd.randint(1, 14))
        rejected = spec.status == choices.EstimateStatus.REJECTED
        row = WalletEstimate(
            client_id=int(self.client_pk[spec.client]),
            kind=spec.kind,
            year=spec.year,
            amount=Decimal(max(0, round(spec.amount, -3))).quantize(Decimal("0.01")),
            product_group_id=self.group_pk[spec.group] if spec.group is not None else None,
            basis=spec.basis,
            comment=spec.comment,
            status=spec.status,
            entered_by=self.users[owner_index],
            entered_at=self.at(spec.day, 14),
            reviewed_by=self.users[self.reviewer[owner_index]] if reviewed else None,
            reviewed_at=self.at(review_day, 17) if reviewed else None,
            review_comment=self.rnd.choice(REJECT_COMMENTS) if rejected else "",
        )
        row._history_date = row.entered_at  # type: ignore[attr-defined]
        return row
