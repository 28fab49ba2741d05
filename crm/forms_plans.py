"""Forms of the plans page: the period picker, a plan and a forecast.

Shares are typed in per cent (0–100) and stored as fractions (0–1).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import Period, PeriodKind
from crm.models.plans import PERIOD_START_MESSAGES, is_period_start, validate_period_year


class PeriodForm(forms.Form):
    """The period picker: a kind and any day in the period (normalised to its start)."""

    kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    start = forms.DateField(
        label=_("Starting"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Any day of the period."),
        validators=[validate_period_year],
    )

    def period(self) -> Period:
        """The chosen period, or the current month when the input is bad or missing."""
        if self.is_valid():
            return Period.containing(self.cleaned_data["kind"], self.cleaned_data["start"])
        kind = self.data.get("kind")
        kind = kind if kind in PeriodKind.values else PeriodKind.MONTH
        return Period.containing(kind, timezone.localdate())


class _AmountForm(forms.Form):
    period_kind = forms.ChoiceField(label=_("Period"), choices=PeriodKind.choices)
    period_start = forms.DateField(
        label=_("Period start"),
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("The first day of the month, quarter or year."),
        validators=[validate_period_year],
    )
    amount = forms.DecimalField(
        label=_("Amount"),
        max_digits=18,
        decimal_places=2,
        min_value=0,
        error_messages={"min_value": _("An amount cannot be negative.")},
    )
    share_percent = forms.DecimalField(
        label=_("Share of wallet, %"),
        required=False,
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=100,
        error_messages={
            "min_value": _("A share of wallet cannot be negative."),
            "max_value": _("A share of wallet cannot exceed 100 %%."),
        },
    )

    def __init__(self, *args: Any, period: Period | None = None, **kwargs: Any) -> None:
        if period is not None:
            kwargs.setdefault("initial", {})
            kwargs["initial"] = {
                "period_kind": period.kind,
                "period_start": period.start,
                **kwargs["initial"],
            }
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind, start = data.get("period_kind"), data.get("period_start")
        if kind and isinstance(start, dt.date) and not is_period_start(kind, start):
            self.add_error("period_start", str(PERIOD_START_MESSAGES[PeriodKind(kind)]))
        return data

    def period(self) -> Period:
        return Period(self.cleaned_data["period_kind"], self.cleaned_data["period_start"])

    def share(self) -> Decimal | None:
        percent = self.cleaned_data.get("share_percent")
        return None if percent is None else percent / 100

    def apply_errors(self, error: ValidationError) -> None:
        """A service's refusal on the field it names (``share`` is typed in per cent)."""
        if not hasattr(error, "error_dict"):
            self.add_error(None, error)
            return
        for name, messages in error.message_dict.items():
            name = "share_percent" if name == "share" else name
            self.add_error(name if name in self.fields else None, messages)


class PlanForm(_AmountForm):
    note = forms.CharField(
        label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ForecastForm(_AmountForm):
    comment = forms.CharField(
        label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
