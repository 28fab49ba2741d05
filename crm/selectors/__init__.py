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
from accounts.selectors import (
    assignable_owners_for,
    clients_visible_to,
    head_sees_client,
    teams_headed_by,
    users_managed_by,
    visible_clients_condition,
)
from crm.models import (
    Activity,
    Client,
    ClientGrant,
    Contact,
    DossierNote,
    NoteVisibility,
    SurveyAnswer,
    Task,
    WalletEstimate,
)
from crm.templatetags.money import money
from crm.wallet import WalletSuggestion, below_suggestion, suggested_wallet


def client_get_visible(*, user: User, pk: int) -> Client:
    """One client the user may see, or 404 (never 403: existence does not leak)."""
    try:
        team_ids = teams_headed_by(user=user) if user.is_active and not user.is_admin else set()
        if team_ids:
            client = Client.objects.select_related("owner", "parent").get(
                pk=pk, merged_into__isnull=True
            )
            if head_sees_client(
                user=user, team_ids=team_ids, client_id=client.pk, owner_id=client.owner_id
            ):
                return client
            raise Http404
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
        Activity.objects.filter(visible_clients_condition(user=user, path="client"))
        .select_related("client", "performed_by")
        .order_by("-occurred_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class TeamBooks:
    """A head's clients counted by owner: how many in all, and the biggest books."""

    total: int
    biggest: list[User]  # each with ``clients_count``


def team_books(
    *, user: User, limit: int = 15, per_owner: dict[int | None, int] | None = None
) -> TeamBooks:
    """For a head's home page: the visible clients per owner, in one pass over them.

    The total is the sum of the books, so the page does not count the
    clients a second time. ``per_owner``: those counts, when the caller has
    them (crm.selectors.book_counts).
    """
    if per_owner is None:
        per_owner = dict(
            clients_visible_to(user=user)
            .order_by()
            .values("owner_id")
            .annotate(n=Count("id"))
            .values_list("owner_id", "n")
        )
    per_owner = {owner_id: n for owner_id, n in per_owner.items() if n}
    # Only the owners of books big enough to be shown (ties at the limit go by name).
    sizes = sorted((n for owner_id, n in per_owner.items() if owner_id is not None), reverse=True)
    smallest_shown = sizes[limit - 1] if len(sizes) >= limit else 0
    owners = User.objects.in_bulk(
        [
            owner_id
            for owner_id, n in per_owner.items()
            if owner_id is not None and n >= smallest_shown
        ]
    )
    biggest = sorted(owners.values(), key=lambda owner: (-per_owner[owner.pk], owner.last_name))
    for owner in biggest[:limit]:
        owner.clients_count = per_owner[owner.pk]  # type: ignore[attr-defined]
    return TeamBooks(total=sum(per_owner.values()), biggest=biggest[:limit])


@dataclass(frozen=True)
class HomePanel:
    """One figure on a role's home page, with the list it leads to."""

    title: str
    hint: str
    count: int
    url: str


def own_book_counts(*, user: User) -> dict[str, int]:
    """The live clients a user owns, in all and at each conveyor stage: one query.

    One's own clients are always visible to one, so no scope is needed.
    """
    counts = Client.objects.filter(owner=user, merged_into__isnull=True).aggregate(
        total=Count("id"),
        lead=Count("id", filter=Q(conveyor_stage="lead")),
        before_first_sale=Count("id", filter=Q(conveyor_stage__in=["qualified", "first_sale"])),
        account=Count("id", filter=Q(conveyor_stage="account")),
    )
    return {key: int(value or 0) for key, value in counts.items()}


def home_panels_for(
    *, user: User, book: dict[str, int] | None = None, drafts: int | None = None
) -> list[HomePanel]:
    """The first things each of the user's roles works on, one count per role.

    ``book``: ``own_book_counts`` of the user, and ``drafts``: how many
    estimates wait for a head, when the caller has read them.
    """
    from accounts.choices import Role
    from crm.models import Deal

    visible = clients_visible_to(user=user)
    book = own_book_counts(user=user) if book is None else book
    clients_url = reverse("crm:client_list")
    panels: list[HomePanel] = []
    if user.has_role(Role.TM):
        panels.append(
            HomePanel(
                _("Leads to qualify"),
                _("Is it our client? Is the purchase still relevant?"),
                book["lead"],
                f"{clients_url}?owner_id={user.pk}&conveyor_stage=lead",
            )
        )
    if user.has_role(Role.DEVELOPER):
        panels.append(
            HomePanel(
                _("Qualified, before the first sale"),
                _("Reach the decision makers and sell."),
                book["before_first_sale"],
                f"{clients_url}?owner_id={user.pk}&conveyor_stage=qualified",
            )
        )
    if user.has_role(Role.KM, Role.OFFICE):
        panels.append(
            HomePanel(
                _("Accounts I serve"),
                _("Repeat sales, larger average orders, wider assortment."),
                book["account"],
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
                estimates_to_verify(user=user).count() if drafts is None else drafts,
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


# --- The daily work on a client: touches, tasks, surveys, dossier -------------


def task_assignees_for(*, user: User) -> QuerySet[User]:
    """Whom a user may give a task: themselves; a head their people; an admin anyone."""
    return assignable_owners_for(user=user)


def touch_performers_for(*, user: User) -> QuerySet[User]:
    """Who may be credited with a touch the user enters.

    Back office enters touches for the managers it serves (domain.md "Users
    and roles"): here, the people of the teams it belongs to. Everyone else
    enters only their own touches.
    """
    from accounts.choices import Role

    own = User.objects.filter(pk=user.pk, is_active=True)
    if not user.has_role(Role.BACK_OFFICE):
        return own
    team_ids = list(user.teams.values_list("id", flat=True))
    colleagues = User.objects.filter(
        Q(teams__in=team_ids) | Q(headed_teams__in=team_ids), is_active=True
    ).values("id")
    return User.objects.filter(Q(pk=user.pk) | Q(pk__in=colleagues), is_active=True).order_by(
        "last_name", "first_name", "email"
    )


def client_ids_editable_by(*, user: User, client_ids: list[int]) -> set[int]:
    """Of the given clients, those the user may change (``client_can_edit`` in bulk)."""
    if not client_ids or not user.is_authenticated or not user.is_active:
        return set()
    if user.is_admin:
        return set(client_ids)
    managed = users_managed_by(user=user).values("id")
    granted = ClientGrant.objects.active().filter(user=user, level="edit").values("client_id")
    return set(
        Client.objects.filter(pk__in=client_ids)
        .filter(Q(owner=user) | Q(pk__in=granted) | Q(owner_id__in=managed))
        .values_list("id", flat=True)
    )


def activities_visible_to(*, user: User) -> QuerySet[Activity]:
    return Activity.objects.filter(client__in=clients_visible_to(user=user).values("id"))


def client_activities(*, client: Client) -> QuerySet[Activity]:
    """The client's touch timeline, newest first, ready to render without N+1."""
    return client.activities.select_related("performed_by", "entered_by", "contact").order_by(
        "-occurred_at", "-id"
    )


def tasks_visible_to(*, user: User) -> QuerySet[Task]:
    """Tasks on clients the user sees (as on the card), and client-less tasks the
    user gave, holds or manages through the teams they head."""
    if user.is_admin:
        return Task.objects.all()
    mine = Q(assignee=user) | Q(created_by=user)
    if user.is_head:
        mine |= Q(assignee__in=users_managed_by(user=user).values("id"))
    return Task.objects.filter(
        Q(client__in=clients_visible_to(user=user).values("id")) | (Q(client__isnull=True) & mine)
    )


def task_get_visible(*, user: User, pk: int) -> Task:
    try:
        return tasks_visible_to(user=user).select_related("client", "assignee").get(pk=pk)
    except (Task.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def task_can_change(*, user: User, task: Task) -> bool:
    """Complete, cancel, edit or reassign: its assignee, its author, a head over the
    assignee, an administrator (the task must be visible to the user too)."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if task.client_id is not None and not (
        clients_visible_to(user=user).filter(pk=task.client_id).exists()
    ):
        return False
    if user.pk in (task.assignee_id, task.created_by_id):
        return True
    return users_managed_by(user=user).filter(pk=task.assignee_id).exists()


def tasks_of(
    *,
    user: User,
    status: str | None = None,
    kind: str | None = None,
    overdue: bool = False,
) -> QuerySet[Task]:
    """ "My tasks": the user's tasks (on clients they still see), filtered."""
    tasks = (
        tasks_visible_to(user=user)
        .filter(assignee=user)
        .select_related("client", "created_by")
        .order_by("due_on", "id")
    )
    if status:
        tasks = tasks.filter(status=status)
    if kind:
        tasks = tasks.filter(kind=kind)
    if overdue:
        tasks = tasks.filter(status="open", due_on__lt=timezone.localdate())
    return tasks


def survey_answers_visible_to(*, user: User) -> QuerySet[SurveyAnswer]:
    return SurveyAnswer.objects.filter(client__in=clients_visible_to(user=user).values("id"))


def team_chain_owner_ids(*, user: User) -> QuerySet[User] | None:
    """Owners whose team-only dossier notes the user may read; None: everyone's.

    The chain of an owner is the owner, the members and heads of the owner's
    teams, and the heads of the teams above them (their subtrees reach down).
    """
    if user.is_admin:
        return None
    team_ids = set(user.teams.values_list("id", flat=True)) | teams_headed_by(user=user)
    return User.objects.filter(Q(pk=user.pk) | Q(teams__in=team_ids) | Q(headed_teams__in=team_ids))


def dossier_notes_visible_to(*, user: User) -> QuerySet[DossierNote]:
    """Notes of visible clients; team-only notes only for the owner's team chain
    and their author."""
    notes = DossierNote.objects.filter(client__in=clients_visible_to(user=user).values("id"))
    chain = team_chain_owner_ids(user=user)
    if chain is None:
        return notes
    return notes.filter(
        Q(visibility=NoteVisibility.EVERYONE)
        | Q(author=user)
        | Q(client__owner_id__in=chain.values("id"))
    )


def dossier_note_can_change(*, user: User, note: DossierNote) -> bool:
    """Only the author changes a note (while the note is still visible to them)."""
    return (
        note.author_id == user.pk
        and dossier_notes_visible_to(user=user).filter(pk=note.pk).exists()
    )


def task_ids_changeable_by(*, user: User, tasks: list[Task]) -> set[int]:
    """``task_can_change`` in bulk, for tasks already known to be visible."""
    if user.is_admin:
        return {task.pk for task in tasks}
    managed: set[int] = set()
    if user.is_head and tasks:
        managed = set(users_managed_by(user=user).values_list("id", flat=True))
    return {
        task.pk
        for task in tasks
        if user.pk in (task.assignee_id, task.created_by_id) or task.assignee_id in managed
    }


CARD_TOUCHES = 10


def client_card_work(*, user: User, client: Client) -> dict[str, object]:
    """The touches and tasks of a client card: a fixed number of queries, whatever
    the size of the client's history (the lists are capped; "more" links on).
    Surveys and the dossier come in a panel of their own (``client_knowledge``)."""
    activities = list(client_activities(client=client)[: CARD_TOUCHES + 1])
    tasks = list(
        client.tasks.filter(status="open")
        .select_related("assignee", "created_by")
        .order_by("due_on", "id")[:30]
    )
    return {
        "activities": activities[:CARD_TOUCHES],
        "more_activities": len(activities) > CARD_TOUCHES,
        "tasks": tasks,
        "changeable_task_ids": task_ids_changeable_by(user=user, tasks=tasks),
        "today": timezone.localdate(),
    }


def client_dossier_notes(*, user: User, client: Client) -> QuerySet[DossierNote]:
    """The notes of one client (already known visible) that the user may read."""
    notes = client.dossier_notes.select_related("author").order_by("-created_at", "-id")
    if user.is_admin or client.owner_id == user.pk:
        return notes
    chain = team_chain_owner_ids(user=user)
    if chain is not None and not chain.filter(pk=client.owner_id).exists():
        return notes.filter(Q(visibility=NoteVisibility.EVERYONE) | Q(author=user))
    return notes


def client_knowledge(*, user: User, client: Client) -> dict[str, object]:
    """What we know of a client: the dossier and survey answers (capped lists)."""
    return {
        "dossier_notes": list(client_dossier_notes(user=user, client=client)[:30]),
        "survey_answers": list(
            client.survey_answers.select_related("contact", "entered_by", "follow_up").order_by(
                "-answered_on", "-id"
            )[:20]
        ),
    }
