"""Money in the base currency, formatted for the active locale."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache

from django import template
from django.conf import settings
from django.utils.formats import get_format
from django.utils.translation import get_language

register = template.Library()

_SYMBOLS = {"RUB": "₽", "EUR": "€", "USD": "$"}
NBSP = "\u00a0"


@lru_cache(maxsize=16)
def _separators(language: str) -> tuple[str, str]:
    """The locale's decimal and thousands separators; a space never breaks a sum."""
    decimal = str(get_format("DECIMAL_SEPARATOR", language, use_l10n=True))
    thousands = str(get_format("THOUSAND_SEPARATOR", language, use_l10n=True))
    return decimal, thousands.replace(" ", NBSP)


@register.filter
def money(value: object, decimals: int = 0) -> str:
    """``1234567.5`` → ``1,234,568 ₽`` in English, ``1 234 568 ₽`` in Russian.

    A page shows hundreds of sums: Python's own grouping, with the locale's
    separators put in, instead of Django's general number formatting.
    """
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not amount.is_finite():
        return "—"
    places = int(decimals)
    amount = amount.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    if not amount:
        amount = abs(amount)  # "-0" is 0
    decimal, thousands = _separators(get_language() or settings.LANGUAGE_CODE)
    grouped = f"{amount:,.{places}f}"
    text = grouped.replace(",", "\0").replace(".", decimal).replace("\0", thousands)
    symbol = _SYMBOLS.get(settings.BASE_CURRENCY, settings.BASE_CURRENCY)
    return f"{text}{NBSP}{symbol}"
