"""Reads shared by pages, the API and exports, always scoped to the user."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from accounts.models import User
from accounts.selectors import clients_visible_to
from crm.models import Activity, Client, ClientGrant, Contact, Task


def client_get_visible(*, user: User, pk: int) -> Client:
    """One client the user may see, or 404 (never 403: existence does not leak)."""
    try:
        return clients_visible_to(user=user).select_related("owner", "parent").get(pk=pk)
    except (Client.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def contacts_visible_to(*, user: User) -> QuerySet[Contact]:
    return Contact.objects.filter(client__in=clients_visible_to(user=user).values("id"))


def client_co_owners(*, client: Client) -> QuerySet[ClientGrant]:
    now = timezone.now()
    return (
        ClientGrant.objects.filter(client=client)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
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
