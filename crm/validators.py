"""Validators of Russian company identifiers, with translated messages."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum, InvalidFormat, InvalidLength
from stdnum.ru import inn as stdnum_inn

_KPP_RE = re.compile(r"^\d{4}[0-9A-Z]{2}\d{3}$")


def normalize_inn(value: str) -> str:
    return stdnum_inn.compact(value or "")


def validate_inn(value: str) -> None:
    """An INN has 10 digits (a company) or 12 (a sole trader) and check digits."""
    if not value:
        return
    try:
        stdnum_inn.validate(value)
    except InvalidLength:
        raise ValidationError(
            _("An INN has 10 digits (a company) or 12 digits (a sole trader)."),
            code="inn_length",
        ) from None
    except InvalidFormat:
        raise ValidationError(_("An INN consists of digits only."), code="inn_format") from None
    except InvalidChecksum:
        raise ValidationError(
            _("This INN has a wrong check digit: please check it for a typo."),
            code="inn_checksum",
        ) from None


def validate_kpp(value: str) -> None:
    """A KPP has nine characters: 4 digits, 2 digits or Latin capitals, 3 digits."""
    if value and not _KPP_RE.match(value):
        raise ValidationError(
            _("A KPP has 9 characters: four digits, two digits or capital letters, three digits."),
            code="kpp_format",
        )
