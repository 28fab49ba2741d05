"""A 1C-shaped shipments export for the import benchmark: Windows-1251, ``;``, CRLF.

A title and a period above the header, as a 1C report saved as CSV has them;
decimal commas and non-breaking thousands spaces; a return now and then.
Deterministic for a given seed, written in slices so memory stays small.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

HEADER = (
    "Номер;Дата;Код контрагента;ИНН;Контрагент;Код номенклатуры;Номенклатура;"
    "Номенклатурная группа;Количество;Сумма;Себестоимость;Менеджер"
)
GROUPS = ("Крепёж", "Инструмент", "Электрика", "Сантехника", "Лакокраска", "Спецодежда")


def money(value: float) -> str:
    whole, cents = f"{value:.2f}".split(".")
    grouped = f"{int(whole):,}".replace(",", "\xa0")
    return f"{grouped},{cents}"


def write_shipments_csv(
    path: Path,
    *,
    lines: int,
    clients: list[tuple[str, str, str]],
    skus: int = 2000,
    start: date = date(2026, 1, 1),
    days: int = 300,
    seed: int = 7,
    lines_per_doc: int = 8,
) -> int:
    """Write ``lines`` shipment lines for ``clients`` (code, INN, name); returns the documents."""
    rng = random.Random(seed)
    out: list[str] = [
        "Отчёт: продажи по документам",
        f"Период: {start:%d.%m.%Y} - {start + timedelta(days=days):%d.%m.%Y}",
        "",
        HEADER,
    ]
    written = docs = 0
    with path.open("w", encoding="cp1251", newline="") as file:
        while written < lines:
            docs += 1
            code, inn, name = clients[rng.randrange(len(clients))]
            day = start + timedelta(days=rng.randrange(days))
            number = f"РН-{docs:07d}"
            for _ in range(min(rng.randint(1, 2 * lines_per_doc - 1), lines - written)):
                sku = rng.randrange(skus)
                qty = rng.randint(1, 40)
                if rng.random() < 0.01:
                    qty = -qty
                price = 50 + (sku % 500) * 3.7
                amount = qty * price
                out.append(
                    f"{number};{day:%d.%m.%Y};{code};{inn};{name};A-{sku:05d};"
                    f"Товар {sku};{GROUPS[sku % len(GROUPS)]};{qty};{money(amount)};"
                    f"{money(amount * 0.7)};manager{sku % 20}@example.com"
                )
                written += 1
            if len(out) >= 10000:
                file.write("\r\n".join(out) + "\r\n")
                out = []
        if out:
            file.write("\r\n".join(out) + "\r\n")
    return docs
