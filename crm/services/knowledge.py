"""What we learn about a client: survey answers and the dossier."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.selectors import client_can_edit
from crm import selectors
from crm.choices import TaskKind, TaskStatus
from crm.models import Client, Contact, DossierNote, SurveyAnswer, SurveyKind, Task

# The owner has this many days to act on a low score.
SURVEY_FOLLOW_UP_DAYS = 3


def survey_threshold(kind: str) -> int:
    """Scores below this open a follow-up task (settings, domain.md "Surveys")."""
    if kind == SurveyKind.NPS:
        return int(settings.SURVEY_FOLLOW_UP_BELOW_NPS)
    return int(settings.SURVEY_FOLLOW_UP_BELOW_SATISFACTION)


@transaction.atomic
def survey_answer_record(
    *,
    client: Client,
    acting_user: User,
    kind: str,
    score: int,
    contact: Contact | None = None,
    comment: str = "",
    answered_on: dt.date | None = None,
) -> SurveyAnswer:
    """Keep an answer; one below the threshold opens a follow-up task for the owner.

    While a follow-up of the client is still open, a further low answer is
    linked to it instead of piling up a second task.
    """
    if not client_can_edit(user=acting_user, client=client):
        raise PermissionDenied(_("You may not change this client."))
    if answered_on is not None and answered_on > timezone.localdate():
        raise ValidationError(
            {"answered_on": _("An answer cannot come from the future.")}, code="future"
        )
    answer = SurveyAnswer(
        client=client,
        contact=contact,
        kind=kind,
        score=score,
        comment=comment,
        answered_on=answered_on or timezone.localdate(),
        entered_by=acting_user,
    )
    answer.full_clean()
    if score < survey_threshold(kind):
        answer.follow_up = _follow_up_task(answer=answer, acting_user=acting_user)
    answer.save()
    return answer


def _follow_up_task(*, answer: SurveyAnswer, acting_user: User) -> Task:
    client = answer.client
    existing = (
        Task.objects.select_for_update()
        .filter(client=client, kind=TaskKind.SURVEY_FOLLOW_UP, status=TaskStatus.OPEN)
        .order_by("id")
        .first()
    )
    if existing is not None:
        return existing
    if answer.kind == SurveyKind.NPS:
        title = _("Low NPS %(score)s/10: talk to the client") % {"score": answer.score}
    else:
        title = _("Low satisfaction %(score)s/5: talk to the client") % {"score": answer.score}
    description = answer.comment
    if answer.contact is not None:
        description = _("Answered by %(name)s.") % {"name": answer.contact.full_name} + (
            "\n" + answer.comment if answer.comment else ""
        )
    task = Task(
        client=client,
        title=title,
        kind=TaskKind.SURVEY_FOLLOW_UP,
        due_on=timezone.localdate() + dt.timedelta(days=SURVEY_FOLLOW_UP_DAYS),
        assignee=client.owner,
        created_by=acting_user,
        description=description,
    )
    task.full_clean()
    task._history_user = acting_user  # type: ignore[attr-defined]
    task.save()
    return task


@transaction.atomic
def dossier_note_create(
    *, client: Client, acting_user: User, text: str, visibility: str
) -> DossierNote:
    if not client_can_edit(user=acting_user, client=client):
        raise PermissionDenied(_("You may not change this client."))
    note = DossierNote(client=client, author=acting_user, text=text, visibility=visibility)
    note.full_clean()
    note._history_user = acting_user  # type: ignore[attr-defined]
    note.save()
    return note


@transaction.atomic
def dossier_note_update(
    *,
    note: DossierNote,
    acting_user: User,
    text: str | None = None,
    visibility: str | None = None,
) -> DossierNote:
    """Only the author changes a note; the earlier text stays in its history."""
    if not selectors.dossier_note_can_change(user=acting_user, note=note):
        raise PermissionDenied(_("Only the author may change a note."))
    current = DossierNote.objects.select_for_update().get(pk=note.pk)
    if text is not None:
        current.text = text
    if visibility is not None:
        current.visibility = visibility
    current.full_clean()
    current._history_user = acting_user  # type: ignore[attr-defined]
    current.save()
    return current
