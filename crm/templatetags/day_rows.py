"""The rows of the lists of "my day" (and a deal's "Move" form), written in Python.

Each row of a list (touches overdue, clients to reactivate or waiting after
an attempt, wallets to find out, deals closing with their "Move" forms) went
through a dozen template tags and filters: most of the home page's
rendering. The texts are the catalogue's, the values those of
``crm.selectors.day``; dates are shown in the active time zone, as the
template's ``date`` filter shows them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.choices import ActivityKind, DealStage, labels_of
from crm.models import Activity, Deal
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
        self._patterns: dict[str, str] = {}

    def __call__(self, name: str, object_id: int) -> str:
        if name not in self._patterns:
            self._patterns[name] = reverse(name, args=[_ID])
        return self._patterns[name].replace(str(_ID), str(object_id))


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
        self.past_close = _("Past the expected close date")
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


def _csrf_input(context: template.Context) -> SafeString:
    """What ``{% csrf_token %}`` writes."""
    token = context.get("csrf_token")
    if not token or token == "NOTPROVIDED":
        return NOTHING
    return format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)


class _MoveForm:
    """The "Move" form of a deal (a stage, a reason, a link to edit it): on the deals
    board's cards and in "my day"; its texts and stage names are translated once."""

    def __init__(self, context: template.Context, links: _Links) -> None:
        request = context.get("request")
        self.csrf = _csrf_input(context)
        self.next = request.get_full_path() if request is not None else ""
        self.links = links
        self.stages = labels_of(DealStage)
        self.move = _("Move")
        self.stage = _("Stage")
        self.reason = _("Reason")
        self.required_when_lost = _("required when lost")
        self.edit = _("Edit")
        self._options: dict[str, SafeString] = {}

    def options(self, chosen: str) -> SafeString:
        """The stages' ``<option>``, one of them chosen: written once per stage."""
        if chosen not in self._options:
            self._options[chosen] = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (value, " selected" if value == chosen else "", label)
                    for value, label in self.stages.items()
                ),
            )
        return self._options[chosen]

    def __call__(self, deal: Deal) -> SafeString:
        options = self.options(deal.stage)
        edit_url = self.links("crm:deal_edit", deal.pk)
        return format_html(
            '<details class="deal-move" data-move-details>\n  <summary>{}</summary>\n'
            '  <form method="post" action="{}" class="deal-move-form">{}\n'
            '    <input type="hidden" name="next" value="{}">\n'
            '    <input type="hidden" name="updated_at" value="{}">\n'
            '    <label for="stage-{}">{}</label>\n'
            '    <select id="stage-{}" name="stage">\n      {}\n    </select>\n'
            '    <label for="reason-{}">{}</label>\n'
            '    <input id="reason-{}" name="reason" maxlength="300" placeholder="{}">\n'
            '    <button type="submit">{}</button>\n'
            '    <a href="{}" hx-get="{}" hx-target="#dialog-slot">{}</a>\n'
            "  </form>\n</details>",
            self.move,
            self.links("crm:deal_move", deal.pk),
            self.csrf,
            self.next,
            deal.updated_at.isoformat(),
            deal.pk,
            self.stage,
            deal.pk,
            options,
            deal.pk,
            self.reason,
            deal.pk,
            self.required_when_lost,
            self.move,
            edit_url,
            edit_url,
            self.edit,
        )


@register.simple_tag(takes_context=True)
def deal_move_form(context: template.Context, deal: Deal) -> SafeString:
    """A deal's "Move" form (a card of the deals board)."""
    return _MoveForm(context, _Links())(deal)


class _Rows:
    """Writes the rows of one list: the links and texts shared by its rows are made once."""

    def __init__(self, context: template.Context) -> None:
        self.context = context
        self.is_team = bool(context.get("is_team"))
        self.editable: set[int] | None = context.get("editable_ids")
        self.links = _Links()
        self.texts = _Texts()
        self.segments = labels_of(Segment)
        self.statuses = labels_of(LifecycleStatus)
        self.deal_stages = labels_of(DealStage)

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

    def deal(self, deal: Deal, move_form: _MoveForm) -> SafeString:
        closes = deal.expected_close_on
        when: SafeString | str = ""
        if closes is not None:
            late = NOTHING
            today: dt.date | None = self.context.get("today")
            if today is not None and closes < today:
                late = format_html(' class="overdue" title="{}"', self.texts.past_close)
            when = format_html(
                '<time datetime="{}"{}>{}</time>', closes.isoformat(), late, _short_date(closes)
            )
        return format_html(
            "<tr>\n      <td>{}</td>\n      <td>{}</td>\n"
            '      <td><a href="{}">{}</a></td>\n'
            '      <td class="num">{}</td>\n      <td class="hide-sm">{}</td>\n'
            "      {}\n      <td>{}</td>\n    </tr>",
            when,
            deal.title,
            self.links("crm:client_detail", deal.client_id),
            deal.client.name,
            money(deal.amount),
            self.deal_stages.get(deal.stage, deal.stage),
            format_html('<td class="hide-sm">{}</td>', deal.owner) if self.is_team else NOTHING,
            move_form(deal),
        )


@register.simple_tag(takes_context=True)
def day_rows(context: template.Context, key: str, rows: list[Any]) -> SafeString:
    """The ``<tr>`` of each row of a run-based section (``key``): the client, the
    list's facts, the owner on a head's team lists, and the action when the
    user may change the client (``editable_ids``: None for one's own book)."""
    if not rows:
        return NOTHING
    writer = _Rows(context)
    if key == "overdue":
        rendered = [writer.overdue(row) for row in rows]
    elif key in ("reactivation", "attempted"):
        rendered = [writer.lapsed(row, key) for row in rows]
    elif key == "unrated":
        rendered = [writer.unrated(row) for row in rows]
    elif key == "deals":
        move_form = _MoveForm(context, writer.links)
        rendered = [writer.deal(row, move_form) for row in rows]
    else:
        rendered = []
    return mark_safe("\n".join(rendered))  # every part built by format_html


@register.simple_tag
def team_book_rows(owners: list[Any]) -> SafeString:
    """The books table of a head's home page: each owner (``clients_count`` set) linked
    to the list of their clients."""
    clients_of = reverse("crm:client_list") + "?owner_id="
    return format_html_join(
        "\n",
        '<tr><td><a href="{}{}">{}</a></td><td class="num">{}</td></tr>',
        ((clients_of, owner.pk, owner, localize(owner.clients_count)) for owner in owners),
    )


@register.simple_tag
def recent_touch_items(activities: list[Activity]) -> SafeString:
    """The ``<li>`` of each recent touch: when (the local day), what, with whom, by whom."""
    links = _Links()
    kinds = labels_of(ActivityKind)
    return format_html_join(
        "\n",
        '<li>{}\n        {} — <a href="{}">{}</a>\n        <span class="muted">({})</span></li>',
        (
            (
                _when(activity.occurred_at),
                kinds.get(activity.kind, activity.kind),
                links("crm:client_detail", activity.client_id),
                activity.client,
                activity.performed_by,
            )
            for activity in activities
        ),
    )
