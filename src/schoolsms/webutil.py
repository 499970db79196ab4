"""Small helpers shared by the web views of every app."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme

# The one way pages write a moment and a day ("Dec 2, 2026, 2:30 PM", "Dec 2, 2026"); exports
# and the API keep ISO 8601.
WHEN_FORMAT = "M j, Y, g:i A"
DAY_FORMAT = "M j, Y"


def when(value: dt.datetime | None) -> str:
    """A moment in the active time zone (the organization's on its pages); "" for None."""
    if not value:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, WHEN_FORMAT)


def day(value: dt.date | dt.datetime | None) -> str:
    if not value:
        return ""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DAY_FORMAT)


def back_target(request: HttpRequest, default: str) -> str:
    """The page named in the POST's `next` when it is on this site, else `default` (a URL)."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def redirect_back(request: HttpRequest, default: str) -> HttpResponse:
    """After a POST, go back to the page named in `next` when it is on this site, else `default`."""
    target = back_target(request, "")
    return redirect(target) if target else redirect(default)


# The name and value the confirm button of templates/confirm.html posts.
CONFIRM_FIELD = "confirmed"


def is_confirmed(request: HttpRequest) -> bool:
    """Whether the user already said yes on the confirmation page for this POST."""
    return request.POST.get(CONFIRM_FIELD) == "yes"


def confirm_page(
    request: HttpRequest,
    *,
    question: str,
    facts: Sequence[str] = (),
    confirm_label: str,
    back_url: str,
    back_label: str = "Go back",
    back_posts: bool = False,
    danger: bool = False,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """Ask before an action that texts, emails or deletes. The page posts the same fields back
    to the same address with `confirmed=yes`; with `back_posts` its "back" button posts them
    too, with `edit=1`, so a form comes back as it was typed."""
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name not in ("csrfmiddlewaretoken", CONFIRM_FIELD, "edit")
        for value in values
    ]
    context = {
        "question": question,
        "facts": facts,
        "confirm_label": confirm_label,
        "back_url": back_url,
        "back_label": back_label,
        "back_posts": back_posts,
        "danger": danger,
        "fields": fields,
        "action": request.get_full_path(),
        **(extra or {}),
    }
    return render(request, "confirm.html", context)


class ReadOncePaginator(Paginator):
    """A Paginator that reads the first page before counting: a search that finds a page or
    less (the usual search for one family) is read once instead of counted, then read again,
    each a pass over every contact the filters cannot narrow with an index."""

    def __init__(self, object_list: Any, per_page: int) -> None:
        super().__init__(object_list, per_page)
        self._first: list[Any] | None = None

    @cached_property
    def count(self) -> int:
        self._first = list(self.object_list[: self.per_page + 1])
        if len(self._first) <= self.per_page:
            return len(self._first)
        return int(super().count)

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        if number == 1 and self._first is not None:
            return Page(self._first[: self.per_page], 1, self)
        return super().page(number)
