"""The list's selects and checkboxes, written in Python, match Django's own widgets."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template import Context, Template


class Sample(forms.Form):
    segment = forms.ChoiceField(
        required=False,
        choices=[("", "All segments"), ("A", "A — key"), ("B", "B <developing> & key")],
    )
    columns = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[("inn", "INN"), ("segment", "Segment"), ("status", "Status")],
    )


def squeeze(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r">\s+<", "><", html)).strip()


def by_tags(form: forms.Form) -> tuple[str, str]:
    template = Template(
        "{% load plain_widgets %}{% plain_select form.segment %}|"
        "{% plain_checkboxes form.columns %}"
    )
    select, boxes = template.render(Context({"form": form})).split("|")
    return select, boxes


def by_django(form: forms.Form) -> tuple[str, str]:
    labels = "".join(
        f'<label class="check">{choice.tag()} {choice.choice_label}</label>'
        for choice in form["columns"]
    )
    return str(form["segment"]), labels


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"segment": "A", "columns": ["segment", "status"]},
        {"segment": "B"},
        {"segment": "nonsense", "columns": ["inn"]},
    ],
)
def test_the_tags_write_what_the_widgets_write(data):
    form = Sample(data, auto_id="id_%s")
    tag_select, tag_boxes = by_tags(form)
    django_select, django_boxes = by_django(form)
    assert squeeze(tag_select) == squeeze(django_select)
    assert squeeze(tag_boxes) == squeeze(django_boxes)
    if data and data.get("segment") == "B":
        assert '<option value="B" selected>B &lt;developing&gt; &amp; key</option>' in tag_select
