"""Generation steps: the staff with their roles and teams, and the product catalogue."""

from __future__ import annotations

import math

import numpy as np
from django.contrib.auth.hashers import make_password

from accounts.choices import Role
from accounts.models import Team, User, UserRole
from crm.demo.builder_base import _BuilderBase
from crm.demo.helpers import translit
from crm.demo.options import MAX_PRODUCTS
from crm.demo.staff import (
    CLIENTS_PER_MANAGER,
    CORE_STAFF,
    DEMO_DOMAIN,
    DEMO_PASSWORD,
    EXTRA_MANAGER_ROLES,
    KEY_TEAM,
    REGIONAL_TEAM,
    TOP_TEAM,
    StaffMember,
)
from crm.demo.vocabulary_products import BRANDS, PACKS, PRODUCT_GROUPS, PRODUCT_ITEMS
from crm.models import Product, ProductGroup


class _SetupSteps(_BuilderBase):
    """The users the clients are shared among, and the products they buy."""

    # -- staff -----------------------------------------------------------

    def _staff(self) -> None:
        members = list(CORE_STAFF)
        owners = sum(1 for m in CORE_STAFF if set(m.roles) & {Role.KM, Role.KAM, Role.OFFICE})
        extra = max(0, math.ceil(self.opt.clients / CLIENTS_PER_MANAGER) - owners)
        taken = {m.local for m in members}
        for i in range(extra):
            role = EXTRA_MANAGER_ROLES[i % len(EXTRA_MANAGER_ROLES)]
            first, _, last, _ = self.person()
            local = f"{translit(first)}.{translit(last)}"
            suffix = 2
            while local in taken:
                local = f"{translit(first)}.{translit(last)}{suffix}"
                suffix += 1
            taken.add(local)
            team = KEY_TEAM if role in (Role.KAM, Role.PM) else REGIONAL_TEAM
            members.append(StaffMember(local, first, last, (role,), team))
        password = make_password(DEMO_PASSWORD)  # hashed once: hashing is slow by design
        joined = self.at(-400)
        users = [
            User(
                email=f"{m.local}@{DEMO_DOMAIN}",
                first_name=m.first_name,
                last_name=m.last_name,
                password=password,
                is_staff=Role.ADMIN in m.roles,
                is_superuser=Role.ADMIN in m.roles,
                date_joined=joined,
            )
            for m in members
        ]
        users = User.objects.bulk_create(users)
        UserRole.objects.bulk_create(
            [UserRole(user=u, role=r) for u, m in zip(users, members, strict=True) for r in m.roles]
        )
        by_local = {m.local: u for m, u in zip(members, users, strict=True)}
        teams: dict[str, Team] = {}
        for name, parent in ((TOP_TEAM, None), (KEY_TEAM, TOP_TEAM), (REGIONAL_TEAM, TOP_TEAM)):
            head = next(by_local[m.local] for m in members if m.heads == name)
            teams[name] = Team.objects.create(
                name=name, parent=teams[parent] if parent else None, head=head
            )
        through = Team.members.through
        through.objects.bulk_create(
            [
                through(team_id=teams[m.team].pk, user_id=u.pk)
                for m, u in zip(members, users, strict=True)
                if m.team
            ]
        )
        self.users = users
        self.emails = [u.email for u in users]
        self.admin = by_local["admin"]
        self.by_role: dict[str, list[int]] = {}
        for index, member in enumerate(members):
            for code in member.roles:
                self.by_role.setdefault(code, []).append(index)
        self.roles_of = [frozenset(m.roles) for m in members]
        head_index = {m.heads: i for i, m in enumerate(members) if m.heads}
        # Who verifies a user's estimates: the head of the user's team.
        self.reviewer = [head_index.get(m.team or TOP_TEAM, head_index[TOP_TEAM]) for m in members]
        self._done("users", len(users))

    # -- catalogue -------------------------------------------------------

    def _catalogue(self) -> None:
        n_groups = min(len(PRODUCT_GROUPS), 8 + self.opt.clients // 1000)
        groups = ProductGroup.objects.bulk_create(
            [
                ProductGroup(name=name, code=f"G{i + 1:02d}")
                for i, (name, _, _) in enumerate(PRODUCT_GROUPS[:n_groups])
            ]
        )
        n_products = min(MAX_PRODUCTS, max(n_groups * 10, self.opt.clients * 4 // 3))
        rng = self.rng
        # Groups differ in size; products are stored contiguously by group.
        group_share = rng.dirichlet(np.full(n_groups, 4.0))
        per_group = np.maximum(5, np.floor(group_share * n_products)).astype(np.int64)
        per_group[np.argmax(per_group)] += n_products - per_group.sum()
        product_group = np.repeat(np.arange(n_groups), per_group)
        base = np.array([g[1] for g in PRODUCT_GROUPS[:n_groups]])
        price = base[product_group] * rng.lognormal(0.0, 0.6, n_products)
        self.price_kop = np.maximum(100, np.round(price * 100)).astype(np.int64)
        self.whole_units = np.array([g[2] for g in PRODUCT_GROUPS[:n_groups]])[product_group]
        # Popularity: a few SKUs sell far more than the long tail (Zipf-like).
        popularity = 1.0 / rng.permutation(np.arange(1, n_products + 1)) ** 0.9
        group_start = np.concatenate([[0], np.cumsum(per_group)])
        cdf = np.empty(n_products)
        for g in range(n_groups):
            lo, hi = group_start[g], group_start[g + 1]
            cdf[lo:hi] = g + np.cumsum(popularity[lo:hi]) / popularity[lo:hi].sum()
        self.group_cdf = cdf  # group g occupies (g, g + 1]: one searchsorted picks a SKU
        self.group_start = group_start
        self.product_group = product_group
        self.group_weight = group_share
        self.n_groups = n_groups
        products: list[Product] = []
        for i in range(n_products):
            name = PRODUCT_GROUPS[int(product_group[i])][0]
            products.append(
                Product(
                    sku=f"SKU-{i + 1:05d}",
                    name=f"{self.rnd.choice(PRODUCT_ITEMS[name])} {self.rnd.choice(BRANDS)}, "
                    f"{self.rnd.choice(PACKS[name])}",
                    group=groups[int(product_group[i])],
                )
            )
        created = Product.objects.bulk_create(products, batch_size=1000)
        self.product_pk = np.array([p.pk for p in created], dtype=np.int64)
        self.group_pk = [g.pk for g in groups]
        self.groups = groups
        self._done("product groups", len(groups))
        self._done("products", n_products)
