"""Survey answers: what a client (and which of its people) told us, scored."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SurveyKind(models.TextChoices):
    NPS = "nps", _("NPS (0–10)")
    SATISFACTION = "satisfaction", _("Satisfaction (1–5)")


# The scale of each kind of score, inclusive.
SCORE_RANGES: dict[str, tuple[int, int]] = {
    SurveyKind.NPS: (0, 10),
    SurveyKind.SATISFACTION: (1, 5),
}


class SurveyAnswer(models.Model):
    """One answer of a client to a survey question (seed 000, step 1).

    An answer below the threshold opens a follow-up task for the owner (see
    ``crm.services.knowledge.survey_answer_record``): a survey that leads to
    no decision is wasted.
    """

    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        related_name="survey_answers",
    )
    contact = models.ForeignKey(
        "crm.Contact",
        verbose_name=_("who answered"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="survey_answers",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=SurveyKind.choices)
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), blank=True)
    answered_on = models.DateField(_("answered on"), default=timezone.localdate)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now, editable=False)
    follow_up = models.ForeignKey(
        "crm.Task",
        verbose_name=_("follow-up task"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("survey answer")
        verbose_name_plural = _("survey answers")
        ordering = ["-answered_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=SurveyKind.NPS, score__lte=10)
                    | Q(kind=SurveyKind.SATISFACTION, score__gte=1, score__lte=5)
                ),
                name="surveyanswer_score_in_scale",
                violation_error_message=_("The score is outside the scale of this survey."),
            ),
        ]
        indexes = [models.Index(fields=["client", "answered_on"], name="survey_client_day_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.score}"

    def clean(self) -> None:
        low_high = SCORE_RANGES.get(self.kind)
        if low_high is None or self.score is None:
            return
        low, high = low_high
        if not low <= self.score <= high:
            raise ValidationError(
                {"score": _("Give a score from %(low)s to %(high)s.") % {"low": low, "high": high}}
            )
        if (
            self.contact_id
            and self.contact is not None
            and self.contact.client_id != self.client_id
        ):
            raise ValidationError({"contact": _("Choose a contact of this client.")})
