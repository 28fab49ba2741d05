"""The client's people and its org chart."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm import choices


def phone_digits(phone: str) -> str:
    """The digits of a phone number, as the search compares them."""
    return re.sub(r"\D", "", phone or "")


class Contact(models.Model):
    """A person at a client, with their part in the client's decisions."""

    client = models.ForeignKey(
        "crm.Client", verbose_name=_("client"), on_delete=models.CASCADE, related_name="contacts"
    )
    full_name = models.CharField(_("full name"), max_length=200)
    position = models.CharField(_("position"), max_length=200, blank=True)
    department = models.CharField(_("department"), max_length=200, blank=True)
    level = models.CharField(
        _("level"), max_length=20, choices=choices.ContactLevel.choices, blank=True
    )
    phone = models.CharField(_("phone"), max_length=60, blank=True)
    # The phone without separators, kept by save(): the search finds
    # "8 916 123" in "+7 (916) 123-45-67" through an index on it.
    phone_digits = models.CharField(max_length=60, blank=True, editable=False)
    email = models.EmailField(_("e-mail"), blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=choices.DecisionRole.choices, blank=True
    )
    influence = models.PositiveSmallIntegerField(
        _("influence"), choices=choices.Influence.choices, null=True, blank=True
    )
    attitude = models.CharField(
        _("attitude"),
        max_length=20,
        choices=choices.Attitude.choices,
        default=choices.Attitude.UNKNOWN,
    )
    reports_to = models.ForeignKey(
        "self",
        verbose_name=_("reports to"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    is_active = models.BooleanField(_("works there"), default=True)
    note = models.TextField(_("note"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    # Bumped on every save, and kept in the history: an edit that carries an
    # older version is refused, naming what changed since (crm.services.contact_save).
    version = models.PositiveIntegerField(default=1, editable=False)

    history = HistoricalRecords(excluded_fields=["phone_digits"])

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["full_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(reports_to=models.F("id")), name="contact_not_own_manager"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.phone_digits = phone_digits(self.phone)
        if self.pk and not self._state.adding:
            self.version = (self.version or 0) + 1
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            extra = {"version"} | ({"phone_digits"} if "phone" in update_fields else set())
            kwargs["update_fields"] = {*update_fields, *extra}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        if self.reports_to_id is None:
            return
        if self.reports_to is not None and self.reports_to.client_id != self.client_id:
            raise ValidationError(
                {"reports_to": _("A contact can only report to a person of the same client.")}
            )
        seen = {self.pk} if self.pk else set()
        boss = self.reports_to
        while boss is not None:
            if boss.pk in seen:
                raise ValidationError(
                    {"reports_to": _("This would make the reporting lines a circle.")}
                )
            seen.add(boss.pk)
            boss = boss.reports_to
