"""Generation step: shipments, the largest table by far.

Shipments are planned as numpy arrays (one row per document, a few bytes
each) and their lines are generated and written per chunk of clients, so
10 M lines never exist as Python objects. On PostgreSQL the lines go in with
COPY from a CSV buffer that numpy formats itself; on SQLite (small demos
only) with one ``executemany``.
"""

from __future__ import annotations

import itertools
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection, reset_queries

from crm.demo.builder_base import _BuilderBase
from crm.demo.bulk import (
    _ascii_decimal,
    _ascii_int,
    _bulk_load,
    _byte_table,
    _column,
    _compact,
    _CopyWriter,
    _is_postgres,
)
from crm.demo.options import (
    LINES_PER_CHUNK,
    LINES_PER_CLIENT_YEAR,
    NEGATIVE_LINE_SHARE,
    NEW,
    RETURN_SHARE,
    TYPICAL_REVENUE,
    BoolArray,
    IntArray,
    SmallIntArray,
)
from crm.models import ShipmentLine

LINE_COLUMNS = (
    "doc_number",
    "doc_date",
    "client_id",
    "product_id",
    "qty",
    "amount",
    "cost",
    "manager_email",
)


@dataclass
class _Docs:
    """Every shipment document, sorted by client, date and number."""

    client: SmallIntArray
    day: SmallIntArray
    number: SmallIntArray
    is_return: BoolArray
    lines: SmallIntArray


