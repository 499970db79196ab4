"""Template filters every page uses, so each thing is written one way everywhere: `phone` shows
an E.164 number in the national format of its country (exports keep E.164); `when` and `day`
write a moment and a date in one format, in the time zone the page has activated (the
organization's: base.html); `language` names a language code in its own words."""

from __future__ import annotations

from django import template

from schoolsms import webutil
from schoolsms.messaging.languages import language_name
from schoolsms.phones import display

register = template.Library()
register.filter("when", webutil.when)
register.filter("day", webutil.day)
register.filter("language", language_name)  # "es" -> "Español": a language by its own name


@register.filter
def phone(value: str | None) -> str:
    return display(value) if value else ""
