"""Keeping ``Client.last_touch_at`` in step with the client's touches.

Touches are written by the touch service, the API and the admin; a signal
on the model covers them all, so no path can leave the stored time stale.
Bulk writes (queryset updates, the demo's COPY) send no signals: their
callers refresh the clients they changed.
"""

from __future__ import annotations

from typing import Any

from crm.models import Activity


def activity_saved(sender: type[Activity], instance: Activity, **kwargs: Any) -> None:
    from crm.services import clients_last_touch_refresh

    if kwargs.get("raw"):  # fixtures load rows as they are
        return
    clients_last_touch_refresh(client_ids=[instance.client_id])


def activity_deleted(sender: type[Activity], instance: Activity, **kwargs: Any) -> None:
    from crm.services import clients_last_touch_refresh

    clients_last_touch_refresh(client_ids=[instance.client_id])
