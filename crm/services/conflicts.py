"""Optimistic locking: a save on a copy older than the record is refused, naming
what changed since.

Clients, contacts and tasks carry a ``version``, bumped on every save and kept
in their history (django-simple-history). A form or an API call sends the
version it loaded; the service compares it with the locked row and, when
someone saved in between, raises the record's conflict with each changed field
then and now (as the card's History tab shows values) and who saved last.
"""

from __future__ import annotations

from typing import Any, Self

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.selectors import card
from crm.selectors.card import FieldChange


def changes_since(
    *, record: Any, version: int, skip: frozenset[str] = frozenset()
) -> tuple[list[FieldChange], str]:
    """What others changed after the editor loaded ``version`` of ``record`` (each
    field's value then and now, ``skip`` left out), and who saved it last."""
    records = record.history.select_related("history_user").order_by("-history_date", "-history_id")
    latest = records.first()
    if latest is None:
        return [], ""
    who = str(latest.history_user) if latest.history_user is not None else ""
    seen = records.filter(version__lte=version).first()
    if seen is None:
        return [], who
    return card.changes_between(older=seen, newer=latest, skip=skip), who


class EditConflict(ValidationError):
    """Someone else saved the client after the editor loaded it."""

    message_template = gettext_lazy(
        "%(who)s changed this client while you were editing it: %(changes)s. "
        "Nothing was saved: reload the card and apply your changes again."
    )
    # Fields not worth naming: they never change through the record's own form.
    skipped: frozenset[str] = frozenset()

    def __init__(self, *, changes: list[FieldChange], changed_by: str) -> None:
        self.changes = changes
        self.changed_fields = [change.label for change in changes]
        self.changed_by = changed_by
        shown = "; ".join(
            _("%(field)s: %(old)s → %(new)s")
            % {"field": change.label, "old": change.old, "new": change.new}
            for change in changes
        )
        super().__init__(
            str(self.message_template)
            % {"who": changed_by or _("Someone else"), "changes": shown or "—"},
            code="conflict",
        )

    @classmethod
    def since(cls, *, record: Any, version: int) -> Self:
        """The conflict of an edit of ``record`` made on its ``version``.

        A version the record has not reached is nobody's copy but bad input: it is
        refused on ``version`` instead of blaming someone else's change.
        """
        if version > record.version:
            raise ValidationError(
                {
                    "version": _(
                        "There is no version %(version)s of this record (the latest is "
                        "%(latest)s): reload it and edit again."
                    )
                    % {"version": version, "latest": record.version}
                },
                code="unknown_version",
            )
        changes, changed_by = changes_since(record=record, version=version, skip=cls.skipped)
        return cls(changes=changes, changed_by=changed_by)


class ContactEditConflict(EditConflict):
    """Someone else saved the contact after the editor loaded it."""

    message_template = gettext_lazy(
        "%(who)s changed this contact while you were editing it: %(changes)s. "
        "Nothing was saved: reload the contact and apply your changes again."
    )
    skipped = frozenset({"client"})


class TaskEditConflict(EditConflict):
    """Someone else saved the task after the editor loaded it."""

    message_template = gettext_lazy(
        "%(who)s changed this task while you were editing it: %(changes)s. "
        "Nothing was saved: reload the task and apply your changes again."
    )
    skipped = frozenset({"client", "created_by", "completed_at"})
