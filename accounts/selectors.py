"""Who may see and change which client: the one scope every read goes through."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet, Value

from accounts.models import Team, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from crm.models import Client


def team_subtree_ids(
    *, root_ids: set[int], tree: Iterable[tuple[int, int | None]] | None = None
) -> set[int]:
    """The given teams and every team below them (one query: teams are few).

    ``tree``: (team id, parent id) pairs the caller has already read, if any.
    """
    if not root_ids:
        return set()
    children: dict[int | None, list[int]] = {}
    pairs = Team.objects.values_list("id", "parent_id") if tree is None else tree
    for team_id, parent_id in pairs:
        children.setdefault(parent_id, []).append(team_id)
    found: set[int] = set()
    stack = list(root_ids)
    while stack:
        team_id = stack.pop()
        if team_id in found:
            continue
        found.add(team_id)
        stack.extend(children.get(team_id, []))
    return found


def teams_headed_by(*, user: User) -> set[int]:
    """Every team a user heads, with all teams nested below them (one query).

    Read once per request for a signed-in page's user (its ``request_memo``,
    see accounts.middleware); a user object without one reads it every time.
    """
    memo: dict[str, Any] | None = getattr(user, "request_memo", None)
    if memo is not None and "teams_headed" in memo:
        return set(memo["teams_headed"])
    teams = list(Team.objects.order_by().values_list("id", "parent_id", "head_id"))
    roots = {team_id for team_id, _parent, head_id in teams if head_id == user.pk}
    found = team_subtree_ids(
        root_ids=roots, tree=((team_id, parent) for team_id, parent, _head in teams)
    )
    if memo is not None:
        memo["teams_headed"] = found
    return set(found)


GRANTS_AS_CONSTANTS = 500


@dataclass(frozen=True)
class HeadReach:
    """A head's scope, read once per request in one query.

    ``owners``: the people whose clients the head sees, the head included.
    ``granted``: the clients of the head's active grants; ``None`` when there
    are more than ``GRANTS_AS_CONSTANTS`` of them (a subquery then).

    Both go to SQL as constants. PostgreSQL then tests a client by a hash
    lookup and joins from a handful of metric rows to their clients. As
    subqueries, a ``hashed SubPlan`` was charged to each probe of the client
    index, and PostgreSQL scanned all 50 000 clients for a list of 1 500.
    (A manager's book stays a subquery: measured, constants did not help it.)
    """

    owners: tuple[int, ...]
    granted: tuple[int, ...] | None


def head_reach(*, user: User, team_ids: set[int]) -> HeadReach:
    """The ``HeadReach`` of a head of ``team_ids`` (memoised on ``request_memo``)."""
    from crm.models import ClientGrant

    memo: dict[str, Any] | None = getattr(user, "request_memo", None)
    if memo is not None and "head_reach" in memo:
        cached: HeadReach = memo["head_reach"]
        return cached
    people = User.objects.filter(Q(teams__in=team_ids) | Q(headed_teams__in=team_ids))
    grants = ClientGrant.objects.active().filter(user=user)
    rows = (
        people.order_by()
        .values_list("id", Value(False))
        .union(grants.order_by().values_list("client_id", Value(True)), all=True)
    )
    owners: set[int] = {user.pk}
    granted: set[int] = set()
    for row_id, is_grant in rows:
        (granted if is_grant else owners).add(row_id)
    reach = HeadReach(
        owners=tuple(sorted(owners)),
        granted=tuple(sorted(granted)) if len(granted) <= GRANTS_AS_CONSTANTS else None,
    )
    if memo is not None:
        memo["head_reach"] = reach
    return reach


def _head_scope(*, user: User, team_ids: set[int], path: str | None) -> Q:
    """A head's clients as a condition on the client (``path``: its field, or the client)."""
    from crm.models import ClientGrant

    reach = head_reach(user=user, team_ids=team_ids)
    client_id = path or "pk"
    # ``any_of``: one array parameter for the whole list (accounts.lookups).
    condition = Q(**{f"{path}__owner_id__any_of" if path else "owner_id__any_of": reach.owners})
    if reach.granted is None:
        active = ClientGrant.objects.active().filter(user=user).values("client_id")
        return condition | Q(**{f"{client_id}__in": active})
    return condition | Q(**{f"{client_id}__any_of": reach.granted}) if reach.granted else condition


def users_managed_by(*, user: User) -> QuerySet[User]:
    """Members (and heads) of the teams in the subtrees the user heads."""
    team_ids = teams_headed_by(user=user)
    return User.objects.filter(Q(teams__in=team_ids) | Q(headed_teams__in=team_ids)).distinct()


def clients_visible_to(*, user: User | AnonymousUser) -> QuerySet[Client]:
    """The clients a user may see: owned, granted, in the teams they head; all for admins.

    Built from ``id IN (…)`` and ``owner_id IN (…)`` terms rather than joins,
    so the result never repeats a client and stays cheap to count and paginate.
    """
    from crm.models import Client, ClientGrant

    if not user.is_authenticated or not user.is_active:
        return Client.objects.none()
    assert isinstance(user, User)
    live = Client.objects.filter(merged_into__isnull=True)  # a merged card lives on in its survivor
    if user.is_admin:
        return live
    team_ids = teams_headed_by(user=user)
    if team_ids:
        return live.filter(_head_scope(user=user, team_ids=team_ids, path=None))
    # A manager's few hundred clients: one id list from two index scans.
    # "owner = me OR id IN (grants)" cannot use an index, and PostgreSQL
    # then guesses half the table, which spoils every plan joined to it.
    granted = ClientGrant.objects.active().filter(user=user)
    owned = Client.objects.filter(owner=user).order_by().values("pk")
    return live.filter(pk__in=owned.union(granted.order_by().values("client_id"), all=True))


def head_sees_client(
    *, user: User, team_ids: set[int], client_id: int, owner_id: int | None
) -> bool:
    """Whether the head of ``team_ids`` sees a live client, from its owner (``head_reach``,
    read once per request) and their grants.

    The rule of ``clients_visible_to``, for one client already read: its
    condition carries a whole team's people as constants, which cost more to
    put into SQL than the lookup of one client takes.
    """
    reach = head_reach(user=user, team_ids=team_ids)
    if owner_id in reach.owners:
        return True
    if reach.granted is not None:
        return client_id in reach.granted
    from crm.models import ClientGrant

    return ClientGrant.objects.active().filter(user=user, client_id=client_id).exists()


def clients_visible_among(*, user: User | AnonymousUser, clients: list[Client]) -> list[Client]:
    """Of live clients already read, those the user may see (``clients_visible_to``'s
    rule), in their order: from the owners, and the user's grants for the rest."""
    if not user.is_authenticated or not user.is_active:
        return []
    assert isinstance(user, User)
    if user.is_admin:
        return list(clients)
    team_ids = teams_headed_by(user=user)
    reach = head_reach(user=user, team_ids=team_ids) if team_ids else None
    people = set(reach.owners) if reach else {user.pk}
    seen = {client.pk for client in clients if client.owner_id in people}
    rest = [client.pk for client in clients if client.pk not in seen]
    if rest and reach is not None and reach.granted is not None:
        seen.update(pk for pk in rest if pk in reach.granted)
    elif rest:
        from crm.models import ClientGrant

        grants = ClientGrant.objects.active().filter(user=user, client_id__in=rest)
        seen.update(grants.values_list("client_id", flat=True))
    return [client for client in clients if client.pk in seen]


def visible_clients_condition(
    *, user: User | AnonymousUser, path: str = "client", per_row: bool = False
) -> Q:
    """``clients_visible_to`` as a condition on a related client (``path``: its field).

    For rows joined to their client anyway (snapshots, activities, tasks):
    a head's scope is checked on the joined client row, where
    ``client_id IN (visible clients)`` would first scan every client a head
    of the whole base sees, in each query. A manager's few hundred clients
    stay an id list from two index scans, as in ``clients_visible_to``: it
    leads the query to her rows. ``per_row``: the rows are reached another
    way (a user's own tasks or deals), so a manager's scope too is checked
    on each joined client, instead of reading her whole book first.
    """
    if not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    assert isinstance(user, User)
    live = Q(**{f"{path}__merged_into__isnull": True})
    if user.is_admin:
        return live
    team_ids = teams_headed_by(user=user)
    if team_ids:
        return live & _head_scope(user=user, team_ids=team_ids, path=path)
    if per_row:
        from crm.models import ClientGrant

        granted = ClientGrant.objects.active().filter(user=user).values("client_id")
        return live & (Q(**{f"{path}__owner": user}) | Q(**{f"{path}__in": granted}))
    return Q(**{f"{path}__in": clients_visible_to(user=user).values("pk")})


def clients_editable_among(*, user: User, owners: dict[int, int | None]) -> set[int]:
    """Of the given clients (``owners``: client id to its owner's id), those the user
    may change, by the rule of ``client_can_edit``.

    The owners decide for most rows without a query: one's own clients, and
    for a head those of the people they head (``head_reach``, read once per
    request). Only the rest are looked up among the user's edit grants.
    """
    if user.is_admin:
        return set(owners)
    team_ids = teams_headed_by(user=user)
    people = set(head_reach(user=user, team_ids=team_ids).owners) if team_ids else {user.pk}
    editable = {client_id for client_id, owner_id in owners.items() if owner_id in people}
    rest = [client_id for client_id in owners if client_id not in editable]
    if rest:
        from crm.models import ClientGrant

        editable.update(
            ClientGrant.objects.active()
            .filter(user=user, level="edit", client_id__in=rest)
            .values_list("client_id", flat=True)
        )
    return editable


def client_can_edit(*, user: User | AnonymousUser, client: Client) -> bool:
    """Edit rights: the owner, an edit grant, a head over the owner, an admin."""
    if not user.is_authenticated or not user.is_active:
        return False
    assert isinstance(user, User)
    return bool(clients_editable_among(user=user, owners={client.pk: client.owner_id}))


def assignable_owners_for(*, user: User) -> QuerySet[User]:
    """Whom a user may make a client's owner: themselves; a head their people; admin anyone."""
    active = User.objects.filter(is_active=True)
    if user.is_admin:
        return active
    if user.is_head:
        return active.filter(Q(pk=user.pk) | Q(pk__in=users_managed_by(user=user).values("id")))
    return active.filter(pk=user.pk)
