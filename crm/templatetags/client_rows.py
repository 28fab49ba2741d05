"""A client-list row, written in Python.

Fifty rows of eight columns made hundreds of passes through the template
engine's loops, conditions, ``url`` and ``blocktranslate`` tags: two thirds
of the list's rendering. The values come from
``crm.selectors.client_list.display_value``; the texts are the catalogue's.
"""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crm.choices import labels_of
from crm.selectors.client_list import ListRow
from crm.templatetags.money import money
from segmentation.choices import Segment

register = template.Library()

NUM = mark_safe(' class="num"')  # constant attributes, not user data
IN_GROUP = mark_safe(' class="in-group"')
GROUP_HEAD = mark_safe(' class="group-head"')


def _cells(row: ListRow) -> SafeString:
    """``<td>`` per chosen column; the segment as a coloured badge named in full."""
    metrics = row.metrics
    segments = labels_of(Segment)

    def cell(key: str, numeric: bool, value: str) -> tuple[str, SafeString | str]:
        shown: SafeString | str = value
        if key == "segment" and metrics is not None:
            shown = format_html(
                '<span class="badge segment-{}" title="{}">{}</span>',
                metrics.segment,
                segments.get(metrics.segment, metrics.segment),
                value,
            )
        return (NUM if numeric else "", shown)

    return format_html_join(
        "",
        "<td{}>{}</td>",
        (cell(column.key, column.numeric, value) for column, value in row.cells),
    )


@register.simple_tag
def client_row(row: ListRow, grouped: bool = False) -> SafeString:
    """The ``<tr>`` of a client: selection box, name, the chosen columns, "Log a touch"."""
    client = row.client
    css = ""
    group_total: SafeString | str = ""
    if grouped and not row.is_group_head:
        css = IN_GROUP
    elif grouped and row.group_revenue is not None:
        css = GROUP_HEAD
        group_total = format_html(
            '<div class="muted group-total">{}: {} · <a href="{}?holding={}">{}</a></div>',
            _("group revenue, 12 months"),
            money(row.group_revenue),
            reverse("crm:client_list"),
            client.pk,
            _("the holding's clients"),
        )
    touch: SafeString | str = ""
    if row.editable:
        touch_url = reverse("crm:touch_create", args=[client.pk])
        touch = format_html(
            '<a href="{}" hx-get="{}" hx-target="#dialog-slot" title="{}">{}</a>',
            touch_url,
            touch_url,
            _("Log a touch with %(name)s") % {"name": client.name},
            _("Log a touch"),
        )
    return format_html(
        '<tr data-client-id="{}"{}>'
        '<td class="select-col"><input type="checkbox" name="ids" value="{}" aria-label="{}"></td>'
        '<td><a href="{}">{}</a>{}</td>{}<td>{}</td></tr>',
        client.pk,
        css,
        client.pk,
        _("Select %(name)s") % {"name": client.name},
        reverse("crm:client_detail", args=[client.pk]),
        client.name,
        group_total,
        _cells(row),
        touch,
    )
