"""The client dossier: free-form knowledge about a client, with access rights."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class NoteVisibility(models.TextChoices):
    TEAM = "team", _("The owner's team only")
    EVERYONE = "everyone", _("Everyone who sees the client")


class DossierNote(models.Model):
    """A note of the client dossier (domain.md "The client card").

    Team-only notes are read by the owner's team chain alone (the owner, the
    members of the owner's teams, the heads above them, administrators) and
    their author; ``crm.selectors.dossier_notes_visible_to`` applies that.
    """

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="dossier_notes",
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    text = models.TextField(_("text"))
    visibility = models.CharField(
        _("who may read it"),
        max_length=10,
        choices=NoteVisibility.choices,
        default=NoteVisibility.TEAM,
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("dossier note")
        verbose_name_plural = _("dossier notes")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["client", "created_at"], name="dossier_client_idx")]

    def __str__(self) -> str:
        return self.text[:60]
