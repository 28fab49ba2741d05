from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from accounts.selectors import assignable_owners_for, clients_visible_to
from crm.models import Client, Contact, WalletEstimate
from crm.services import CLIENT_EDITABLE_FIELDS, CONTACT_EDITABLE_FIELDS


class ClientForm(forms.ModelForm):
    """The client card form. The owner is chosen only on creation."""

    # The version the editor loaded (edit only): a form without it could
    # overwrite someone else's change unseen.
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The form is missing the card's version: reload the card and edit again.")
        },
    )
    owner = forms.ModelChoiceField(
        label=_("Owner"),
        queryset=User.objects.none(),
        required=False,
        error_messages={
            "invalid_choice": _(
                "Choose an owner from the list: this user is unknown or not in your teams."
            )
        },
    )

    # The holding is named by its INN or ERP code: a select listing every
    # client would not scale to 100 000.
    holding = forms.CharField(
        label=_("Holding"),
        required=False,
        max_length=100,
        help_text=_("The INN or the ERP code of the parent company; empty: no holding."),
    )

    class Meta:
        model = Client
        fields = [f for f in CLIENT_EDITABLE_FIELDS if f != "parent"]

    # The holding where the card's fields have the parent.
    field_order = [f if f != "parent" else "holding" for f in CLIENT_EDITABLE_FIELDS]

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        if self.instance.pk:
            del self.fields["owner"]
            self.fields["version"].initial = self.instance.version
            parent = self.instance.parent
            if parent is not None:
                self.fields["holding"].initial = parent.inn or parent.external_id
        else:
            del self.fields["version"]
            owners = assignable_owners_for(user=user)
            owner_field = self.fields["owner"]
            assert isinstance(owner_field, forms.ModelChoiceField)
            owner_field.queryset = owners
            self.fields["owner"].initial = user.pk
            if not user.is_head:
                del self.fields["owner"]
        self.fields["inn"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "off"})

    def service_fields(self) -> dict[str, Any]:
        """The cleaned card fields as the client services take them."""
        data = {
            k: v for k, v in self.cleaned_data.items() if k not in ("owner", "version", "holding")
        }
        data["parent"] = self.cleaned_data.get("holding")
        return data

    def add_service_error(self, error: ValidationError) -> None:
        """A refusal of the services, on the form's own fields (the holding's checks
        name ``parent``)."""
        if hasattr(error, "error_dict"):
            for name, problems in error.error_dict.items():
                field = "holding" if name == "parent" else name
                self.add_error(field if field in self.fields else None, problems)
        else:
            self.add_error(None, error)

    def clean_inn(self) -> str:
        return "".join(str(self.cleaned_data.get("inn") or "").split())

    def clean_kpp(self) -> str:
        return str(self.cleaned_data.get("kpp") or "").strip().upper()

    def clean_external_id(self) -> str:
        return str(self.cleaned_data.get("external_id") or "").strip()

    def clean_holding(self) -> Client | None:
        """The parent client the user named, among the clients they see: by ERP code,
        else by INN (of several branches with one INN, the one at the top)."""
        code = str(self.cleaned_data.get("holding") or "").strip()
        if not code:
            return None
        seen = clients_visible_to(user=self.user)
        found = list(seen.filter(external_id=code)[:2]) or list(
            seen.filter(inn="".join(code.split()))[:5]
        )
        if len(found) > 1:
            found = [client for client in found if client.parent_id is None] or found
        if not found:
            raise ValidationError(
                _("No client you can see has this INN or ERP code."), code="unknown_holding"
            )
        if len(found) > 1:
            raise ValidationError(
                _("Several clients have this INN: give the holding's ERP code instead."),
                code="ambiguous_holding",
            )
        return found[0]


class ContactForm(forms.ModelForm):
    # The version the editor loaded (edit only), as on the client's form.
    version = forms.IntegerField(
        widget=forms.HiddenInput,
        error_messages={
            "required": _("The form is missing the contact's version: reload it and edit again.")
        },
    )

    class Meta:
        model = Contact
        fields = list(CONTACT_EDITABLE_FIELDS)

    def __init__(self, *args: Any, client: Client, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.client = client
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version
        else:
            del self.fields["version"]
        reports_to = self.fields["reports_to"]
        assert isinstance(reports_to, forms.ModelChoiceField)
        reports_to.queryset = client.contacts.exclude(pk=self.instance.pk or 0)


class ReassignForm(forms.Form):
    """A head gives a client to another owner of their teams."""

    new_owner = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=User.objects.none(),
        error_messages={
            "invalid_choice": _(
                "Choose an owner from the list: this user is unknown or not in your teams."
            )
        },
    )
    note = forms.CharField(
        label=_("Note for the new owner"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        new_owner = self.fields["new_owner"]
        assert isinstance(new_owner, forms.ModelChoiceField)
        new_owner.queryset = assignable_owners_for(user=user)


class WalletEstimateForm(forms.ModelForm):
    """A manager's estimate of the client's own turnover or wallet for a year."""

    per_month = forms.BooleanField(
        label=_("The amount is per month"),
        required=False,
        help_text=_("It is stored per year: a monthly amount is multiplied by 12."),
    )

    class Meta:
        model = WalletEstimate
        fields = ["kind", "year", "amount", "per_month", "product_group", "basis", "comment"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year
        self.fields["amount"].widget.attrs.update({"inputmode": "decimal", "min": "0"})


class ClientMergeForm(forms.Form):
    """The note kept with a merge (the merge page's only input)."""

    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class EstimateReviewForm(forms.Form):
    comment = forms.CharField(label=_("Comment"), required=False, max_length=2000)
