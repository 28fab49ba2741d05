"""Forms of the client list: columns, saved filters, actions on a selection."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.choices import TaskKind
from crm.selectors import client_list as rows_of


class SavedFilterForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name of the filter"), required=False)
    query = forms.CharField(widget=forms.HiddenInput, required=False)


class ColumnsForm(forms.Form):
    columns = forms.MultipleChoiceField(
        label=gettext_lazy("Columns"),
        choices=[(column.key, column.label) for column in rows_of.COLUMNS],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    query = forms.CharField(widget=forms.HiddenInput, required=False)


class IdsField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        try:
            ids = sorted({int(item) for item in value or []})
        except (TypeError, ValueError):
            raise ValidationError(_("The selection is not valid."), code="invalid") from None
        # An id no row can have would overflow the database's integers.
        low, high = connection.ops.integer_field_range("BigAutoField")
        if ids and not (low <= ids[0] and ids[-1] <= high):
            raise ValidationError(_("The selection is not valid."), code="invalid")
        return ids


class SelectionForm(forms.Form):
    """Which clients an action is for: the ticked rows, or all matching the query."""

    ids = IdsField(required=False)
    all = forms.BooleanField(required=False, widget=forms.HiddenInput)
    query = forms.CharField(widget=forms.HiddenInput, required=False)


class BulkTaskForm(SelectionForm):
    title = forms.CharField(label=gettext_lazy("Task"), max_length=300)
    kind = forms.ChoiceField(
        label=gettext_lazy("Kind"), choices=TaskKind.choices, initial=TaskKind.TOUCH
    )
    due_on = forms.DateField(
        label=gettext_lazy("Due"), widget=forms.DateInput(attrs={"type": "date"})
    )
    to_owners = forms.ChoiceField(
        label=gettext_lazy("Who does it"),
        choices=[("", gettext_lazy("Me")), ("1", gettext_lazy("The owner of each client"))],
        required=False,
    )
    description = forms.CharField(
        label=gettext_lazy("Description"), widget=forms.Textarea, required=False
    )

    def clean_due_on(self) -> Any:
        due_on = self.cleaned_data["due_on"]
        if due_on < timezone.localdate():
            raise ValidationError(_("The due date cannot be in the past."), code="past_due")
        return due_on
