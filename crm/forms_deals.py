"""Forms of the deals pipeline: create, edit, move."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import clients_visible_to, users_managed_by
from crm import choices
from crm.forms_work import DateInput
from crm.models import Client, ClientGrant, Deal
from crm.selectors.deals import deal_owner_choices
from crm.services.deals import OPEN_STAGES, REASON_MAX_LENGTH

# A client select lists at most this many clients (the user's own book);
# any other client the user may change still validates (links from a card).
CLIENT_CHOICES_LIMIT = 500


def editable_clients(*, user: User) -> QuerySet[Client]:
    """Clients the user may change: ``client_can_edit`` as one queryset."""
    visible = clients_visible_to(user=user)
    if user.is_admin:
        return visible
    granted = ClientGrant.objects.active().filter(user=user, level="edit").values("client_id")
    scope = Q(owner=user) | Q(pk__in=granted)
    if user.is_head:
        scope |= Q(owner_id__in=users_managed_by(user=user).values("id"))
    return visible.filter(scope)


class UpdatedAtField(forms.CharField):
    """The ``updated_at`` the editor saw, carried through the form as ISO text."""

    widget = forms.HiddenInput

    def to_python(self, value: Any) -> dt.datetime | None:  # type: ignore[override]
        text = super().to_python(value)
        if not text:
            return None
        try:
            parsed = parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(_("Reload the page: the form is out of date."))
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed)
        return parsed


class DealForm(forms.ModelForm):
    """A new deal (client, stage at an open stage) or an edit (client fixed)."""

    updated_at_seen = UpdatedAtField(required=False)

    class Meta:
        model = Deal
        fields = ["client", "kind", "title", "stage", "amount", "expected_close_on", "owner"]
        widgets = {"expected_close_on": DateInput()}
        error_messages = {
            "client": {"invalid_choice": _("Choose one of your clients.")},
            "owner": {"invalid_choice": _("You cannot give a deal to this user.")},
            "amount": {"min_value": _("The amount cannot be negative.")},
        }

    def __init__(self, *args: Any, user: User, client: Client | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        if editing:
            del self.fields["client"]
            del self.fields["stage"]
            self.fields["updated_at_seen"].initial = self.instance.updated_at.isoformat()
        else:
            del self.fields["updated_at_seen"]
            field = self.fields["client"]
            assert isinstance(field, forms.ModelChoiceField)
            field.queryset = editable_clients(user=user)
            listed = list(
                field.queryset.filter(Q(owner=user) | Q(pk=getattr(client, "pk", None)))
                .order_by("name", "id")
                .values_list("id", "name")[:CLIENT_CHOICES_LIMIT]
            )
            field.widget.choices = [("", "---------"), *listed]
            if client is not None:
                field.initial = client.pk
            stage = self.fields["stage"]
            assert isinstance(stage, forms.ChoiceField)
            stage.choices = [(s.value, s.label) for s in choices.DealStage if s in OPEN_STAGES]
            self.fields["kind"].initial = choices.DealKind.NEW_BUSINESS
        owner = self.fields["owner"]
        assert isinstance(owner, forms.ModelChoiceField)
        if user.is_head:
            keep = Q(pk=self.instance.owner_id) if editing else Q(pk__in=[])
            owner.queryset = User.objects.filter(
                Q(pk__in=deal_owner_choices(user=user).values("id")) | keep
            ).order_by("last_name", "first_name", "email")
            owner.required = False
            if not editing:
                owner.initial = user.pk
        else:
            del self.fields["owner"]
        self.fields["amount"].widget.attrs.update({"min": "0", "step": "1"})

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount < 0:
            raise forms.ValidationError(_("The amount cannot be negative."), code="negative")
        return amount

    def clean_expected_close_on(self) -> dt.date | None:
        day: dt.date | None = self.cleaned_data.get("expected_close_on")
        changed = self.instance.pk is None or day != self.instance.expected_close_on
        if day is not None and changed and day < timezone.localdate():
            raise forms.ValidationError(
                _("The expected close date cannot be in the past."), code="past_close"
            )
        return day

    def service_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        fields = {
            "title": data["title"],
            "kind": data["kind"],
            "amount": data["amount"],
            "expected_close_on": data.get("expected_close_on"),
        }
        if data.get("owner") is not None:
            fields["owner"] = data["owner"]
        return fields


class DealMoveForm(forms.Form):
    """Move a deal to another stage (the board's fallback without JavaScript)."""

    stage = forms.ChoiceField(label=_("Stage"), choices=choices.DealStage.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        max_length=REASON_MAX_LENGTH,
        help_text=_("Required when the deal is lost; optional when it is won."),
    )
    updated_at = UpdatedAtField(required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("stage") == choices.DealStage.LOST and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why the deal was lost."))
        return data


class DealBoardFilterForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=[("", _("All deals")), *choices.DealKind.choices],
        required=False,
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        empty_label=_("Everyone"),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if user.is_head:
            owner = self.fields["owner"]
            assert isinstance(owner, forms.ModelChoiceField)
            owner.queryset = deal_owner_choices(user=user)
        else:
            del self.fields["owner"]
