from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from accounts import services
from config.celery import queue


class EmailAuthenticationForm(AuthenticationForm):
    """The login form: an e-mail address and a password."""

    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    error_messages = {
        "invalid_login": _(
            "The e-mail address or the password is wrong. Only the password is case-sensitive."
        ),
        "inactive": _("This account is switched off. Ask an administrator."),
    }

    def clean_username(self) -> str:
        return str(self.cleaned_data["username"]).strip().lower()


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class QueuedPasswordResetForm(PasswordResetForm):
    """Sends the reset letter through the task queue once the request commits."""

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        from accounts.tasks import email_send

        subject = "".join(render_to_string(subject_template_name, context).splitlines())
        body = render_to_string(email_template_name, context)
        html_body = (
            render_to_string(html_email_template_name, context)
            if html_email_template_name
            else None
        )
        mail: dict[str, Any] = {
            "subject": subject,
            "body": body,
            "to": [to_email],
            "html_body": html_body,
        }

        def send() -> None:
            if not queue(email_send, **mail):  # no broker: send it now rather than never
                services.email_send(**mail)

        transaction.on_commit(send)
