"""Generation steps: the plan of every client (kind, size, sales type, identity,
order window, owners) and the client rows themselves."""

from __future__ import annotations

import numpy as np

from accounts.choices import Role
from crm import choices
from crm.demo.builder_base import _BuilderBase
from crm.demo.bulk import _create_with_history
from crm.demo.helpers import make_inn, translit
from crm.demo.options import (
    ACTIVE,
    KIND_SHARES,
    LOST,
    NEW,
    ORDERS_PER_YEAR,
    PROSPECT,
    SALES_TYPE_SHARES,
    SALES_TYPES,
    SLEEPING,
    TYPICAL_REVENUE,
    DemoError,
)
from crm.demo.vocabulary_companies import (
    ADJECTIVES,
    INDUSTRIES,
    INDUSTRY_WEIGHTS,
    LEGAL_FORM_WEIGHTS,
    LEGAL_FORMS,
    NAME_TAILS,
    NOUNS_F,
    NOUNS_M,
    NOUNS_N,
    PREFIXES,
    REGIONS,
    STREETS,
    SUFFIXES,
)
from crm.demo.vocabulary_texts import CLIENT_NOTES
from crm.models import Client


def _allocate(total: int, shares: dict[int, float], rest: int) -> list[int]:
    """Kinds for ``total`` items by share, at least one of each when there is room."""
    counts: dict[int, int] = {}
    for kind, share in shares.items():
        counts[kind] = max(1 if total >= 2 * len(shares) else 0, round(total * share))
    while sum(counts.values()) > total:
        largest = max(counts, key=lambda k: counts[k])
        counts[largest] -= 1
    kinds = [kind for kind, count in counts.items() for _ in range(count)]
    return kinds + [rest] * (total - len(kinds))


