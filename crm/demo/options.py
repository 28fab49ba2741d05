"""What the demo is asked for and what it reports, its tunable sizes and shares,
and the array types the generation steps share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from crm import choices

IntArray = npt.NDArray[np.int64]
SmallIntArray = npt.NDArray[np.int32] | npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ByteMatrix = npt.NDArray[np.uint8]
Progress = Callable[[str], None]

CHANGE_REASON = "demo data"

DEFAULT_CLIENTS = 300
DEFAULT_MONTHS = 26
DEFAULT_SEED = 42
LINES_PER_CLIENT_YEAR = 200
MAX_PRODUCTS = 20_000
LINES_PER_CHUNK = 200_000  # shipment lines generated and written at once
ROWS_PER_BATCH = 5_000  # Django objects built at once for bulk_create
RETURN_SHARE = 0.02  # share of documents that are returns
NEGATIVE_LINE_SHARE = 0.004  # negative lines inside positive documents
TYPICAL_REVENUE = 600_000.0  # median yearly revenue of a client, roubles

# Lifecycle kinds the plan gives clients (the metrics recompute the status).
ACTIVE, NEW, SLEEPING, LOST, PROSPECT = range(5)
KIND_SHARES = {PROSPECT: 0.12, LOST: 0.08, SLEEPING: 0.10, NEW: 0.07}

SALES_TYPES = (
    choices.SalesType.TRANSACTIONAL,
    choices.SalesType.MIXED,
    choices.SalesType.CONSULTATIVE,
    choices.SalesType.STRATEGIC,
)
SALES_TYPE_SHARES = (0.45, 0.35, 0.14, 0.06)
# Orders a year of a typical client of each sales type (domain: "Sales types").
ORDERS_PER_YEAR = np.array([26.0, 10.0, 5.0, 2.0])


class DemoError(Exception):
    """The demo data cannot be generated or removed as asked."""


@dataclass(frozen=True)
class DemoOptions:
    as_of: date
    clients: int = DEFAULT_CLIENTS
    months: int = DEFAULT_MONTHS
    seed: int = DEFAULT_SEED
    lines: int | None = None  # target number of shipment lines; None: derived

    def validate(self) -> None:
        if self.clients < 1:
            raise DemoError("--clients must be at least 1.")
        if not 1 <= self.months <= 240:
            raise DemoError("--months must be between 1 and 240.")
        if self.lines is not None and self.lines < 0:
            raise DemoError("--lines cannot be negative.")


@dataclass
class DemoResult:
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    target_lines: int = 0
