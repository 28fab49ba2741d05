"""Plans, forecasts and the periods they are set for ("plan – forecast – report").

A head sets a plan in money (shipments) and, optionally, in share of wallet
for a client, a manager or a team (a root team is a department) and for a
month, a quarter or a year. The manager who owns a client forecasts what the
period will bring, for the client and for their own book. The actual comes
from shipment lines (selectors); nothing here is computed from other rows.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class PeriodKind(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")


class PlanLevel(models.TextChoices):
    """Whose plan: a team (a root team is a department), a manager, a client."""

    TEAM = "team", _("Team")
    MANAGER = "manager", _("Manager")
    CLIENT = "client", _("Client")


def _months(kind: str) -> int:
    return {PeriodKind.MONTH: 1, PeriodKind.QUARTER: 3, PeriodKind.YEAR: 12}[PeriodKind(kind)]


@dataclass(frozen=True)
class Period:
    """A calendar month, quarter or year, named by its kind and its first day."""

    kind: str
    start: dt.date

    def __post_init__(self) -> None:
        if self.kind not in PeriodKind.values:
            raise ValueError(f"unknown period kind {self.kind!r}")
        if not is_period_start(self.kind, self.start):
            raise ValueError(f"{self.start} does not start a {self.kind}")

    @classmethod
    def containing(cls, kind: str, day: dt.date) -> Period:
        if kind == PeriodKind.YEAR:
            return cls(kind, dt.date(day.year, 1, 1))
        if kind == PeriodKind.QUARTER:
            return cls(kind, dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1))
        return cls(kind, day.replace(day=1))

    @property
    def end(self) -> dt.date:
        """The last day of the period (inclusive)."""
        month_index = self.start.month - 1 + _months(self.kind) - 1
        year, month = self.start.year + month_index // 12, month_index % 12 + 1
        return dt.date(year, month, calendar.monthrange(year, month)[1])

    def to_date(self, today: dt.date) -> dt.date:
        """The last day whose shipments count so far: the end, or today if earlier."""
        return min(self.end, today)

    def shifted(self, steps: int) -> Period:
        month_index = self.start.year * 12 + self.start.month - 1 + steps * _months(self.kind)
        return Period(self.kind, dt.date(month_index // 12, month_index % 12 + 1, 1))

    @property
    def label(self) -> str:
        if self.kind == PeriodKind.YEAR:
            return str(self.start.year)
        if self.kind == PeriodKind.QUARTER:
            return _("Q%(quarter)s %(year)s") % {
                "quarter": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        return date_format(self.start, "YEAR_MONTH_FORMAT")


def is_period_start(kind: str, day: dt.date) -> bool:
    if day.day != 1:
        return False
    if kind == PeriodKind.YEAR:
        return day.month == 1
    if kind == PeriodKind.QUARTER:
        return day.month in (1, 4, 7, 10)
    return kind == PeriodKind.MONTH


PERIOD_START_MESSAGES = {
    PeriodKind.MONTH: _("A monthly plan starts on the first day of a month."),
    PeriodKind.QUARTER: _(
        "A quarterly plan starts on the first day of a quarter (1 January, 1 April, "
        "1 July or 1 October)."
    ),
    PeriodKind.YEAR: _("A yearly plan starts on 1 January."),
}

# Periods stay within these years: the pages link each period to the ones before
# and after it, which the ends of the calendar (years 1 and 9999) lack.
PERIOD_YEARS = (1900, 2999)


def validate_period_year(day: dt.date) -> None:
    first, last = PERIOD_YEARS
    if not first <= day.year <= last:
        raise ValidationError(
            _("Choose a period between the years %(first)s and %(last)s."),
            code="period_year",
            params={"first": first, "last": last},
        )


SHARE_VALIDATORS = [
    MinValueValidator(Decimal(0), message=_("A share of wallet cannot be negative.")),
    MaxValueValidator(Decimal(1), message=_("A share of wallet cannot exceed 100 %%.")),
]
AMOUNT_VALIDATORS = [MinValueValidator(Decimal(0), message=_("An amount cannot be negative."))]


class _Target(models.Model):
    """The target and period columns that plans and forecasts share."""

    level = models.CharField(_("level"), max_length=10, choices=PlanLevel.choices)
    client = models.ForeignKey(
        "crm.Client",
        verbose_name=_("client"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("manager"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    period_kind = models.CharField(_("period"), max_length=10, choices=PeriodKind.choices)
    period_start = models.DateField(_("period start"))
    amount = models.DecimalField(
        _("amount"), max_digits=18, decimal_places=2, validators=AMOUNT_VALIDATORS
    )
    share = models.DecimalField(
        _("share of wallet"),
        max_digits=5,
        decimal_places=4,
        null=True,
        blank=True,
        validators=SHARE_VALIDATORS,
        help_text=_("A fraction from 0 to 1; empty: no share target."),
    )

    class Meta:
        abstract = True

    @property
    def period(self) -> Period:
        return Period(self.period_kind, self.period_start)

    @property
    def target(self) -> object:
        """The client, manager or team the row is for."""
        return getattr(self, self.level)

    def clean(self) -> None:
        errors: dict[str, object] = {}
        if (
            self.period_kind in PeriodKind.values
            and self.period_start is not None
            and not is_period_start(self.period_kind, self.period_start)
        ):
            errors["period_start"] = PERIOD_START_MESSAGES[PeriodKind(self.period_kind)]
        if errors:
            raise ValidationError(errors)


def _one_target(level: str, with_team: bool) -> Q:
    """Exactly the column of the level is filled."""
    columns = ["client", "manager", "team"] if with_team else ["client", "manager"]
    condition = Q(level=level)
    for column in columns:
        condition &= Q(**{f"{column}__isnull": column != level})
    return condition


def _target_constraints(prefix: str, levels: tuple[str, ...]) -> list[models.BaseConstraint]:
    """The checks plans and forecasts share, named ``<prefix>_…``: a non-negative
    amount, a share within 0..1, exactly one target of the row's level, one row
    per target and period."""
    with_team = "team" in levels
    one_target = _one_target(levels[0], with_team)
    for level in levels[1:]:
        one_target |= _one_target(level, with_team)
    return [
        models.CheckConstraint(
            condition=Q(amount__gte=0),
            name=f"{prefix}_amount_not_negative",
            violation_error_message=_("An amount cannot be negative."),
        ),
        models.CheckConstraint(
            condition=Q(share__isnull=True) | Q(share__gte=0, share__lte=1),
            name=f"{prefix}_share_between_0_and_1",
            violation_error_message=_("A share of wallet is between 0 and 100 %%."),
        ),
        models.CheckConstraint(condition=one_target, name=f"{prefix}_one_target_of_its_level"),
        *(
            models.UniqueConstraint(
                fields=[level, "period_kind", "period_start"],
                condition=Q(level=level),
                name=f"{prefix}_unique_{level}_period",
            )
            for level in levels
        ),
    ]


class SalesPlan(_Target):
    """A plan for one team, manager or client and one period, set by a head."""

    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    set_at = models.DateTimeField(_("set"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sales plan")
        verbose_name_plural = _("sales plans")
        ordering = ["-period_start", "period_kind", "level", "id"]
        constraints = _target_constraints("plan", ("team", "manager", "client"))
        indexes = [
            models.Index(fields=["period_kind", "period_start", "level"], name="plan_period_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.period.label}"


class SalesForecast(_Target):
    """What the manager expects a client or their own book to bring in a period."""

    comment = models.TextField(_("comment"), blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("entered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    entered_at = models.DateTimeField(_("entered"), default=timezone.now)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sales forecast")
        verbose_name_plural = _("sales forecasts")
        ordering = ["-period_start", "period_kind", "level", "id"]
        constraints = _target_constraints("forecast", ("manager", "client"))
        indexes = [
            models.Index(
                fields=["period_kind", "period_start", "level"], name="forecast_period_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.period.label}"
