"""The rows of the run-based lists of "my day", written in Python.

Each row of a list (touches overdue, clients to reactivate or waiting after
an attempt, wallets to find out) went through a dozen template tags and
filters: most of the home page's rendering. The texts are the catalogue's,
the values those of ``crm.selectors.day``; dates are shown in the active
time zone, as the template's ``date`` filter shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.choices import labels_of
from crm.templatetags.money import money
from segmentation.choices import LifecycleStatus, Segment
from segmentation.models import ClientMetricSnapshot

register = template.Library()

NOTHING = mark_safe("")
_ID = 918273645  # stands for the client's id in a reversed URL


class _Links:
    """The rows' URLs: each reversed once per list, then filled in with the client's id
    (reversing costs more than the rest of a row)."""

    def __init__(self) -> None:
        self._patterns = {
            name: reverse(name, args=[_ID])
            for name in ("crm:client_detail", "crm:touch_create", "crm:estimate_create")
        }

    def __call__(self, name: str, client_id: int) -> str:
        return self._patterns[name].replace(str(_ID), str(client_id))


class _Texts:
    """The catalogue's texts of the rows, translated once per list."""

    def __init__(self) -> None:
        self.never = _("never")
        self.due = _("due %(day)s")
        self.log_touch = _("Log a touch")
        self.log_touch_with = _("Log a touch with %(name)s")
        self.attempt = _("Record a reactivation attempt")
        self.attempt_with = _("Record a reactivation attempt with %(name)s")
        self.draft = _("draft, waits for a head")
        self.unknown = _("unknown")
        self.estimate = _("Estimate the wallet")
        self.estimate_of = _("Estimate the wallet of %(name)s")
        self._every: dict[int, str] = {}
        self._ago: dict[int, str] = {}

    def every(self, days: int) -> str:
        if days not in self._every:
            self._every[days] = ngettext("every %(days)s day", "every %(days)s days", days) % {
                "days": days
            }
        return self._every[days]

    def ago(self, days: int) -> str:
        if days not in self._ago:
            self._ago[days] = ngettext("(%(days)s day ago)", "(%(days)s days ago)", days) % {
                "days": days
            }
        return self._ago[days]


def _local(moment: dt.datetime) -> dt.datetime:
    return timezone.localtime(moment) if timezone.is_aware(moment) else moment


