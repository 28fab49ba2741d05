"""The client card: history."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.template.defaultfilters import yesno

from accounts.models import User
from crm.models import Client, OwnershipChange
from segmentation.choices import LifecycleStatus, RunStatus, Segment
from segmentation.models import (
    ClientMetricSnapshot,
)

# Entries of the card's field history.
FIELD_HISTORY_ENTRIES = 30


@dataclass(frozen=True)
class SegmentChange:
    as_of: dt.date
    segment: str
    status: str
    previous: str

    @property
    def segment_label(self) -> str:
        return str(Segment(self.segment).label) if self.segment in Segment.values else self.segment

    @property
    def status_label(self) -> str:
        if self.status in LifecycleStatus.values:
            return str(LifecycleStatus(self.status).label)
        return self.status


def client_segment_history(*, client: Client) -> list[SegmentChange]:
    """The client's segment per stored good run, where it changed; newest first.

    One query over the client's snapshots (the (client, run) index).
    """
    rows = (
        ClientMetricSnapshot.objects.filter(client=client, run__status=RunStatus.SUCCEEDED)
        .order_by("run__as_of", "run_id")
        .values_list("run__as_of", "segment", "status")
    )
    changes: list[SegmentChange] = []
    previous = ""
    for as_of, segment, status in rows:
        if segment != previous:
            changes.append(
                SegmentChange(as_of=as_of, segment=segment, status=status, previous=previous)
            )
            previous = segment
    changes.reverse()
    return changes


def client_ownership_changes(*, client: Client, limit: int) -> list[OwnershipChange]:
    """The client's owner changes, newest first, with the people named; one query."""
    return list(
        client.ownership_changes.select_related("from_user", "to_user", "changed_by")[:limit]
    )


@dataclass(frozen=True)
class FieldChange:
    field: str  # the model field's name, for the API: the label is translated
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class HistoryEntry:
    when: dt.datetime
    user: User | None
    kind: str  # "+" created, "~" changed, "-" deleted
    changes: list[FieldChange]


# Fields people read in the card's history; bookkeeping fields are left out.
_HISTORY_SKIP = {"id", "created_at", "merged_into"}


def _tracked_fields(model: Any = Client, skip: frozenset[str] = frozenset()) -> list[Any]:
    """The fields of ``model`` people read in a history (bookkeeping ones left out)."""
    left_out = _HISTORY_SKIP | {"updated_at", "version"} | skip
    return [f for f in model._meta.concrete_fields if f.name not in left_out]


def _changed_fields(older: Any, newer: Any, fields: list[Any]) -> list[tuple[Any, object, object]]:
    """(field, old, new) of the fields that differ between two history records
    (``older`` None: the record that created the row)."""
    changed = []
    for model_field in fields:
        new = getattr(newer, model_field.attname, None)
        old = getattr(older, model_field.attname, None) if older is not None else None
        if older is not None and old == new:
            continue
        if older is None and new in (None, ""):
            continue
        changed.append((model_field, old, new))
    return changed


def _shown_changes(
    changed_per_entry: list[list[tuple[Any, object, object]]],
) -> list[list[FieldChange]]:
    """The changes with their values as the card shows them: choice labels, and the
    names behind related ids (one query per related model, for all entries)."""
    related_ids: dict[Any, set[int]] = {}
    for changed in changed_per_entry:
        for model_field, old, new in changed:
            if model_field.is_relation:
                related_ids.setdefault(model_field.related_model, set()).update(
                    v for v in (old, new) if isinstance(v, int)
                )
    names: dict[tuple[Any, int], str] = {}
    for model, ids in related_ids.items():
        for obj in model._default_manager.filter(pk__in=ids):
            names[(model, obj.pk)] = str(obj)

    def shown(model_field: Any, value: object) -> str:
        if value is None or value == "":
            return "—"
        if model_field.is_relation and isinstance(value, int):
            return names.get((model_field.related_model, value), f"#{value}")
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(value, bool):
            return str(yesno(value))
        return str(value)

    return [
        [
            FieldChange(
                field=model_field.name,
                label=str(model_field.verbose_name),
                old=shown(model_field, old),
                new=shown(model_field, new),
            )
            for model_field, old, new in changed
        ]
        for changed in changed_per_entry
    ]


def changes_between(
    *, older: Any, newer: Any, skip: frozenset[str] = frozenset()
) -> list[FieldChange]:
    """The fields that differ between two history records of a row (a client's, a
    contact's), shown as the card's History tab shows them. ``skip``: more fields
    to leave out."""
    fields = _tracked_fields(newer.instance_type, skip)
    return _shown_changes([_changed_fields(older, newer, fields)])[0]


def client_field_history(*, client: Client) -> list[HistoryEntry]:
    """Who changed which field of the card and when, newest first (django-simple-history).

    Two queries: the latest records (one more to diff the oldest shown), and
    the names behind changed owner and holding ids.
    """
    records = list(
        client.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : FIELD_HISTORY_ENTRIES + 1
        ]
    )
    fields = _tracked_fields()
    raw = [
        (
            record,
            _changed_fields(
                records[index + 1] if index + 1 < len(records) else None, record, fields
            ),
        )
        for index, record in enumerate(records[:FIELD_HISTORY_ENTRIES])
    ]
    shown_per_entry = _shown_changes([changed for _record, changed in raw])

    entries = []
    for (record, changed), shown in zip(raw, shown_per_entry, strict=True):
        if record.history_type != "+" and not changed:
            continue  # a save that changed only bookkeeping fields
        entries.append(
            HistoryEntry(
                when=record.history_date,
                user=record.history_user,
                kind=record.history_type,
                changes=shown,
            )
        )
    return entries
