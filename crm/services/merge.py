"""Merging two cards of one company: everything moves to the survivor, nothing is lost."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from accounts.models import User
from accounts.selectors import client_can_edit, clients_visible_to
from crm.models import (
    Activity,
    Client,
    ClientGrant,
    ClientMerge,
    Contact,
    Deal,
    DossierNote,
    OwnershipChange,
    ShipmentLine,
    SurveyAnswer,
    Task,
    WalletEstimate,
)
from crm.services.work import clients_last_touch_refresh

# Records with their own history: moved row by row with a history entry each.
_WITH_HISTORY = (
    ("contacts", Contact),
    ("deals", Deal),
    ("tasks", Task),
    ("estimates", WalletEstimate),
    ("dossier_notes", DossierNote),
)
# Records without history tables: moved in one UPDATE, counted in the merge row.
_WITHOUT_HISTORY = (
    ("shipment_lines", ShipmentLine),
    ("activities", Activity),
    ("ownership_changes", OwnershipChange),
    ("survey_answers", SurveyAnswer),
)


def clients_merge_preview(*, survivor: Client, merged: Client) -> dict[str, int]:
    """How many records of each kind would move from ``merged`` to ``survivor``."""
    counts = {name: model.objects.filter(client=merged).count() for name, model in _WITH_HISTORY}
    counts.update(
        {name: model.objects.filter(client=merged).count() for name, model in _WITHOUT_HISTORY}
    )
    counts["grants"] = ClientGrant.objects.filter(client=merged).count()
    counts["subsidiaries"] = Client.objects.filter(parent=merged).count()
    return counts


@transaction.atomic
def clients_merge(
    *, survivor: Client, merged: Client, acting_user: User, note: str = ""
) -> ClientMerge:
    """Move every record of ``merged`` to ``survivor`` and retire ``merged``.

    The retired card keeps its row (with ``merged_into`` set) so its history,
    its ERP code and links to it still lead to the survivor.
    """
    if not acting_user.is_head:
        raise PermissionDenied(_("Only a head of sales may merge clients."))
    if survivor.pk == merged.pk:
        raise ValidationError(_("Choose two different clients to merge."))
    visible = clients_visible_to(user=acting_user)
    locked = {
        c.pk: c for c in Client.objects.select_for_update().filter(pk__in=[survivor.pk, merged.pk])
    }
    if len(locked) != 2 or visible.filter(pk__in=locked).count() != 2:
        raise ValidationError(_("One of these clients no longer exists or is already merged."))
    survivor, merged = locked[survivor.pk], locked[merged.pk]
    for client in (survivor, merged):
        if not client_can_edit(user=acting_user, client=client):
            raise PermissionDenied(_("You may not change this client."))

    moved = clients_merge_preview(survivor=survivor, merged=merged)
    reason = _("Merged into %(name)s") % {"name": survivor.name}
    for _name, tracked in _WITH_HISTORY:
        rows: list[Any] = list(tracked.objects.filter(client=merged))
        for row in rows:
            row.client = survivor
        bulk_update_with_history(
            rows, tracked, ["client"], default_user=acting_user, default_change_reason=reason
        )
    for _name, untracked in _WITHOUT_HISTORY:
        untracked.objects.filter(client=merged).update(client=survivor)
    clients_last_touch_refresh(client_ids=[survivor.pk, merged.pk])
    existing = set(ClientGrant.objects.filter(client=survivor).values_list("user_id", "reason"))
    grants = list(ClientGrant.objects.filter(client=merged))
    kept = [g for g in grants if (g.user_id, g.reason) not in existing]
    for grant in kept:
        grant.client = survivor
    bulk_update_with_history(
        kept, ClientGrant, ["client"], default_user=acting_user, default_change_reason=reason
    )
    ClientGrant.objects.filter(pk__in=[g.pk for g in grants if g not in kept]).delete()
    if survivor.parent_id == merged.pk:  # a subsidiary merged with its holding takes its place
        survivor.parent_id = merged.parent_id
        survivor._history_user = acting_user  # type: ignore[attr-defined]
        survivor._change_reason = reason  # type: ignore[attr-defined]
        survivor.save(update_fields=["parent"])
    # Holdings have two levels (Client.clean): the merged card's subsidiaries
    # go to the survivor, or to the survivor's own holding.
    holding_id = survivor.parent_id or survivor.pk
    subsidiaries = list(Client.objects.filter(parent=merged).exclude(pk=survivor.pk))
    now = timezone.now()
    for subsidiary in subsidiaries:
        subsidiary.parent_id = holding_id
        subsidiary.version += 1
        subsidiary.updated_at = now
    bulk_update_with_history(
        subsidiaries,
        Client,
        ["parent", "version", "updated_at"],
        default_user=acting_user,
        default_change_reason=reason,
    )

    merged.merged_into = survivor
    if merged.parent_id == survivor.pk:
        merged.parent = None
    merged._history_user = acting_user  # type: ignore[attr-defined]
    merged._change_reason = reason  # type: ignore[attr-defined]
    merged.save()
    return ClientMerge.objects.create(
        survivor=survivor,
        merged=merged,
        merged_by=acting_user,
        merged_at=timezone.now(),
        note=note,
        moved=moved,
    )
