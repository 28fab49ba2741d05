"""Keeping ``Client.last_touch_at`` in step with the client's touches.

Touches are written by the touch service, the API and the admin; a signal
on the model covers them all, so no path can leave the stored time stale.
Bulk writes (queryset updates, the demo's COPY) send no signals: their
callers refresh the clients they changed.
"""

from __future__ import annotations

from typing import Any

from crm.models import Activity


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
