"""Find the clients an import file names: by ERP code, then INN + KPP, then INN alone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.models import Client

from .reading import Message
from .runs import ambiguous_inn, chunked


@dataclass(frozen=True)
class Match:
    client: Client | None
    problem: Message | None = None
    by: str = ""  # "external_id", "inn_kpp" or "inn"


OUT_OF_SCOPE = _(
    "This row names a client outside the clients you manage: "
    "an administrator or the client's head can import it."
)


class ClientIndex:
    """The clients whose code or INN appears in a file, loaded in a few queries.

    With a ``scope`` (the clients the importing user may see), a row that
    names any other client is refused rather than treated as new: creating a
    second card for it would be worse than telling the user.
    """

    def __init__(
        self,
        *,
        external_ids: Iterable[str],
        inns: Iterable[str],
        scope: QuerySet[Client] | None = None,
    ) -> None:
        self.by_external_id: dict[str, Client] = {}
        self.by_inn: dict[str, list[Client]] = {}
        for batch in chunked(sorted({e for e in external_ids if e})):
            for client in Client.objects.filter(external_id__in=batch):
                self.by_external_id[client.external_id] = client
        for batch in chunked(sorted({i for i in inns if i})):
            for client in Client.objects.filter(inn__in=batch, merged_into__isnull=True):
                self.by_inn.setdefault(client.inn, []).append(client)
        for clients in self.by_inn.values():
            clients.sort(key=lambda c: c.pk)
        self.hidden: set[int] = set()
        if scope is not None:
            known = {c.pk for c in self.by_external_id.values()}
            known |= {c.pk for clients in self.by_inn.values() for c in clients}
            visible: set[int] = set()
            for ids in chunked(sorted(known)):
                visible.update(scope.filter(pk__in=ids).values_list("pk", flat=True))
            self.hidden = known - visible

    def match(self, *, external_id: str, inn: str, kpp: str = "") -> Match:
        """The client a row means; no client and no problem means a new one."""
        found = self._match(external_id=external_id, inn=inn, kpp=kpp)
        if found.client is not None and found.client.pk in self.hidden:
            return Match(None, OUT_OF_SCOPE)
        return found

    def _match(self, *, external_id: str, inn: str, kpp: str) -> Match:
        if external_id and external_id in self.by_external_id:
            return Match(self.by_external_id[external_id], by="external_id")
        if not inn:
            return Match(None)
        candidates = self.by_inn.get(inn, [])
        if kpp:
            found = next((c for c in candidates if c.kpp == kpp), None)
            return Match(found, by="inn_kpp" if found else "")
        if len(candidates) == 1:
            return Match(candidates[0], by="inn")
        if len(candidates) > 1:
            return Match(None, ambiguous_inn(len(candidates)))
        return Match(None)

    def holder(self, inn: str, kpp: str) -> Client | None:
        """The client that already has this INN + KPP pair (unique in the database)."""
        return next((c for c in self.by_inn.get(inn, []) if c.kpp == kpp), None)


def live_id(client: Client) -> int:
    """A merged card lives on in its survivor: sales and estimates go there."""
    return client.merged_into_id or client.pk