class _ShipmentSteps(_BuilderBase):
    """Documents and their lines, and the revenue the later steps build on."""

    # -- shipments -------------------------------------------------------

    def _target_lines(self) -> int:
        if self.opt.lines is not None:
            return self.opt.lines
        return round(LINES_PER_CLIENT_YEAR * int(self.buying.sum()) * self.opt.months / 12)

    def _plan_documents(self) -> _Docs:
        """Every document of every client as a few narrow numpy arrays.

        Millions of documents are the plan's largest arrays, so temporaries
        are computed in place and dropped as soon as they are used.
        """
        rng, T = self.rng, self.T
        buyers = np.flatnonzero(self.buying)
        span = np.maximum(self.hi - self.lo, 1)[buyers] / 365.0
        lines_per_doc = 1 + 7 * self.p_lines[buyers]
        target = self._target_lines()
        self.result.target_lines = target
        expected = float((self.freq[buyers] * span * lines_per_doc).sum())
        self.scale = target / expected if expected else 0.0  # docs per "typical" doc
        n_orders = np.maximum(1, rng.poisson(self.freq[buyers] * span * self.scale))
        client = np.repeat(buyers.astype(np.int32), n_orders)
        total = len(client)
        first_of = np.concatenate([[0], np.cumsum(n_orders)[:-1]]).astype(np.int64)
        last_of = first_of + n_orders - 1
        # Dates follow each client's trend: density proportional to exp(g * t)
        # on [lo, hi], drawn by inverting the distribution function.
        width = (self.hi - self.lo).astype(float)
        u = rng.random(total)
        g = (self.growth * width / 365.0)[client]
        flat = np.abs(g) < 1e-6
        g[flat] = 1.0
        frac = np.expm1(g)
        frac *= u
        np.log1p(frac, out=frac)
        frac /= g
        frac[flat] = u[flat]
        del g, u, flat
        frac *= width[client]
        frac += self.lo[client]
        day = frac.astype(np.int32)
        del frac
        day[last_of] = self.hi[buyers]
        # A pinned first order wins over the last only for a client with one
        # order that is new; a lone order of a sleeping client stays late.
        pinned = self.pin_lo[buyers] & ((n_orders > 1) | (self.kind[buyers] == NEW))
        day[first_of[pinned]] = self.lo[buyers][pinned]
        day = self._workdays(day)
        # Returns: ~2 % of documents, a few days after one of the client's orders.
        n_returns = rng.binomial(n_orders, RETURN_SHARE / (1 - RETURN_SHARE))
        ret_client = np.repeat(buyers.astype(np.int32), n_returns)
        ret_source = np.repeat(first_of, n_returns) + (
            rng.random(len(ret_client)) * np.repeat(n_orders, n_returns)
        ).astype(np.int64)
        ret_day = np.minimum(T, day[ret_source] + rng.integers(1, 15, len(ret_client)))
        ret_day = np.maximum(self._workdays(ret_day), day[ret_source]).astype(np.int32)
        lines = (1 + rng.binomial(7, self.p_lines[client])).astype(np.int8)
        ret_lines = (1 + rng.binomial(1, 0.3, len(ret_client))).astype(np.int8)
        all_client = np.concatenate([client, ret_client])
        all_day = np.concatenate([day, ret_day])
        del client, day
        is_return = np.concatenate([np.zeros(total, bool), np.ones(len(ret_client), bool)])
        all_lines = np.concatenate([lines, ret_lines])
        del lines
        # Date order with a random order within each day; numbers follow it.
        by_date = np.argsort(all_day + rng.random(len(all_day)), kind="stable")
        number = self._number_documents(all_day, by_date)
        # Grouped by client, keeping date-and-number order inside each client.
        order = by_date[np.argsort(all_client[by_date], kind="stable")]
        del by_date
        return _Docs(
            client=all_client[order],
            day=all_day[order],
            number=number[order],
            is_return=is_return[order],
            lines=all_lines[order],
        )

    def _workdays(self, day: npt.NDArray[Any]) -> npt.NDArray[Any]:
        """Weekend days moved to the Friday before (the Monday after at the window's start)."""
        weekday = (self.start.weekday() + day) % 7
        earlier = day - np.maximum(0, weekday - 4)
        return np.where(earlier >= 0, earlier, day + (7 - weekday) % 7).astype(day.dtype)

    def _number_documents(self, day: SmallIntArray, by_date: IntArray) -> SmallIntArray:
        """ERP-style numbers: in date order, restarting at 1 every 1 January."""
        year_of_day = np.array(
            [(self.start + timedelta(days=d)).year for d in range(self.T + 1)], dtype=np.int32
        )
        years, counts = np.unique(year_of_day[day[by_date]], return_counts=True)
        first_index = np.concatenate([[0], np.cumsum(counts)[:-1]])
        # The window starts mid-year: continue the numbers the ERP issued before it.
        per_day = len(day) / (self.T + 1)
        before = (self.start - date(self.start.year, 1, 1)).days
        first_number = np.where(years == self.start.year, 1 + round(per_day * before), 1)
        ranks = np.arange(len(day), dtype=np.int64)
        ranks += np.repeat(first_number - first_index, counts)
        number = np.empty(len(day), dtype=np.int32)
        number[by_date] = ranks
        return number

    def _shipments(self) -> None:
        docs = self._plan_documents()
        n = self.opt.clients
        # First and last order per client (-1: none) for the ledger and estimates.
        self.last_order = np.full(n, -1, dtype=np.int64)
        orders = ~docs.is_return
        np.maximum.at(self.last_order, docs.client[orders], docs.day[orders])
        first = np.full(n, self.T + 1, dtype=np.int64)
        np.minimum.at(first, docs.client[orders], docs.day[orders])
        self.first_order = np.where(first <= self.T, first, -1)
        self.revenue_12m = np.zeros(n)
        self.revenue_all = np.zeros(n)
        self.group_revenue_12m = np.zeros((n, self.n_groups))
        # Chunks of whole clients holding about LINES_PER_CHUNK lines each.
        per_client = np.bincount(docs.client, weights=docs.lines, minlength=n)
        cumulative = np.cumsum(per_client)
        cuts = np.searchsorted(
            cumulative, np.arange(LINES_PER_CHUNK, cumulative[-1] if n else 0, LINES_PER_CHUNK)
        )
        bounds = np.unique(np.concatenate([[0], cuts + 1, [n]])).clip(0, n)
        doc_bounds = np.searchsorted(docs.client, bounds)
        written = 0
        postgres = _is_postgres()
        self._line_tables()
        with ExitStack() as stack:
            writer = None
            if postgres:
                stack.enter_context(_bulk_load(ShipmentLine))
                writer = stack.enter_context(_CopyWriter(ShipmentLine._meta.db_table, LINE_COLUMNS))
            for a, b in itertools.pairwise(doc_bounds.tolist()):
                if a == b:
                    continue
                chunk = _Docs(
                    client=docs.client[a:b],
                    day=docs.day[a:b],
                    number=docs.number[a:b],
                    is_return=docs.is_return[a:b],
                    lines=docs.lines[a:b],
                )
                lines = self._lines(chunk)
                if writer is not None:
                    writer.write(self._line_csv(chunk, lines))
                else:
                    self._bulk_lines(chunk, lines)
                written += len(lines["doc"])
                reset_queries()
        self.result.counts["documents"] = len(docs.client)
        self.result.counts["returns"] = int(docs.is_return.sum())
        self._done("shipment lines", written)

    def _lines(self, docs: _Docs) -> dict[str, Any]:
        """Lines of a chunk of documents: products, quantities, prices, amounts."""
        rng = self.rng
        clients, local = np.unique(docs.client, return_inverse=True)
        m = len(clients)
        size = self.size[clients]
        # Each client buys from its own assortment within a few preferred groups.
        n_pref = 1 + rng.binomial(self.n_groups - 1, 0.3, m)
        keys = np.log(self.group_weight)[None, :] + rng.gumbel(size=(m, self.n_groups))
        preferred = np.argsort(-keys, axis=1, kind="stable")
        breadth = np.clip(
            np.round(3 + 4 * (size / TYPICAL_REVENUE) ** 0.4 * rng.lognormal(0, 0.3, m)), 2, 400
        ).astype(np.int64)
        offset = np.concatenate([[0], np.cumsum(breadth)[:-1]])
        slot_client = np.repeat(np.arange(m), breadth)
        slot_rank = np.arange(len(slot_client)) - offset[slot_client]
        slot_group = preferred[
            slot_client, (rng.random(len(slot_client)) * n_pref[slot_client]).astype(np.int64)
        ]
        assortment = np.searchsorted(
            self.group_cdf, slot_group + rng.random(len(slot_client)), side="right"
        )
        assortment = np.minimum(assortment, self.group_start[slot_group + 1] - 1)
        # A line picks slot floor(K * u**1.7): the first slots are the client's favourites.
        k = breadth[slot_client].astype(float)
        slot_p = ((slot_rank + 1) / k) ** (1 / 1.7) - (slot_rank / k) ** (1 / 1.7)
        mean_price = np.bincount(
            slot_client, weights=slot_p * self.price_kop[assortment] / 100, minlength=m
        )
        disc = self.discount[clients]
        docs_per_year = self.freq[clients] * self.scale
        per_line = size / np.maximum(docs_per_year * (1 + 7 * self.p_lines[clients]), 1e-9)
        qty_mean = per_line / (mean_price * disc)

        doc_index = np.repeat(np.arange(len(docs.client)), docs.lines)
        line_client = local[doc_index]
        count = len(doc_index)
        pick = (breadth[line_client] * rng.random(count) ** 1.7).astype(np.int64)
        product = assortment[offset[line_client] + pick]
        price = np.round(self.price_kop[product] * disc[line_client]).astype(np.int64)
        raw_qty = qty_mean[line_client] * rng.lognormal(-0.18, 0.6, count)
        whole = self.whole_units[product]
        qty = np.where(
            whole, np.maximum(1, np.round(raw_qty)), np.maximum(0.1, np.round(raw_qty, 1))
        )
        returning = docs.is_return[doc_index]
        qty = np.where(
            returning,
            -np.where(
                whole,
                np.maximum(1, np.round(qty * rng.uniform(0.1, 0.5, count))),
                np.maximum(0.1, np.round(qty * rng.uniform(0.1, 0.5, count), 1)),
            ),
            qty,
        )
        # A few corrections: negative lines inside ordinary documents.
        negative = (
            (~returning) & (docs.lines[doc_index] >= 3) & (rng.random(count) < NEGATIVE_LINE_SHARE)
        )
        qty_milli = np.round(qty * 1000).astype(np.int64)
        amount = np.round(qty_milli * price / 1000).astype(np.int64)
        neg_amount = np.where(negative, amount, 0)
        doc_pos = np.bincount(
            doc_index, weights=np.where(negative, 0, amount), minlength=len(docs.client)
        )
        doc_neg = np.bincount(doc_index, weights=neg_amount, minlength=len(docs.client))
        # Keep the document an order: its corrections stay under half its value.
        keep = negative & (doc_neg[doc_index] < 0.5 * doc_pos[doc_index])
        qty_milli = np.where(keep, -qty_milli, qty_milli)
        amount = np.where(keep, -amount, amount)
        cost = np.round(amount * rng.uniform(0.6, 0.85, count)).astype(np.int64)

        day = docs.day[doc_index]
        global_client = docs.client[doc_index]
        rubles = amount / 100
        n = self.opt.clients
        recent = day > self.T - 365
        self.revenue_all += np.bincount(global_client, weights=rubles, minlength=n)
        self.revenue_12m += np.bincount(global_client[recent], weights=rubles[recent], minlength=n)
        cell = global_client[recent] * self.n_groups + self.product_group[product[recent]]
        self.group_revenue_12m += np.bincount(
            cell, weights=rubles[recent], minlength=n * self.n_groups
        ).reshape(n, self.n_groups)
        return {
            "doc": doc_index,
            "client": global_client,
            "product": product,
            "qty": qty_milli,
            "amount": amount,
            "cost": cost,
            "day": day,
        }

    def _line_tables(self) -> None:
        """Byte tables shared by every chunk: dates and owners' e-mails."""
        days = [(self.start + timedelta(days=d)).isoformat() for d in range(self.T + 1)]
        self.date_bytes = np.frombuffer("".join(days).encode(), dtype=np.uint8).reshape(-1, 10)
        self.email_bytes = _byte_table(self.emails)

    def _line_csv(self, docs: _Docs, lines: dict[str, Any]) -> bytes:
        """The chunk's lines as CSV in LINE_COLUMNS order, formatted by numpy."""
        count = len(lines["doc"])
        prefix = np.frombuffer("РН-".encode(), dtype=np.uint8)
        doc_numbers = np.hstack(
            [np.tile(prefix, (len(docs.number), 1)), _ascii_int(docs.number, 6)]
        )
        comma = _column(",", count)
        matrix = np.hstack(
            [
                doc_numbers[lines["doc"]],
                comma,
                self.date_bytes[lines["day"]],
                comma,
                _ascii_int(self.client_pk[lines["client"]]),
                comma,
                _ascii_int(self.product_pk[lines["product"]]),
                comma,
                _ascii_decimal(lines["qty"], 3),
                comma,
                _ascii_decimal(lines["amount"], 2),
                comma,
                _ascii_decimal(lines["cost"], 2),
                comma,
                self.email_bytes[self.owner[lines["client"]]],
                _column("\n", count),
            ]
        )
        return _compact(matrix)

    def _bulk_lines(self, docs: _Docs, lines: dict[str, Any]) -> None:
        """Insert the lines with one executemany: the ORM's per-object work costs
        twenty times more on SQLite, and these rows need no model logic."""
        numbers = [f"РН-{n:06d}" for n in docs.number.tolist()]
        dates = [(self.start + timedelta(days=d)).isoformat() for d in range(self.T + 1)]
        rows = [
            (
                numbers[d],
                dates[day],
                int(self.client_pk[c]),
                int(self.product_pk[p]),
                str(Decimal(q).scaleb(-3)),
                str(Decimal(a).scaleb(-2)),
                str(Decimal(k).scaleb(-2)),
                self.emails[int(self.owner[c])],
            )
            for d, day, c, p, q, a, k in zip(
                lines["doc"].tolist(),
                lines["day"].tolist(),
                lines["client"].tolist(),
                lines["product"].tolist(),
                lines["qty"].tolist(),
                lines["amount"].tolist(),
                lines["cost"].tolist(),
                strict=True,
            )
        ]
        table = connection.ops.quote_name(ShipmentLine._meta.db_table)
        sql = (
            f"INSERT INTO {table} (doc_number, doc_date, client_id, product_id, qty, amount, "
            "cost, manager_email) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, rows)
