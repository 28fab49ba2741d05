"""Money in the base currency, formatted for the active locale."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils.formats import number_format
from django.utils.translation import get_language

register = template.Library()

_SYMBOLS = {"RUB": "₽", "EUR": "€", "USD": "$"}


@register.filter
def money(value: object, decimals: int = 0) -> str:
    """``1234567.5`` → ``1,234,568 ₽`` in English, ``1 234 568 ₽`` in Russian."""
    if value is None or value == "":
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    amount = amount.quantize(Decimal(1).scaleb(-int(decimals)), rounding=ROUND_HALF_UP)
    symbol = _SYMBOLS.get(settings.BASE_CURRENCY, settings.BASE_CURRENCY)
    text = number_format(amount, decimal_pos=int(decimals), use_l10n=True, force_grouping=True)
    if (get_language() or "en").startswith("ru"):
        text = text.replace(" ", "\u00a0")
    return f"{text}\u00a0{symbol}"
