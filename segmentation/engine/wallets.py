"""The wallet each client's metrics use, picked set-wise (domain.md "Metrics").

Same choice as ``crm.wallet.latest_verified`` on the card: verified
estimates only, the greatest year not after D's year, and within that year
the one verified last (review time, else entry time, then id). Drafts,
rejected estimates and later years never count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pandas as pd
from django.conf import settings

from crm.choices import EstimateKind, EstimateStatus
from crm.models import WalletEstimate
from segmentation.engine.db import chunks

WALLET_COLUMNS = ["client_id", "group_id", "wallet", "wallet_year", "wallet_verified_on"]


def latest_verified_wallets(*, as_of: dt.date, client_ids: Sequence[int] | None) -> pd.DataFrame:
    """One row per client and wallet scope: ``group_id`` 0 is the overall wallet."""
    base = WalletEstimate.objects.filter(
        kind=EstimateKind.WALLET, status=EstimateStatus.VERIFIED, year__lte=as_of.year
    )
    fields = ("client_id", "product_group_id", "year", "amount", "reviewed_at", "entered_at", "id")
    if client_ids is None:
        rows = list(base.values_list(*fields))
    else:
        rows = []
        for chunk in chunks(sorted(set(client_ids))):
            rows.extend(base.filter(client_id__in=chunk).values_list(*fields))
    frame = pd.DataFrame(rows, columns=list(fields))
    if frame.empty:
        return pd.DataFrame(
            {
                "client_id": pd.Series(dtype="int64"),
                "group_id": pd.Series(dtype="int64"),
                "wallet": pd.Series(dtype="float64"),
                "wallet_year": pd.Series(dtype="Int64"),
                "wallet_verified_on": pd.Series(dtype="datetime64[ns]"),
            }
        )
    frame["group_id"] = frame["product_group_id"].fillna(0).astype("int64")
    verified_at = pd.to_datetime(frame["reviewed_at"].fillna(frame["entered_at"]), utc=True)
    frame["verified_at"] = verified_at
    frame = frame.sort_values(["client_id", "group_id", "year", "verified_at", "id"])
    latest = frame.drop_duplicates(["client_id", "group_id"], keep="last")
    local = latest["verified_at"].dt.tz_convert(settings.TIME_ZONE).dt.tz_localize(None)
    return pd.DataFrame(
        {
            "client_id": latest["client_id"].astype("int64").to_numpy(),
            "group_id": latest["group_id"].to_numpy(),
            "wallet": latest["amount"].astype("float64").to_numpy(),
            "wallet_year": latest["year"].astype("Int64").to_numpy(),
            "wallet_verified_on": local.dt.normalize().to_numpy(),
        }
    )
