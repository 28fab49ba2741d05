"""Import of shipment lines, replaced per document (number + date) as the ERP has them.

Large files are streamed twice and never held in memory: the first pass
validates every row and keeps only what is per document, client or product
(a line count and a fingerprint per document); the second pass writes. A
document whose lines are already exactly as in the file is left alone, so a
second import of the same file writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import reduce
from operator import or_
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from crm.choices import OwnershipChangeKind
from crm.duplicates import import_duplicate_warnings
from crm.models import Client, OwnershipChange, Product, ProductGroup, ShipmentLine

from . import shipments_pg
from .matching import ClientIndex, live_id
from .parsing import iter_parsed
from .reading import Message, ReadResult
from .runs import CHUNK, NO_USER_TO_OWN, UNKNOWN_CLIENT, ImportContext, Plan, chunked

ClientKey = tuple[str, str]  # (client code, INN) as written in the row
DocKey = tuple[str, date]  # (document number, date)
_MASK = (1 << 64) - 1
_DOC_CHUNK = 300  # documents per query: two parameters each


@dataclass
class _Doc:
    lines: int = 0
    fingerprint: int = 0  # the sum of the lines' hashes: the order of lines does not matter
    keys: set[ClientKey] = field(default_factory=set)


@dataclass
class _Scan:
    """What the first pass keeps: one entry per document, client and product, not per line."""

    docs: dict[DocKey, _Doc] = field(default_factory=dict)
    names: dict[ClientKey, str] = field(default_factory=dict)  # first client name seen
    products: dict[str, tuple[str, str]] = field(default_factory=dict)  # sku -> name, group


def _line_hash(sku: str, qty: Decimal, amount: Decimal, cost: Decimal | None, manager: str) -> int:
    # Decimal hashes by value, so 1.000 from the database equals 1 from the file.
    return hash((sku, qty, amount, cost, manager)) & _MASK


def _key(values: dict[str, Any]) -> ClientKey:
    return values.get("client_external_id") or "", values.get("inn") or ""


def prepare_shipments(context: ImportContext, result: ReadResult) -> Plan:
    if shipments_pg.applies(context, result):
        return shipments_pg.prepare_shipments_pg(context, result)
    plan = Plan()
    scan = _Scan()
    partial: dict[str, Any] = {}
    bad_docs: set[DocKey] = set()  # documents with a bad line: skipped whole, never cut
    for parsed, errors in iter_parsed(result, partial):
        plan.rows_read += 1
        plan.errors.extend(errors)
        if parsed is None:
            if partial.get("doc_number") and partial.get("date"):
                bad_docs.add((partial["doc_number"], partial["date"]))
            continue
        values = parsed.values
        key = _key(values)
        if values.get("client_name") and key not in scan.names:
            scan.names[key] = values["client_name"]
        scan.names.setdefault(key, "")
        scan.products[values["sku"]] = (values.get("sku_name") or "", values["product_group"])
        doc = scan.docs.setdefault((values["doc_number"], values["date"]), _Doc())
        doc.lines += 1
        doc.fingerprint = (doc.fingerprint + _line_hash(*_line_values(values))) & _MASK
        doc.keys.add(key)
    resolved, new_clients, problems = _resolve_clients(context, scan)
    if problems:
        _report_client_rows(context, problems, plan)
    if plan.errors and not context.skip_invalid:
        return plan
    if plan.errors:
        _leave_out_bad_documents(scan, bad_docs, problems, new_clients)
    replace = _documents_to_replace(scan, resolved)
    for doc_key in scan.docs:
        if doc_key not in replace:
            plan.unchanged += 1
        elif replace[doc_key]:
            plan.updated += 1
        else:
            plan.created += 1
    plan.warnings = import_duplicate_warnings(
        {id(c): c for c in new_clients.values()}.values(), scope=context.scope
    )
    plan.write = lambda: _write(context, scan, resolved, new_clients, replace)
    return plan


def _leave_out_bad_documents(
    scan: _Scan,
    bad_docs: set[DocKey],
    problems: dict[ClientKey, Message],
    new_clients: dict[ClientKey, Client],
) -> None:
    """For "import the valid rows": drop every document with a bad line or an unusable client.

    A document is one order; importing part of it would misstate the order,
    so the whole document waits for the corrected file.
    """
    for doc_key, doc in list(scan.docs.items()):
        if doc_key in bad_docs or doc.keys & problems.keys():
            del scan.docs[doc_key]
    used = {key for doc in scan.docs.values() for key in doc.keys}
    for key in list(new_clients):
        if key not in used:
            del new_clients[key]


def _line_values(values: dict[str, Any]) -> tuple[str, Decimal, Decimal, Decimal | None, str]:
    return (
        values["sku"],
        values["qty"],
        values["amount"],
        values.get("cost"),
        values.get("manager_email") or "",
    )


def _resolve_clients(
    context: ImportContext, scan: _Scan
) -> tuple[dict[ClientKey, int], dict[ClientKey, Client], dict[ClientKey, Message]]:
    """Existing client ids, clients to create and problems, per client key of the file."""
    keys = list(scan.names)
    index = ClientIndex(
        external_ids=(k[0] for k in keys), inns=(k[1] for k in keys), scope=context.scope
    )
    resolved: dict[ClientKey, int] = {}
    problems: dict[ClientKey, Message] = {}
    missing: list[ClientKey] = []
    for key in keys:
        match = index.match(external_id=key[0], inn=key[1])
        if match.client is not None:
            resolved[key] = live_id(match.client)
        elif match.problem is not None:
            problems[key] = match.problem
        elif not context.create_missing_clients:
            problems[key] = UNKNOWN_CLIENT
        elif context.user is None:
            problems[key] = NO_USER_TO_OWN
        else:
            missing.append(key)
    # One new client per code (or per INN when a row has no code).
    new_clients: dict[ClientKey, Client] = {}
    by_code: dict[str, Client] = {}
    by_inn: dict[str, list[Client]] = {}
    # Named rows first, so a row without a name joins the client another row names.
    for code, inn in sorted(missing, key=lambda k: (not k[0], k[0], not scan.names[k], k[1])):
        client = by_code.get(code) if code else next(iter(by_inn.get(inn, [])), None)
        if client is None:
            name = scan.names[(code, inn)]
            if not name:
                problems[(code, inn)] = _(
                    "No client has this code or INN; fill in the client's name to create it."
                )
                continue
            client = Client(name=name[:300], external_id=code, inn=inn)
            if code:
                by_code[code] = client
            if inn:
                by_inn.setdefault(inn, []).append(client)
        elif inn and not client.inn:  # a later row of the same code gives the INN
            client.inn = inn
            by_inn.setdefault(inn, []).append(client)
        new_clients[(code, inn)] = client
    for key, client in list(new_clients.items()):
        if client.inn and len(by_inn[client.inn]) > 1:
            problems[key] = _("Several new clients in this file would have this INN.")
            del new_clients[key]
    return resolved, new_clients, problems


def _report_client_rows(
    context: ImportContext, problems: dict[ClientKey, Message], plan: Plan
) -> None:
    """A second pass over the file to name every row of a client that cannot be used."""
    result = context.read()
    for parsed, _errors in iter_parsed(result):
        if parsed is None:
            continue
        key = _key(parsed.values)
        if key in problems:
            column = "client_external_id" if key[0] else "inn"
            header = result.columns.get(column, column)
            plan.reject(parsed.row, column, key[0] or key[1], problems[key], header)


def _doc_filter(docs: list[DocKey]) -> Q:
    return reduce(or_, (Q(doc_number=number, doc_date=day) for number, day in docs))


def _documents_to_replace(scan: _Scan, resolved: dict[ClientKey, int]) -> dict[DocKey, bool]:
    """Documents to write, each with whether it is already in the database."""
    stored: dict[DocKey, _Doc] = {}
    clients: dict[DocKey, set[int]] = {}
    for batch in chunked(list(scan.docs), _DOC_CHUNK):
        lines = ShipmentLine.objects.filter(_doc_filter(batch)).values_list(
            "doc_number",
            "doc_date",
            "client_id",
            "product__sku",
            "qty",
            "amount",
            "cost",
            "manager_email",
        )
        for number, day, client_id, sku, qty, amount, cost, manager in lines:
            doc = stored.setdefault((number, day), _Doc())
            doc.lines += 1
            line_hash = _line_hash(sku, qty, amount, cost, manager)
            doc.fingerprint = (doc.fingerprint + line_hash) & _MASK
            clients.setdefault((number, day), set()).add(client_id)
    replace: dict[DocKey, bool] = {}
    for doc_key, doc in scan.docs.items():
        old = stored.get(doc_key)
        same = (
            old is not None
            and len(doc.keys) == 1  # with several clients, which line is whose is not compared
            and (old.lines, old.fingerprint) == (doc.lines, doc.fingerprint)
            and clients[doc_key] == {resolved.get(k) for k in doc.keys}
        )
        if not same:
            replace[doc_key] = old is not None
    return replace


def _write(
    context: ImportContext,
    scan: _Scan,
    resolved: dict[ClientKey, int],
    new_clients: dict[ClientKey, Client],
    replace: dict[DocKey, bool],
) -> None:
    products = _save_products(scan)
    client_ids = dict(resolved)
    client_ids.update(_create_clients(context, new_clients))
    existing = [doc for doc, stored in replace.items() if stored]
    for batch in chunked(existing, _DOC_CHUNK):
        replaced = ShipmentLine.objects.filter(_doc_filter(batch))
        context.touched.update(replaced.values_list("client_id", flat=True).distinct())
        replaced.delete()
    run_id = context.run_id
    lines: list[ShipmentLine] = []
    for parsed, _errors in iter_parsed(context.read()):
        if parsed is None:  # a bad row, left out when the user chose to skip them
            continue
        values = parsed.values
        if (values["doc_number"], values["date"]) not in replace:
            continue
        lines.append(
            ShipmentLine(
                doc_number=values["doc_number"],
                doc_date=values["date"],
                client_id=client_ids[_key(values)],
                product_id=products[values["sku"]],
                qty=values["qty"],
                amount=values["amount"],
                cost=values.get("cost"),
                manager_email=values.get("manager_email") or "",
                import_run_id=run_id,
            )
        )
        context.touched.add(lines[-1].client_id)
        if len(lines) == CHUNK:
            ShipmentLine.objects.bulk_create(lines)
            lines = []
    ShipmentLine.objects.bulk_create(lines)


def _save_products(scan: _Scan) -> dict[str, int]:
    """Create new groups and products, rename and regroup changed ones; sku -> product id."""
    groups = {g.name: g for g in ProductGroup.objects.all()}
    wanted = {group for _name, group in scan.products.values()} - set(groups)
    for group in ProductGroup.objects.bulk_create([ProductGroup(name=n) for n in sorted(wanted)]):
        groups[group.name] = group
    known: dict[str, Product] = {}
    for batch in chunked(sorted(scan.products)):
        known.update((p.sku, p) for p in Product.objects.filter(sku__in=batch))
    new, changed = [], []
    for sku, (name, group_name) in scan.products.items():
        group = groups[group_name]
        product = known.get(sku)
        if product is None:
            new.append(Product(sku=sku, name=name, group=group))
        elif (name and product.name != name) or product.group_id != group.pk:
            product.name = name or product.name
            product.group = group
            changed.append(product)
    for product in Product.objects.bulk_create(new, batch_size=CHUNK):
        known[product.sku] = product
    Product.objects.bulk_update(changed, ["name", "group"], batch_size=CHUNK)
    return {sku: product.pk for sku, product in known.items()}


def _create_clients(
    context: ImportContext, new_clients: dict[ClientKey, Client]
) -> dict[ClientKey, int]:
    if not new_clients:
        return {}
    user = context.user
    assert user is not None  # checked when the clients were resolved
    now = timezone.now()
    unique = list({id(c): c for c in new_clients.values()}.values())
    for client in unique:
        client.owner = user
        client.created_at = client.updated_at = now
    bulk_create_with_history(
        unique,
        Client,
        batch_size=CHUNK,
        default_user=user,
        default_change_reason=context.change_reason,
    )
    OwnershipChange.objects.bulk_create(
        [
            OwnershipChange(
                client=client,
                to_user=user,
                kind=OwnershipChangeKind.IMPORT,
                changed_by=user,
                changed_at=now,
                note=context.filename,
            )
            for client in unique
        ],
        batch_size=CHUNK,
    )
    return {key: client.pk for key, client in new_clients.items()}
