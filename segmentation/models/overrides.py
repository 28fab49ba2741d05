"""A head's override of one client's segment (domain.md "Segments")."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from segmentation.choices import RATED_SEGMENT_CHOICES, RATED_SEGMENTS, Segment


class SegmentOverride(models.Model):
    """The segment a head set for one client; it wins over the rules until removed.

    One per client. Setting, changing and removing it are kept in its history
    (who, when, old and new segment, the reason); the runs store both the
    segment the rules give and the one in force.
    """

    client = models.OneToOneField(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="segment_override",
    )
    segment = models.CharField(
        _("segment"),
        max_length=8,
        choices=RATED_SEGMENT_CHOICES,
    )
    reason = models.CharField(_("reason"), max_length=500)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set"), default=timezone.now)

    history = HistoricalRecords(history_change_reason_field=models.TextField(null=True))

    class Meta:
        verbose_name = _("segment override")
        verbose_name_plural = _("segment overrides")
        constraints = [
            models.CheckConstraint(
                condition=Q(segment__in=[s.value for s in RATED_SEGMENTS]),
                name="segment_override_rated_segment",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="segment_override_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id}: {Segment(self.segment).label}"
