"""Reads shared by pages, the API and exports, always scoped to the user."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm.models import Activity, Client, ClientGrant, Contact, Task, WalletEstimate
from crm.templatetags.money import money
from crm.wallet import WalletSuggestion, below_suggestion, suggested_wallet


def client_get_visible(*, user: User, pk: int) -> Client:
    """One client the user may see, or 404 (never 403: existence does not leak)."""
    try:
        return clients_visible_to(user=user).select_related("owner", "parent").get(pk=pk)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def merged_client_survivor(*, user: User, pk: int) -> int | None:
    """Where a retired (merged) card now lives, if the user may see that client."""
    survivor_pk = (
        Client.objects.filter(pk=pk, merged_into__isnull=False)
        .values_list("merged_into_id", flat=True)
        .first()
    )
    while survivor_pk is not None:
        if clients_visible_to(user=user).filter(pk=survivor_pk).exists():
            return int(survivor_pk)
        survivor_pk = (
            Client.objects.filter(pk=survivor_pk).values_list("merged_into_id", flat=True).first()
        )
    return None


def contacts_visible_to(*, user: User) -> QuerySet[Contact]:
    return Contact.objects.filter(client__in=clients_visible_to(user=user).values("id"))


def client_co_owners(*, client: Client) -> QuerySet[ClientGrant]:
    return (
        ClientGrant.objects.active()
        .filter(client=client)
        .select_related("user")
        .order_by("reason", "user__last_name")
    )


def tasks_open_for(*, user: User) -> QuerySet[Task]:
    return (
        Task.objects.filter(assignee=user, status="open")
        .filter(Q(client__isnull=True) | Q(client__in=clients_visible_to(user=user).values("id")))
        .select_related("client")
        .order_by("due_on", "id")
    )


def activities_recent_for(*, user: User, limit: int = 10) -> QuerySet[Activity]:
    return (
        Activity.objects.filter(client__in=clients_visible_to(user=user).values("id"))
        .select_related("client", "performed_by")
        .order_by("-occurred_at", "-id")[:limit]
    )


def owners_book_sizes(*, user: User) -> QuerySet[User]:
    """For a head's home page: each owner of visible clients with their count."""
    visible = clients_visible_to(user=user)
    return (
        User.objects.filter(owned_clients__in=visible.values("id"))
        .annotate(clients_count=Count("owned_clients"))
        .order_by("-clients_count", "last_name")
    )


@dataclass(frozen=True)
class HomePanel:
    """One figure on a role's home page, with the list it leads to."""

    title: str
    hint: str
    count: int
    url: str


def home_panels_for(*, user: User) -> list[HomePanel]:
    """The first things each of the user's roles works on, one count per role."""
    from accounts.choices import Role
    from crm.models import Deal

    visible = clients_visible_to(user=user)
    mine = visible.filter(owner=user)
    clients_url = reverse("crm:client_list")
    panels: list[HomePanel] = []
    if user.has_role(Role.TM):
        panels.append(
            HomePanel(
                _("Leads to qualify"),
                _("Is it our client? Is the purchase still relevant?"),
                mine.filter(conveyor_stage="lead").count(),
                f"{clients_url}?owner_id={user.pk}&conveyor_stage=lead",
            )
        )
    if user.has_role(Role.DEVELOPER):
        panels.append(
            HomePanel(
                _("Qualified, before the first sale"),
                _("Reach the decision makers and sell."),
                mine.filter(conveyor_stage__in=["qualified", "first_sale"]).count(),
                f"{clients_url}?owner_id={user.pk}&conveyor_stage=qualified",
            )
        )
    if user.has_role(Role.KM, Role.OFFICE):
        panels.append(
            HomePanel(
                _("Accounts I serve"),
                _("Repeat sales, larger average orders, wider assortment."),
                mine.filter(conveyor_stage="account").count(),
                f"{clients_url}?owner_id={user.pk}&conveyor_stage=account",
            )
        )
    if user.has_role(Role.PM):
        panels.append(
            HomePanel(
                _("Open project deals"),
                _("Deliver the solution, look for the next project."),
                Deal.objects.filter(owner=user, kind="project")
                .exclude(stage__in=["won", "lost"])
                .count(),
                f"{clients_url}?conveyor_stage=project",
            )
        )
    if user.has_role(Role.KAM):
        panels.append(
            HomePanel(
                _("My key accounts"),
                _("Development plans, relationships at several levels."),
                visible.filter(grants__user=user, grants__reason="kam").distinct().count(),
                f"{clients_url}?granted_as=kam",
            )
        )
    if user.is_head:
        panels.append(
            HomePanel(
                _("Estimates to verify"),
                _("Managers tend to under-estimate the wallet."),
                estimates_to_verify(user=user).count(),
                reverse("crm:estimates_to_verify"),
            )
        )
    return panels


def estimates_visible_to(*, user: User) -> QuerySet[WalletEstimate]:
    return WalletEstimate.objects.filter(client__in=clients_visible_to(user=user).values("id"))


def estimates_to_verify(*, user: User) -> QuerySet[WalletEstimate]:
    """Drafts of visible clients, oldest first (they have waited longest)."""
    return (
        estimates_visible_to(user=user)
        .filter(status="draft")
        .select_related("client", "entered_by", "product_group")
        .order_by("entered_at", "id")
    )


def estimate_review_warnings(*, estimate: WalletEstimate) -> list[str]:
    return with_review_warnings(estimates=[estimate])[0][1]


def with_review_warnings(
    *, estimates: list[WalletEstimate]
) -> list[tuple[WalletEstimate, list[str]]]:
    """Each estimate with what a head should look at before verifying it.

    - an overall wallet above the client's own turnover estimate (not
      rejected) of the same year: a client cannot buy more than it sells;
    - an overall wallet below half of the wallet suggested by verified peers:
      managers tend to under-estimate.
    """
    wallets = [e for e in estimates if e.kind == "wallet" and e.product_group_id is None]
    turnover: dict[tuple[int, int], Decimal] = {}
    if wallets:
        for client_id, year, amount in (
            WalletEstimate.objects.filter(
                kind="turnover",
                product_group__isnull=True,
                client_id__in={e.client_id for e in wallets},
                year__in={e.year for e in wallets},
            )
            .exclude(status="rejected")
            .order_by("entered_at", "id")
            .values_list("client_id", "year", "amount")
        ):
            turnover[(client_id, year)] = amount  # the latest entered wins
    today = timezone.localdate()
    suggestions: dict[tuple[int, str, str, int], WalletSuggestion | None] = {}
    result = []
    for estimate in estimates:
        warnings: list[str] = []
        if estimate in wallets:
            own = turnover.get((estimate.client_id, estimate.year))
            if own is not None and estimate.amount > own:
                warnings.append(
                    _(
                        "The wallet is above the client's own turnover for %(year)s: "
                        "a client cannot buy more than it sells. Check both figures."
                    )
                    % {"year": estimate.year}
                )
            client = estimate.client
            key = (client.pk, client.industry, client.region, client.outlets or 0)
            if key not in suggestions:
                suggestions[key] = suggested_wallet(client=client, as_of=today)
            suggestion = suggestions[key]
            if below_suggestion(estimate=estimate, suggestion=suggestion):
                assert suggestion is not None
                warnings.append(
                    _(
                        "Less than half of the suggested wallet (%(amount)s from %(peers)s "
                        "verified clients of the same industry): managers tend to "
                        "under-estimate."
                    )
                    % {"amount": money(suggestion.amount), "peers": suggestion.peers}
                )
        result.append((estimate, warnings))
    return result
