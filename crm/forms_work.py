"""Forms of the daily work: touches, tasks, survey answers, dossier notes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from crm import choices, selectors
from crm.models import Client, Contact, DossierNote, SurveyAnswer, Task
from crm.services import LapseSide, NextStep, ReactivationAttempt

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"
PAST_DUE = _("The due date cannot be in the past.")


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class TouchForm(forms.Form):
    """Log a touch, optionally with the next step and as a reactivation attempt."""

    kind = forms.ChoiceField(
        label=_("Kind"), choices=choices.ActivityKind.choices, initial=choices.ActivityKind.CALL
    )
    occurred_at = forms.DateTimeField(
        label=_("When"),
        input_formats=[DATETIME_LOCAL, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
    )
    contact = forms.ModelChoiceField(
        label=_("Contact"),
        queryset=Contact.objects.none(),
        required=False,
        empty_label=_("— nobody in particular —"),
        error_messages={"invalid_choice": _("Choose a contact of this client.")},
    )
    purpose = forms.ChoiceField(
        label=_("Purpose"),
        choices=choices.ActivityPurpose.choices,
        initial=choices.ActivityPurpose.SALE,
    )
    initiated_by = forms.ChoiceField(
        label=_("Initiated by"), choices=choices.Initiator.choices, initial=choices.Initiator.US
    )
    duration_minutes = forms.IntegerField(
        label=_("Duration, minutes"), required=False, min_value=0, max_value=24 * 60
    )
    summary = forms.CharField(
        label=_("Summary"), max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    performed_by = forms.ModelChoiceField(
        label=_("Performed by"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("The manager who gets the credit for the touch."),
        error_messages={"invalid_choice": _("Choose one of the managers you serve.")},
    )
    reactivation = forms.BooleanField(
        label=_("This is a reactivation attempt (a sleeping or lost client)"), required=False
    )
    lapse_side = forms.ChoiceField(
        label=_("Whose side caused the lapse"),
        choices=LapseSide.choices,
        initial=LapseSide.UNKNOWN,
        required=False,
    )
    lapse_reason = forms.CharField(label=_("Reason of the lapse"), required=False, max_length=500)
    next_title = forms.CharField(label=_("What to do next"), required=False, max_length=300)
    next_due_on = forms.DateField(label=_("Next step due"), required=False, widget=DateInput())
    next_assignee = forms.ModelChoiceField(
        label=_("Next step for"),
        queryset=User.objects.none(),
        required=False,
        error_messages={"invalid_choice": _("You cannot give a task to this user.")},
    )

    def __init__(self, *args: Any, client: Client, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.client = client
        self.user = user
        self.fields["occurred_at"].initial = timezone.localtime().strftime(DATETIME_LOCAL)
        contact = self.fields["contact"]
        assert isinstance(contact, forms.ModelChoiceField)
        contact.queryset = client.contacts.filter(is_active=True)
        from accounts.choices import Role

        if user.has_role(Role.BACK_OFFICE):
            performer = self.fields["performed_by"]
            assert isinstance(performer, forms.ModelChoiceField)
            performer.queryset = selectors.touch_performers_for(user=user)
            performer.initial = user.pk
        else:
            del self.fields["performed_by"]
        if user.is_head:
            assignee = self.fields["next_assignee"]
            assert isinstance(assignee, forms.ModelChoiceField)
            assignee.queryset = selectors.task_assignees_for(user=user)
            assignee.initial = user.pk
        else:
            del self.fields["next_assignee"]

    def clean_next_due_on(self) -> dt.date | None:
        due = self.cleaned_data.get("next_due_on")
        if due is not None and due < timezone.localdate():
            raise forms.ValidationError(PAST_DUE, code="past_due")
        return due

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        title = (data.get("next_title") or "").strip()
        if not title and data.get("next_due_on"):
            self.add_error("next_title", _("Say what the next step is."))
        if title and not data.get("next_due_on") and "next_due_on" not in self.errors:
            self.add_error("next_due_on", _("Give the next step a due date."))
        return data

    def fieldsets(self) -> list[dict[str, Any]]:
        """The touch, then what it leads to; rarely used details fold away."""
        groups = [
            ("", ["kind", "occurred_at", "contact", "summary", "outcome"], False),
            (_("Next step"), ["next_title", "next_due_on", "next_assignee"], False),
            (
                _("Details"),
                ["purpose", "initiated_by", "duration_minutes", "performed_by"],
                True,
            ),
            (_("Reactivation attempt"), ["reactivation", "lapse_side", "lapse_reason"], True),
        ]
        result = []
        for legend, names, foldable in groups:
            fields = [self[name] for name in names if name in self.fields]
            result.append(
                {
                    "legend": legend,
                    "fields": fields,
                    "folded": foldable
                    and not any(
                        field.errors or (field.name == "reactivation" and field.value())
                        for field in fields
                    ),
                    "foldable": foldable,
                }
            )
        return result

    def service_kwargs(self) -> dict[str, Any]:
        """The arguments of ``crm.services.activity_log`` (client and user aside)."""
        data = self.cleaned_data
        kwargs: dict[str, Any] = {
            "kind": data["kind"],
            "occurred_at": data["occurred_at"],
            "contact": data.get("contact"),
            "purpose": data["purpose"],
            "initiated_by": data["initiated_by"],
            "duration_minutes": data.get("duration_minutes"),
            "summary": data["summary"],
            "outcome": data.get("outcome", ""),
            "performed_by": data.get("performed_by"),
        }
        if data.get("next_title", "").strip():
            kwargs["next_step"] = NextStep(
                title=data["next_title"].strip(),
                due_on=data["next_due_on"],
                assignee=data.get("next_assignee"),
            )
        if data.get("reactivation"):
            kwargs["reactivation"] = ReactivationAttempt(
                side=data.get("lapse_side") or LapseSide.UNKNOWN,
                reason=data.get("lapse_reason", ""),
            )
        return kwargs


class TaskForm(forms.ModelForm):
    """Create or edit a task; the assignee among the people the user may assign."""

    # The version the editor loaded (edit only), as on the client's form.
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The form is missing the task's version: reload it and edit again.")
        },
    )

    class Meta:
        model = Task
        fields = ["title", "kind", "due_on", "assignee", "description"]
        widgets = {
            "due_on": DateInput(),
            "description": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "assignee": {"invalid_choice": _("You cannot give a task to this user.")},
        }

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        allowed = selectors.task_assignees_for(user=user).values("id")
        keep = Q(pk=self.instance.assignee_id) if self.instance.pk else Q(pk__in=[])
        assignee.queryset = User.objects.filter(Q(pk__in=allowed) | keep)
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:
            assignee.initial = user.pk
            del self.fields["version"]
        self.fields["kind"].initial = choices.TaskKind.TOUCH

    def clean_due_on(self) -> dt.date:
        due: dt.date = self.cleaned_data["due_on"]
        changed = not self.instance.pk or due != self.instance.due_on
        if changed and due < timezone.localdate():
            raise forms.ValidationError(PAST_DUE, code="past_due")
        return due


class TaskFilterForm(forms.Form):
    """The filters of "My tasks"."""

    status = forms.ChoiceField(
        label=_("Status"),
        choices=[("", _("Any status")), *choices.TaskStatus.choices],
        required=False,
    )
    kind = forms.ChoiceField(
        label=_("Kind"), choices=[("", _("Any kind")), *choices.TaskKind.choices], required=False
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class SurveyAnswerForm(forms.ModelForm):
    class Meta:
        model = SurveyAnswer
        fields = ["kind", "score", "contact", "answered_on", "comment"]
        widgets = {
            "answered_on": DateInput(),
            "comment": forms.Textarea(attrs={"rows": 3}),
        }
        error_messages = {
            "contact": {"invalid_choice": _("Choose a contact of this client.")},
        }

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.client = client
        contact = self.fields["contact"]
        assert isinstance(contact, forms.ModelChoiceField)
        contact.queryset = client.contacts.filter(is_active=True)
        self.fields["score"].widget.attrs.update({"min": "0", "max": "10", "inputmode": "numeric"})

    def clean_answered_on(self) -> dt.date:
        day: dt.date = self.cleaned_data["answered_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("An answer cannot come from the future."))
        return day


class DossierNoteForm(forms.ModelForm):
    class Meta:
        model = DossierNote
        fields = ["text", "visibility"]
        widgets = {"text": forms.Textarea(attrs={"rows": 5})}
