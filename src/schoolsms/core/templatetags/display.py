"""Template filters every page uses, so each thing is written one way everywhere: `phone` shows
an E.164 number in the national format of its country (exports keep E.164)."""

from __future__ import annotations

from django import template

from schoolsms.phones import display

register = template.Library()


@register.filter
def phone(value: str | None) -> str:
    return display(value) if value else ""
