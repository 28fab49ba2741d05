"""Import of turnover and wallet estimates: each row adds estimates a head may rely on."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history

from crm.choices import EstimateKind, EstimateStatus
from crm.models import ProductGroup, WalletEstimate

from .matching import ClientIndex, live_id
from .parsing import ParsedRow, parse_rows
from .reading import ReadResult
from .runs import CHUNK, UNKNOWN_CLIENT, ImportContext, Plan, chunked

# client id, kind, year, group name ("" = overall), amount, status
_Key = tuple[int, str, int, str, Decimal, str]


def prepare_wallets(context: ImportContext, result: ReadResult) -> Plan:
    outcome = parse_rows(result, "wallet_estimates")
    plan = Plan(rows_read=outcome.rows_read, errors=list(outcome.errors))
    headers = result.columns
    rows = outcome.rows
    index = ClientIndex(
        external_ids=(r.values.get("client_external_id") or "" for r in rows),
        inns=(r.values.get("inn") or "" for r in rows),
        scope=context.scope,
    )
    may_verify = context.user is not None and context.user.is_head
    matched: list[tuple[ParsedRow, int]] = []

    def reject(row: ParsedRow, column: str, message: Any) -> None:
        column = column if column in headers else next(iter(headers))
        value = row.values.get(column, "")
        plan.reject(row.row, column, value, message, headers.get(column, column))

    for row in rows:
        values = row.values
        if values.get("status") == EstimateStatus.VERIFIED and not may_verify:
            reject(row, "status", _("Only a head of sales may import verified estimates."))
            continue
        external_id, inn = values.get("client_external_id") or "", values.get("inn") or ""
        match = index.match(external_id=external_id, inn=inn)
        column = "client_external_id" if external_id else "inn"
        if match.problem is not None:
            reject(row, column, match.problem)
        elif match.client is not None:
            matched.append((row, live_id(match.client)))
        else:
            # Wallet files carry no client name: a missing client cannot be created.
            reject(row, column, UNKNOWN_CLIENT)
    existing = _existing_keys({client_id for _row, client_id in matched})
    groups = {g.name: g for g in ProductGroup.objects.all()}
    now = timezone.now()
    estimates: list[WalletEstimate] = []
    seen: set[_Key] = set()
    for row, client_id in matched:
        values = row.values
        amounts = [(EstimateKind.WALLET, values["wallet"])]
        if values.get("turnover") is not None:
            amounts.append((EstimateKind.TURNOVER, values["turnover"]))
        group_name = values.get("product_group") or ""
        status = values.get("status") or EstimateStatus.DRAFT
        for kind, amount in amounts:
            key = (client_id, str(kind), values["year"], group_name, amount, status)
            if key in existing or key in seen:
                plan.unchanged += 1
                continue
            seen.add(key)
            verified = status == EstimateStatus.VERIFIED
            estimates.append(
                WalletEstimate(
                    client_id=client_id,
                    kind=kind,
                    year=values["year"],
                    amount=amount,
                    product_group=groups.get(group_name) if group_name else None,
                    basis=values.get("basis") or "",
                    status=status,
                    entered_by=context.user,
                    entered_at=now,
                    reviewed_by=context.user if verified else None,
                    reviewed_at=now if verified else None,
                    comment=context.change_reason,
                )
            )
            estimates[-1]._group_name = group_name  # type: ignore[attr-defined]
    plan.created = len(estimates)
    plan.write = lambda: _write(context, estimates, groups)
    return plan


def _existing_keys(client_ids: set[int]) -> set[_Key]:
    keys: set[_Key] = set()
    for batch in chunked(sorted(client_ids)):
        rows = WalletEstimate.objects.filter(client_id__in=batch).values_list(
            "client_id", "kind", "year", "product_group__name", "amount", "status"
        )
        for client_id, kind, year, group, amount, status in rows:
            keys.add((client_id, kind, year, group or "", amount, status))
    return keys


def _write(
    context: ImportContext, estimates: list[WalletEstimate], groups: dict[str, ProductGroup]
) -> None:
    wanted = {e._group_name for e in estimates} - set(groups) - {""}  # type: ignore[attr-defined]
    for group in ProductGroup.objects.bulk_create([ProductGroup(name=n) for n in sorted(wanted)]):
        groups[group.name] = group
    for estimate in estimates:
        name = estimate._group_name  # type: ignore[attr-defined]
        if name:
            estimate.product_group = groups[name]
    for batch in chunked(estimates, CHUNK):
        bulk_create_with_history(
            batch,
            WalletEstimate,
            batch_size=CHUNK,
            default_user=context.user,
            default_change_reason=context.change_reason,
        )
    context.touched.update(e.client_id for e in estimates)
