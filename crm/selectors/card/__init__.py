"""Reads of the client card and its API: header facts, revenue chart, shares,
white space, the holding roll-up, the org chart and the card's history.

Every function takes a client the caller has already fetched through the
access scope (``client_get_visible``); the holding roll-up re-applies the
scope to the subsidiaries. Each read is a fixed number of queries, whatever
the size of the client's history.
"""

from crm.selectors.card.chart import CHART_MONTHS, RevenueChart, client_revenue_chart
from crm.selectors.card.contacts import OrgNode, client_org_chart
from crm.selectors.card.header import CardHeader, card_header, client_metrics
from crm.selectors.card.history import (
    FieldChange,
    changes_between,
    client_field_history,
    client_ownership_changes,
    client_segment_history,
)
from crm.selectors.card.holdings import HoldingRollup, holding_rollup
from crm.selectors.card.shares import (
    WHITE_SPACE_MIN_PEERS,
    WHITE_SPACE_MIN_SHARE,
    WhiteSpace,
    client_group_shares,
    client_white_space,
)

# The most rows one of the card's lists shows (the page's tabs and the API alike).
LIST_CAP = 100

__all__ = [
    "CHART_MONTHS",
    "LIST_CAP",
    "WHITE_SPACE_MIN_PEERS",
    "WHITE_SPACE_MIN_SHARE",
    "CardHeader",
    "FieldChange",
    "HoldingRollup",
    "OrgNode",
    "RevenueChart",
    "WhiteSpace",
    "card_header",
    "changes_between",
    "client_field_history",
    "client_group_shares",
    "client_metrics",
    "client_org_chart",
    "client_ownership_changes",
    "client_revenue_chart",
    "client_segment_history",
    "client_white_space",
    "holding_rollup",
]
