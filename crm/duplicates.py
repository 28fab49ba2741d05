"""Likely duplicates of a client: the same INN, or a very similar name in the same region."""

from __future__ import annotations

import re
from difflib import SequenceMatcher

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
    if words and region:
        candidates = visible.filter(region=region, name__icontains=words[0])[:200]
        for client in candidates:
            ratio = SequenceMatcher(None, wanted, normalized_name(client.name)).ratio()
            if ratio >= SIMILAR_NAME_RATIO:
                found.setdefault(client.pk, client)
    return list(found.values())[:limit]


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
