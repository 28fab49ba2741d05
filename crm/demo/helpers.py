"""Small pure helpers: company INNs, transliteration and calendar months."""

from __future__ import annotations

import random
from datetime import date, timedelta

TRANSLIT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}


def inn_check_digit(first_nine: str) -> str:
    """The check digit of a company's 10-digit INN."""
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return str(sum(w * int(d) for w, d in zip(weights, first_nine, strict=True)) % 11 % 10)


def make_inn(region_code: int, rnd: random.Random) -> str:
    """A checksum-valid company INN: region, tax office, serial, check digit."""
    body = f"{region_code:02d}{rnd.randint(1, 40):02d}{rnd.randint(0, 99_999):05d}"
    return body + inn_check_digit(body)


def translit(text: str) -> str:
    """Latin letters for e-mail addresses and web sites."""
    return "".join(TRANSLIT.get(ch, ch) for ch in text.lower())


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier), clipped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    next_month = date(year + (month == 12), month % 12 + 1, 1)
    return date(year, month, min(day.day, (next_month - timedelta(days=1)).day))