def _short_date(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = _local(value)
    return date_format(value, "SHORT_DATE_FORMAT")


def _when(moment: dt.datetime) -> SafeString:
    """``<time>`` of a moment: the machine-readable instant, the local day shown."""
    local = _local(moment)
    return format_html('<time datetime="{}">{}</time>', local.isoformat(), _short_date(local))


def _client_cell(row: ClientMetricSnapshot, links: _Links) -> SafeString:
    url = links("crm:client_detail", row.client_id)
    return format_html('<td><a href="{}">{}</a></td>', url, row.client.name)


def _owner_cell(row: ClientMetricSnapshot, is_team: bool) -> SafeString:
    return format_html('<td class="hide-sm">{}</td>', row.owner) if is_team else NOTHING


class _Rows:
    """Writes the rows of one list: the links and texts shared by its rows are made once."""

    def __init__(self, *, is_team: bool, editable: set[int] | None) -> None:
        self.is_team = is_team
        self.editable = editable
        self.links = _Links()
        self.texts = _Texts()
        self.segments = labels_of(Segment)
        self.statuses = labels_of(LifecycleStatus)

    def may_act(self, row: ClientMetricSnapshot) -> bool:
        return self.editable is None or row.client_id in self.editable

    def owner_cell(self, row: ClientMetricSnapshot) -> SafeString:
        return format_html('<td class="hide-sm">{}</td>', row.owner) if self.is_team else NOTHING

    def overdue(self, row: ClientMetricSnapshot) -> SafeString:
        texts = self.texts
        last = getattr(row, "last_touch_at", None)
        due = getattr(row, "touch_due", None)
        if last is None:
            touched = format_html('<span class="overdue">{}</span>', texts.never)
        elif due is not None:
            touched = format_html(
                '{}<br><span class="overdue">{}</span>',
                _when(last),
                texts.due % {"day": _short_date(due)},
            )
        else:
            touched = _when(last)
        action = NOTHING
        if self.may_act(row):
            url = self.links("crm:touch_create", row.client_id)
            action = format_html(
                '<a class="button" href="{}" hx-get="{}" hx-target="#dialog-slot" '
                'title="{}">{}</a>',
                url,
                url,
                texts.log_touch_with % {"name": row.client.name},
                texts.log_touch,
            )
        return format_html(
            '<tr>{}<td title="{}">{}</td><td>{}</td><td class="hide-sm">{}</td>{}<td>{}</td></tr>',
            _client_cell(row, self.links),
            self.segments.get(row.segment, row.segment),
            row.segment,
            touched,
            texts.every(getattr(row, "max_days_between_touches", None) or 0),
            self.owner_cell(row),
            action,
        )

    def lapsed(self, row: ClientMetricSnapshot, key: str) -> SafeString:
        texts = self.texts
        last_order = NOTHING
        if row.last_order_on:
            last_order = format_html(
                '<time datetime="{}">{}</time> <span class="muted">{}</span>',
                row.last_order_on.isoformat(),
                _short_date(row.last_order_on),
                texts.ago(row.days_since_last_order or 0),
            )
        if key == "attempted":
            attempt = getattr(row, "last_attempt_at", None)
            fact = format_html("<td>{}</td>", _when(attempt) if attempt else "")
        else:
            fact = format_html('<td class="hide-sm">{}</td>', getattr(row, "reactivator", ""))
        action = NOTHING
        if self.may_act(row):
            url = self.links("crm:touch_create", row.client_id)
            if key == "reactivation":
                url = f"{url}?reactivation=1"
                action = format_html(
                    '<a class="button" href="{}" hx-get="{}" hx-target="#dialog-slot" '
                    'title="{}">{}</a>',
                    url,
                    url,
                    texts.attempt_with % {"name": row.client.name},
                    texts.attempt,
                )
            else:
                action = format_html(
                    '<a href="{}" hx-get="{}" hx-target="#dialog-slot">{}</a>',
                    url,
                    url,
                    texts.log_touch,
                )
        return format_html(
            '<tr>{}<td>{}</td><td>{}</td><td class="num">{}</td><td class="hide-sm num">{}</td>'
            "{}{}<td>{}</td></tr>",
            _client_cell(row, self.links),
            self.statuses.get(row.status, row.status),
            last_order,
            money(row.revenue_12m),
            money(row.revenue_prev_12m),
            fact,
            self.owner_cell(row),
            action,
        )

    def unrated(self, row: ClientMetricSnapshot) -> SafeString:
        texts = self.texts
        if getattr(row, "has_draft_wallet", False):
            wallet = format_html('<span class="unverified">{}</span>', texts.draft)
        else:
            wallet = format_html('<span class="muted">{}</span>', texts.unknown)
        action = NOTHING
        if self.may_act(row):
            action = format_html(
                '<a class="button" href="{}" title="{}">{}</a>',
                self.links("crm:estimate_create", row.client_id),
                texts.estimate_of % {"name": row.client.name},
                texts.estimate,
            )
        return format_html(
            '<tr>{}<td class="num">{}</td><td>{}</td>{}<td>{}</td></tr>',
            _client_cell(row, self.links),
            money(row.revenue_12m),
            wallet,
            self.owner_cell(row),
            action,
        )


@register.simple_tag(takes_context=True)
def day_rows(context: template.Context, key: str, rows: list[Any]) -> SafeString:
    """The ``<tr>`` of each row of a run-based section (``key``): the client, the
    list's facts, the owner on a head's team lists, and the action when the
    user may change the client (``editable_ids``: None for one's own book)."""
    if not rows:
        return NOTHING
    writer = _Rows(is_team=bool(context.get("is_team")), editable=context.get("editable_ids"))
    if key == "overdue":
        rendered = [writer.overdue(row) for row in rows]
    elif key in ("reactivation", "attempted"):
        rendered = [writer.lapsed(row, key) for row in rows]
    elif key == "unrated":
        rendered = [writer.unrated(row) for row in rows]
    else:
        rendered = []
    return mark_safe("\n".join(rendered))  # every part built by format_html
