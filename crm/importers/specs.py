"""Column specifications of the ERP import files (see docs: formats.md).

A spec names each column, the header aliases an accountant's export may use
(English or Russian, matched case-insensitively after trimming), whether it
is required, and how its cells are parsed. The alias tables are copied from
formats.md; the canonical name itself is always accepted as well.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from crm import choices


class CellType(StrEnum):
    TEXT = "text"
    CODE = "code"  # text whose leading zeros matter (ERP codes, SKUs, document numbers)
    DECIMAL = "decimal"
    INTEGER = "integer"  # a whole number >= 0
    DATE = "date"
    YEAR = "year"
    EMAIL = "email"
    INN = "inn"
    KPP = "kpp"
    CHOICE = "choice"


_SPACES_RE = re.compile(r"\s+")


def normalize_header(text: str) -> str:
    """Trim, collapse inner whitespace (NBSP included) and ignore case."""
    return _SPACES_RE.sub(" ", text).strip().casefold()


def normalize_word(text: str) -> str:
    """Normalise a choice word: like a header, and «ё» is «е» (1C writes both)."""
    return normalize_header(text).replace("ё", "е")


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    type: CellType = CellType.TEXT
    max_length: int | None = None
    # Decimal bounds mirror the model fields, so a parsed row saves as it reads.
    max_digits: int = 16
    decimal_places: int = 2
    non_negative: bool = False
    choices: Mapping[str, str] = field(default_factory=dict)
    default: str = ""

    def header_names(self) -> frozenset[str]:
        return frozenset(normalize_header(n) for n in (self.name, *self.aliases))


@dataclass(frozen=True)
class FileSpec:
    kind: str
    columns: tuple[ColumnSpec, ...]
    # Groups of columns of which at least one must be present (and filled).
    either_or: tuple[tuple[str, ...], ...] = ()
    # A column whose value may appear only once in a file (clients: the ERP code).
    unique: str | None = None

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    def alias_map(self) -> dict[str, str]:
        """Normalised header text -> canonical column name."""
        return {alias: c.name for c in self.columns for alias in c.header_names()}

    def missing(self, present: set[str]) -> list[str]:
        """Required columns (or either-or groups, joined by « / ») absent from a header."""
        missing = [c.name for c in self.columns if c.required and c.name not in present]
        missing += [" / ".join(g) for g in self.either_or if not present.intersection(g)]
        return missing


def _choice_map(words: dict[str, tuple[str, ...]]) -> Mapping[str, str]:
    """Map each code and each accepted word (normalised) to the code."""
    table = {normalize_word(code): str(code) for code in words}
    table.update({normalize_word(w): str(code) for code, ws in words.items() for w in ws})
    return MappingProxyType(table)


SALES_TYPES = _choice_map(
    {
        choices.SalesType.TRANSACTIONAL: ("транзакционные", "транзакционный", "транзакционная"),
        choices.SalesType.MIXED: ("смешанные", "смешанный", "смешанная"),
        choices.SalesType.CONSULTATIVE: (
            "консультационные",
            "консультационный",
            "консультационная",
            "консультативные",
            "консультативный",
        ),
        choices.SalesType.STRATEGIC: ("стратегические", "стратегический", "стратегическая"),
    }
)

BASES = _choice_map(
    {
        choices.EstimateBasis.CLIENT: ("клиент", "со слов клиента", "данные клиента"),
        choices.EstimateBasis.OUTLETS: ("торговые точки", "точки", "по точкам"),
        choices.EstimateBasis.FINANCIALS: (
            "финансы",
            "отчетность",
            "финансовая отчетность",
            "бухгалтерская отчетность",
        ),
        choices.EstimateBasis.EXPERT: ("эксперт", "экспертная оценка", "экспертно"),
    }
)

# Importing may only create drafts or verified estimates; «rejected» is a
# reviewer's decision, never a file's.
STATUSES = _choice_map(
    {
        choices.EstimateStatus.DRAFT: ("черновик",),
        choices.EstimateStatus.VERIFIED: (
            "проверено",
            "проверена",
            "проверен",
            "подтверждено",
            "подтверждена",
        ),
    }
)

CLIENTS = FileSpec(
    kind="clients",
    columns=(
        ColumnSpec("external_id", ("код", "код контрагента"), True, CellType.CODE, max_length=64),
        ColumnSpec("name", ("наименование", "контрагент"), True, max_length=300),
        ColumnSpec("inn", ("инн",), type=CellType.INN),
        ColumnSpec("kpp", ("кпп",), type=CellType.KPP),
        ColumnSpec("region", ("регион",), max_length=120),
        ColumnSpec("industry", ("отрасль",), max_length=120),
        ColumnSpec("sales_type", ("тип продаж",), type=CellType.CHOICE, choices=SALES_TYPES),
        ColumnSpec("owner_email", ("ответственный", "менеджер"), type=CellType.EMAIL),
        ColumnSpec("outlets", ("торговые точки",), type=CellType.INTEGER),
    ),
    unique="external_id",
)

WALLET_ESTIMATES = FileSpec(
    kind="wallet_estimates",
    columns=(
        ColumnSpec("client_external_id", ("код контрагента",), type=CellType.CODE, max_length=64),
        ColumnSpec("inn", ("инн",), type=CellType.INN),
        ColumnSpec("year", ("год",), True, CellType.YEAR),
        ColumnSpec(
            "turnover", ("оборот",), type=CellType.DECIMAL, max_digits=18, non_negative=True
        ),
        ColumnSpec(
            "wallet",
            ("потенциал", "бюджет закупок"),
            True,
            CellType.DECIMAL,
            max_digits=18,
            non_negative=True,
        ),
        ColumnSpec("product_group", ("номенклатурная группа",), max_length=200),
        ColumnSpec("basis", ("основание",), type=CellType.CHOICE, choices=BASES),
        ColumnSpec(
            "status",
            ("статус",),
            type=CellType.CHOICE,
            choices=STATUSES,
            default=choices.EstimateStatus.DRAFT,
        ),
    ),
    either_or=(("client_external_id", "inn"),),
)

SHIPMENTS = FileSpec(
    kind="shipments",
    columns=(
        ColumnSpec("doc_number", ("номер", "номер документа"), True, CellType.CODE, max_length=64),
        ColumnSpec("date", ("дата", "дата документа"), True, CellType.DATE),
        ColumnSpec("client_external_id", ("код контрагента",), type=CellType.CODE, max_length=64),
        ColumnSpec("inn", ("инн",), type=CellType.INN),
        ColumnSpec("client_name", ("контрагент",), max_length=300),
        ColumnSpec("sku", ("код номенклатуры", "артикул"), True, CellType.CODE, max_length=64),
        ColumnSpec("sku_name", ("номенклатура",), max_length=300),
        ColumnSpec("product_group", ("номенклатурная группа", "группа"), True, max_length=200),
        ColumnSpec("qty", ("количество",), True, CellType.DECIMAL, decimal_places=3),
        ColumnSpec("amount", ("сумма",), True, CellType.DECIMAL),
        ColumnSpec("cost", ("себестоимость",), type=CellType.DECIMAL),
        # Informational only: 1C often puts the manager's name here, which must
        # not reject a sales line, so it is kept as text.
        ColumnSpec("manager_email", ("менеджер",), max_length=254),
    ),
    either_or=(("client_external_id", "inn"),),
)

SPECS: Mapping[str, FileSpec] = MappingProxyType(
    {s.kind: s for s in (CLIENTS, WALLET_ESTIMATES, SHIPMENTS)}
)


def get_spec(kind: str) -> FileSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise ValueError(f"Unknown import kind {kind!r}; expected one of {sorted(SPECS)}") from None
