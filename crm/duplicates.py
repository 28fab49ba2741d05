"""Likely duplicates of a client: the same INN, or a very similar name in the same region."""

from __future__ import annotations

import re
from collections.abc import Iterable
from difflib import SequenceMatcher

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm.models import Client

_LEGAL_FORMS = re.compile(
    r"\b(ооо|оао|зао|пао|ао|ип|нко|ano|llc|ltd|jsc|ojsc|gmbh|inc)\b", re.IGNORECASE
)
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
SIMILAR_NAME_RATIO = 0.85


def normalized_name(name: str) -> str:
    """«ООО "Северная звезда"» and «Северная Звезда, АО» both become «северная звезда»."""
    text = _LEGAL_FORMS.sub(" ", name.casefold().replace("ё", "е"))
    return " ".join(_NOT_WORD.sub(" ", text).split())


def likely_duplicates(
    *,
    user: User,
    name: str,
    inn: str = "",
    region: str = "",
    exclude_pk: int | None = None,
    limit: int = 5,
) -> list[Client]:
    """Visible clients that are probably the same company (never more than ``limit``)."""
    visible = clients_visible_to(user=user).select_related("owner")
    if exclude_pk:
        visible = visible.exclude(pk=exclude_pk)
    found: dict[int, Client] = {}
    if inn:
        for client in visible.filter(inn=inn)[:limit]:
            found[client.pk] = client
    wanted = normalized_name(name)
    words = sorted(wanted.split(), key=len, reverse=True)
    if words and region and len(found) < limit:
        # Names only: a head's region holds thousands of clients, and most
        # candidates are dismissed by the cheap upper bounds of the ratio.
        candidates = visible.filter(region=region, name__icontains=words[0]).values_list(
            "pk", "name"
        )[:200]
        similar = [pk for pk, other in candidates if pk not in found and _similar(wanted, other)]
        if similar:
            for client in visible.filter(pk__in=similar[: limit - len(found)]):
                found[client.pk] = client
    return list(found.values())[:limit]


def _similar(wanted: str, name: str) -> bool:
    matcher = SequenceMatcher(None, wanted, normalized_name(name))
    return (
        matcher.real_quick_ratio() >= SIMILAR_NAME_RATIO
        and matcher.quick_ratio() >= SIMILAR_NAME_RATIO
        and matcher.ratio() >= SIMILAR_NAME_RATIO
    )


def inn_known_elsewhere(*, user: User, inn: str, exclude_pk: int | None = None) -> bool:
    """The INN belongs to a client this user cannot see (another team's book)."""
    if not inn:
        return False
    others = Client.objects.filter(inn=inn, merged_into__isnull=True).exclude(
        pk__in=clients_visible_to(user=user).values("id")
    )
    if exclude_pk:
        others = others.exclude(pk=exclude_pk)
    return others.exists()


MAX_IMPORT_WARNINGS = 100


def import_duplicate_warnings(
    new_clients: Iterable[Client], *, scope: QuerySet[Client] | None = None
) -> list[str]:
    """Warnings for clients an import would create that look like ones already in the base.

    The same rules as on the client form (the same INN; a very similar name in
    the same region), checked in a few queries for the whole file: the
    existing clients of the file's INNs and regions are loaded once and
    compared in memory. ``scope`` keeps clients the importer may not see
    out of the messages.
    """
    new = list(new_clients)
    if not new:
        return []
    existing = Client.objects.filter(merged_into__isnull=True) if scope is None else scope
    by_inn: dict[str, list[Client]] = {}
    inns = sorted({c.inn for c in new if c.inn})
    for start in range(0, len(inns), 900):
        for client in existing.filter(inn__in=inns[start : start + 900]).only(
            "pk", "name", "external_id", "inn"
        ):
            by_inn.setdefault(client.inn, []).append(client)
    # word -> (normalised name, client) of the regions the file names
    by_word: dict[tuple[str, str], list[tuple[str, Client]]] = {}
    regions = sorted({c.region for c in new if c.region})
    for start in range(0, len(regions), 900):
        rows = existing.filter(region__in=regions[start : start + 900]).only(
            "pk", "name", "external_id", "region"
        )
        for client in rows.iterator(chunk_size=5000):
            normal = normalized_name(client.name)
            for word in set(normal.split()):
                by_word.setdefault((client.region, word), []).append((normal, client))
    warnings: list[str] = []
    for client in new:
        matches = {c.pk: c for c in by_inn.get(client.inn, []) if client.inn}
        wanted = normalized_name(client.name)
        words = sorted(wanted.split(), key=len, reverse=True)
        if words and client.region:
            for normal, other in by_word.get((client.region, words[0]), []):
                if SequenceMatcher(None, wanted, normal).ratio() >= SIMILAR_NAME_RATIO:
                    matches.setdefault(other.pk, other)
        if matches:
            names = ", ".join(f"«{c.name}» ({c.external_id or '—'})" for c in matches.values())
            warnings.append(
                _("New client «%(name)s» (%(code)s) may be a duplicate of %(others)s.")
                % {"name": client.name, "code": client.external_id or "—", "others": names}
            )
    if len(warnings) > MAX_IMPORT_WARNINGS:
        hidden = len(warnings) - MAX_IMPORT_WARNINGS
        warnings = warnings[:MAX_IMPORT_WARNINGS]
        warnings.append(_("… and %(count)s more possible duplicates.") % {"count": hidden})
    return warnings