class _ClientSteps(_BuilderBase):
    """Who the clients are, how much and how often they buy, and who owns them."""

    # -- client plan -----------------------------------------------------

    def _plan_clients(self) -> None:
        """Decide every client's kind, size, type, identity and order window."""
        n, rng, rnd, T = self.opt.clients, self.rng, self.rnd, self.T
        kind = np.array(_allocate(n, KIND_SHARES, ACTIVE), dtype=np.int64)
        kind = kind[rng.permutation(n)]
        if T < 130:  # too short a window to fall asleep or be lost
            kind[(kind == SLEEPING) | (kind == LOST)] = ACTIVE
        elif T < 430:
            kind[kind == LOST] = SLEEPING
        sales = rng.choice(4, size=n, p=SALES_TYPE_SHARES)
        sleepy = kind == SLEEPING  # sleeping is a notion of frequent buyers
        sales[sleepy] = rng.choice(2, size=int(sleepy.sum()), p=(0.55, 0.45))
        # Size: lognormal yearly revenue, so a few large clients make most of it.
        size = TYPICAL_REVENUE * rng.lognormal(0.0, 1.5, n) * np.array([1.0, 1.2, 1.6, 3.0])[sales]
        weights = np.array([r[4] for r in REGIONS])
        region = rng.choice(len(REGIONS), size=n, p=weights / weights.sum())
        industry_w = np.array(INDUSTRY_WEIGHTS, dtype=float)
        industry = rng.choice(len(INDUSTRIES), size=n, p=industry_w / industry_w.sum())
        self.kind, self.sales, self.size = kind, sales, size
        self.region, self.industry = region, industry

        # Branches share their company's INN and differ by KPP (~10 % of clients).
        n_branches = round(n * 0.10) if n >= 10 else 0
        order = rng.permutation(n)
        branch_ids = order[:n_branches]
        heads = order[n_branches:]
        branch_of = np.full(n, -1, dtype=np.int64)
        if n_branches:
            p = np.sqrt(size[heads])
            branch_of[branch_ids] = rng.choice(heads, size=n_branches, p=p / p.sum())
        parent = np.full(n, -1, dtype=np.int64)
        linked = rng.random(n) < 0.6
        parent[(branch_of >= 0) & linked] = branch_of[(branch_of >= 0) & linked]
        # A few holdings: subsidiaries with their own INN under a large company.
        has_branches = np.zeros(n, dtype=bool)
        has_branches[branch_of[branch_of >= 0]] = True
        free = heads[~has_branches[heads]]
        n_holdings = max(1, n // 150) if n >= 30 else 0
        if n_holdings and len(free) > 4 * n_holdings:
            by_size = free[np.argsort(-size[free], kind="stable")]
            holdings = by_size[:n_holdings]
            pool = by_size[n_holdings:]
            subs = rng.choice(pool, size=min(len(pool), n_holdings * 3), replace=False)
            parent[subs] = rng.choice(holdings, size=len(subs))
        self.parent = parent

        names: list[str] = [""] * n
        inns: list[str] = [""] * n
        kpps: list[str] = [""] * n
        domains: list[str] = [""] * n
        used_names: set[str] = set()
        used_inns: set[str] = set()
        kpp_taken: dict[str, set[str]] = {}
        for i in map(int, heads):
            base = self._company_base(used_names)
            names[i] = base[0]
            domains[i] = base[1]
            inn = make_inn(REGIONS[int(region[i])][2], rnd)
            while inn in used_inns:
                inn = make_inn(REGIONS[int(region[i])][2], rnd)
            used_inns.add(inn)
            inns[i] = inn
            kpps[i] = f"{inn[:4]}01001"
            kpp_taken[inn] = {"001"}
        for i in map(int, branch_ids):
            company = int(branch_of[i])
            inn = inns[company]
            city = REGIONS[int(region[i])][1]
            name = f"{names[company]} (филиал, {city})"
            number = 2
            while name in used_names:
                name = f"{names[company]} (филиал № {number}, {city})"
                number += 1
            used_names.add(name)
            names[i], domains[i], inns[i] = name, domains[company], inn
            serial = f"{rnd.randint(2, 999):03d}"
            while serial in kpp_taken[inn]:
                serial = f"{rnd.randint(2, 999):03d}"
            kpp_taken[inn].add(serial)
            kpps[i] = f"{inn[:4]}01{serial}"
        self.names, self.inns, self.kpps, self.domains = names, inns, kpps, domains

        # Order windows: day numbers lo..hi inside [0, T]; pinned ends are exact.
        lo = np.zeros(n, dtype=np.int64)
        hi = np.full(n, T, dtype=np.int64)
        pin_lo = np.zeros(n, dtype=bool)
        base_f = ORDERS_PER_YEAR[sales]
        started = rng.random(n) < 0.2  # began buying inside the window
        late = rng.integers(0, max(1, T - 150), n)
        recent = np.minimum(20, (180 / base_f).astype(np.int64))
        hi_active = T - (rng.random(n) * (recent + 1)).astype(np.int64)
        act = kind == ACTIVE
        lo[act & started] = late[act & started]
        pin_lo[act & started] = True
        hi[act] = hi_active[act]
        new = kind == NEW
        lo[new] = T - rng.integers(3, max(4, min(86, T)), int(new.sum()))
        pin_lo[new] = True
        hi[new] = np.maximum(lo[new], T - rng.integers(0, 4, int(new.sum())))
        sl = kind == SLEEPING
        hi[sl] = T - rng.integers(120, max(121, min(301, T)), int(sl.sum()))
        lost = kind == LOST
        hi[lost] = T - rng.integers(400, max(401, min(761, T)), int(lost.sum()))
        for mask in (sl, lost):
            moved = mask & started & (hi > 90)
            lo[moved] = (rng.random(n) * (hi - 60).clip(1))[moved].astype(np.int64)
            pin_lo[moved] = True
        hi = np.maximum(hi, lo)
        self.lo, self.hi, self.pin_lo = lo, hi, pin_lo
        self.freq = base_f * np.clip((size / TYPICAL_REVENUE) ** 0.25, 0.5, 4.0)
        self.p_lines = np.clip(0.2 + 0.12 * np.log(size / TYPICAL_REVENUE), 0.05, 0.8)
        self.growth = rng.normal(0.0, 0.5, n)  # yearly trend of order density
        self.discount = rng.choice(
            [1.0, 0.97, 0.95, 0.9, 0.85], size=n, p=(0.4, 0.2, 0.2, 0.15, 0.05)
        )
        self.discount[size > np.quantile(size, 0.9)] *= 0.95
        # Created: clients buying since before the window were entered long ago.
        created = np.where(
            kind == PROSPECT,
            T - rng.integers(5, max(6, min(400, T)), n),
            lo - rng.integers(10, 120, n),
        )
        created = np.where(~pin_lo & (kind != PROSPECT), -rng.integers(30, 1500, n), created)
        self.created_day = created

        # Owners by the conveyor (domain: "Sales types"); the largest go to KAMs.
        buying = kind != PROSPECT
        owner = np.zeros(n, dtype=np.int64)
        initial = np.zeros(n, dtype=np.int64)
        kam_cut = np.quantile(size[buying], 0.97) if buying.any() else np.inf
        type_role = (Role.OFFICE, Role.KM, Role.KM, Role.PM)
        for i in range(n):
            if kind[i] == PROSPECT or (kind[i] == NEW and rnd.random() < 0.7):
                owner[i] = self.pick(Role.DEVELOPER)
            elif size[i] >= kam_cut and sales[i] != 3:
                owner[i] = self.pick(Role.KAM)
            else:
                owner[i] = self.pick(type_role[int(sales[i])])
            initial[i] = owner[i]
            handed_over = kind[i] != PROSPECT and rnd.random() < 0.5
            if handed_over and Role.DEVELOPER not in self.users_roles(int(owner[i])):
                # A developer made the first sale, then handed the client over.
                initial[i] = self.pick(Role.DEVELOPER)
        self.owner, self.initial_owner = owner, initial
        self.buying = buying

    def _company_base(self, used: set[str]) -> tuple[str, str]:
        """A new company name with its legal form, and a web domain for it."""
        rnd = self.rnd
        for attempt in range(50):
            if rnd.random() < 0.6:
                adjective = rnd.choice(ADJECTIVES)
                nouns = (NOUNS_M, NOUNS_F, NOUNS_N)
                gender = rnd.choices(range(3), weights=[len(group) for group in nouns])[0]
                noun = rnd.choice(nouns[gender])
                core = f"{adjective[gender]} {noun.lower()}"
            else:
                prefix = rnd.choice(PREFIXES)
                suffix = rnd.choice(SUFFIXES)
                if prefix.lower().startswith(suffix):
                    continue
                core = prefix + suffix
            if attempt > 5 or rnd.random() < 0.15:
                core += rnd.choice(NAME_TAILS)
            if attempt > 30:
                core += f"-{rnd.randint(2, 99)}"
            form = rnd.choices(LEGAL_FORMS, weights=LEGAL_FORM_WEIGHTS)[0]
            name = f"{form} «{core}»"
            if name not in used:
                used.add(name)
                slug = "".join(c if c.isalnum() else "-" for c in translit(core)).strip("-")
                return name, f"{slug}.ru"
        raise DemoError("Ran out of company names.")  # pragma: no cover - 50 tries

    # -- clients ---------------------------------------------------------

    def _create_clients(self) -> None:
        """Clients without a holding first, then those pointing at one (ids needed)."""
        n, rnd = self.opt.clients, self.rnd
        ext = np.zeros(n, dtype=np.int64)
        buying_ids = np.flatnonzero(self.buying)
        ext[buying_ids] = self.rng.permutation(len(buying_ids)) + 1
        motivations = [m.value for m in choices.MotivationType]
        rows: list[Client] = []
        for i in range(n):
            region, city, _, phone_code, _ = REGIONS[int(self.region[i])]
            size = float(self.size[i])
            big = size > 8 * TYPICAL_REVENUE
            outlets = (
                rnd.randint(10, 60)
                if big and rnd.random() < 0.6
                else rnd.choice((1, 1, 1, 2, 2, 3))
            )
            employees = max(3, int(size / 40_000 * rnd.lognormvariate(0, 0.5)))
            stage = choices.ConveyorStage.ACCOUNT
            if not self.buying[i]:
                stage = rnd.choice((choices.ConveyorStage.LEAD, choices.ConveyorStage.QUALIFIED))
            client = Client(
                name=self.names[i],
                inn=self.inns[i],
                kpp=self.kpps[i],
                external_id=f"K-{ext[i]:06d}" if ext[i] else "",
                region=region,
                industry=INDUSTRIES[int(self.industry[i])],
                employees=employees,
                outlets=outlets,
                sales_type=SALES_TYPES[int(self.sales[i])],
                conveyor_stage=stage,
                motivation_type=rnd.choice(motivations) if rnd.random() < 0.4 else "",
                owner_id=self.users[int(self.owner[i])].pk,
                address=f"г. {city}, ул. {rnd.choice(STREETS)}, д. {rnd.randint(1, 120)}",
                phone=f"+7 ({phone_code}) {rnd.randint(200, 999)}-{rnd.randint(10, 99)}-"
                f"{rnd.randint(10, 99)}",
                email=f"info@{self.domains[i]}" if rnd.random() < 0.7 else "",
                website=self.domains[i] if rnd.random() < 0.5 else "",
                note=rnd.choice(CLIENT_NOTES) if rnd.random() < 0.15 else "",
                created_at=self.at(int(self.created_day[i]), 9 + i % 9, (i * 7) % 60),
            )
            client._history_date = client.created_at  # type: ignore[attr-defined]
            rows.append(client)
        pk = np.zeros(n, dtype=np.int64)
        first = [i for i in range(n) if self.parent[i] < 0]
        for obj, i in zip(
            _create_with_history(Client, (rows[i] for i in first), self.admin), first, strict=True
        ):
            pk[i] = obj.pk
        second = [i for i in range(n) if self.parent[i] >= 0]
        for i in second:
            rows[i].parent_id = int(pk[self.parent[i]])
        for obj, i in zip(
            _create_with_history(Client, (rows[i] for i in second), self.admin), second, strict=True
        ):
            pk[i] = obj.pk
        self.client_pk = pk
        self._done("clients", n)
