"""Keeping what is derived from the clients' rows in step with them.

``Client.last_touch_at`` follows the client's touches. Touches are
written by the touch service, the API and the admin; a signal
on the model covers them all, so no path can leave the stored time stale.
Bulk writes (queryset updates, the demo's COPY) send no signals: their
callers refresh the clients they changed.
"""

from __future__ import annotations

from typing import Any

from crm.models import Activity, Client, Task, WalletEstimate


def activity_saving(sender: type[Activity], instance: Activity, **kwargs: Any) -> None:
    """Remember the client a changed touch belonged to: it may be moving away."""
    if instance.pk and not kwargs.get("raw"):
        instance._previous_client_id = (  # type: ignore[attr-defined]
            Activity.objects.filter(pk=instance.pk).values_list("client_id", flat=True).first()
        )


def activity_saved(sender: type[Activity], instance: Activity, **kwargs: Any) -> None:
    from crm.services import clients_last_touch_refresh

    if kwargs.get("raw"):  # fixtures load rows as they are
        return
    previous = getattr(instance, "_previous_client_id", None)
    clients_last_touch_refresh(client_ids=[instance.client_id, *([previous] if previous else [])])


def activity_deleted(sender: type[Activity], instance: Activity, **kwargs: Any) -> None:
    from crm.services import clients_last_touch_refresh

    clients_last_touch_refresh(client_ids=[instance.client_id])


# A head's home page keeps counts per owner (crm.selectors.book_counts): a
# change to a client, or to a task or an estimate of one, has its owners'
# counts counted again. Bulk writers call book_counts themselves.


def client_saving(sender: type[Client], instance: Client, **kwargs: Any) -> None:
    """Remember whom a changed client belonged to: its owner may be changing."""
    from crm.selectors import book_counts

    if instance.pk and not kwargs.get("raw") and book_counts.enabled():
        instance._previous_owner_id = (  # type: ignore[attr-defined]
            Client.objects.filter(pk=instance.pk).values_list("owner_id", flat=True).first()
        )


def client_changed(sender: type[Client], instance: Client, **kwargs: Any) -> None:
    from crm.selectors import book_counts

    previous = getattr(instance, "_previous_owner_id", None)
    book_counts.forget_owners([instance.owner_id, previous])


def client_work_changed(
    sender: type[Task] | type[WalletEstimate], instance: Task | WalletEstimate, **kwargs: Any
) -> None:
    """A task (a reactivation attempt) or a wallet estimate (a draft) of a client changed."""
    from crm.selectors import book_counts

    if not kwargs.get("raw"):
        book_counts.forget_clients([instance.client_id])
