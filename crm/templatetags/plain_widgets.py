"""Selects and checkbox lists rendered in Python, for pages that show many.

Django renders a widget through its templates, one template per option: the
client list's filters and column choices cost a tenth of the page. These tags
write the same HTML (name, id, choices, the chosen values) directly.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.forms import BoundField
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


def _chosen(field: BoundField, *, multiple: bool) -> set[str]:
    """The chosen values as strings; a single select without a value chooses "" (as Django)."""
    value = field.value()
    if value is None:
        return set() if multiple else {""}
    if isinstance(value, (list, tuple)):
        return {"" if item is None else str(item) for item in value}
    return {str(value)}


def _choices(field: BoundField) -> Iterable[tuple[Any, Any]]:
    return field.field.widget.choices


@register.simple_tag
def plain_select(field: BoundField) -> SafeString:
    """``<select>`` of a choice field, as its widget would render it (no optgroups)."""
    chosen = _chosen(field, multiple=False)
    options = format_html_join(
        "\n",
        '<option value="{}"{}>{}</option>',
        (
            (value, " selected" if str(value) in chosen else "", label)
            for value, label in _choices(field)
        ),
    )
    invalid = (
        format_html(' aria-invalid="true" aria-describedby="{}_error"', field.auto_id)
        if field.errors
        else ""
    )
    return format_html(
        '<select name="{}"{} id="{}">\n{}\n</select>',
        field.html_name,
        invalid,
        field.auto_id,
        options,
    )


@register.simple_tag
def plain_checkboxes(field: BoundField, label_class: str = "check") -> SafeString:
    """Each choice of a multiple-choice field as ``<label><input type=checkbox> label</label>``."""
    chosen = _chosen(field, multiple=True)
    return format_html_join(
        "",
        '<label class="{}"><input type="checkbox" name="{}" value="{}" id="{}_{}"{}> {}</label>',
        (
            (
                label_class,
                field.html_name,
                value,
                field.auto_id,
                index,
                " checked" if str(value) in chosen else "",
                label,
            )
            for index, (value, label) in enumerate(_choices(field))
        ),
    )


@register.simple_tag
def plain_options(options: Iterable[tuple[str, str, bool]]) -> SafeString:
    """``<option>`` of each (value, label, chosen): a head's owners run to hundreds."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if chosen else "", label) for value, label, chosen in options),
    )
