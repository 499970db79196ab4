"""Request and response guards every page and API call passes: inputs, caching, transport."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse

from schoolsms.contacts.uploads import declared_too_large, upload_too_large_message
from schoolsms.inputs import DB_INT_MAX, control_character, describe_character

Handler = Callable[[HttpRequest], HttpResponseBase]

# Carrier webhooks answer carriers in their own formats; their views check their own input.
_UNGUARDED_PREFIXES = ("/carriers/", "/static/")


# Query and form parameters that carry ids, counts and page numbers on some page or endpoint.
NUMERIC_PARAMS = frozenset(
    {"page", "page_size", "limit", "offset", "after", "before", "cursor", "broadcast", "id"}
    | {"organization", "user_id", "contact", "run"}
)


_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")


def _too_big(value: str) -> bool:
    return _INTEGER.fullmatch(value) is not None and abs(int(value)) > DB_INT_MAX


def _strings(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every string (keys too) of a parsed JSON body, with where it sits (`name`, `roles[2]`)."""
    if isinstance(value, str):
        yield path or "body", value
    elif isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            yield where, str(key)
            yield from _strings(item, where)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _strings(item, f"{path}[{i}]")


def _refusal(request: HttpRequest, param: str, message: str) -> HttpResponse:
    text = f"{param}: {message}"
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": text}, status=400)
    return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")


class ApiUploadLimitMiddleware:
    """An API request whose body is declared bigger than SCHOOLSMS_MAX_UPLOAD_MB is refused with
    413 before anything reads it (the API parses a file before its view runs). The web import
    page refuses its own, with the page around the message."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path.startswith("/api/") and declared_too_large(request):
            return JsonResponse({"detail": upload_too_large_message()}, status=413)
        return self.get_response(request)


class InputGuardMiddleware:
    """Refuses, with a 400 naming the parameter, query-string, form and JSON values that hold a
    NUL byte or another control character (line breaks and tabs are allowed): the database
    would refuse them (PostgreSQL has no NUL in text) or store invisible garbage."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if not request.path.startswith(_UNGUARDED_PREFIXES):
            refusal = self._check(request)
            if refusal is not None:
                return refusal
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: dict[str, Any]
    ) -> None:
        """A number in a page's address beyond what the database stores (`/broadcasts/9999…/`)
        names no row: 404, before the database driver raises on it."""
        if request.path.startswith("/api/"):
            return  # the API's schema bounds its ids and answers 422 naming them
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not -DB_INT_MAX <= value <= DB_INT_MAX:
                raise Http404("No such page.")

    def _check(self, request: HttpRequest) -> HttpResponse | None:
        pairs: list[tuple[str, str]] = []
        for key, values in request.GET.lists():
            pairs.append((key, key))
            pairs.extend((key, v) for v in values)
        # Only forms without files: reading a multipart body here would read a whole upload.
        content_type = request.content_type or ""
        if request.method == "POST" and content_type == "application/x-www-form-urlencoded":
            for key, values in request.POST.lists():
                pairs.append((key, key))
                pairs.extend((key, v) for v in values)
        elif content_type == "application/json" and request.body:
            try:
                body = json.loads(request.body)
            except (ValueError, UnicodeDecodeError):
                return None  # the API reports malformed JSON itself
            pairs.extend(_strings(body, ""))
        for param, value in pairs:
            if param in NUMERIC_PARAMS and _too_big(value):
                return _refusal(
                    request, param, f"{value} is out of range (a whole number up to {DB_INT_MAX})"
                )
            found = control_character(value, multiline=True)
            if found is not None:
                position, char = found
                return _refusal(
                    request,
                    param,
                    f"contains {describe_character(char)} at character {position + 1}; remove it",
                )
        return None


class ResponseHeadersMiddleware:
    """Pages and exports carry people's names, numbers and consent: browsers and proxies must
    not keep a copy (`Cache-Control: no-store`). When the public address is https, every
    response asks browsers to use https only (HSTS), also behind a TLS-terminating proxy."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.hsts = settings.SCHOOLSMS_PUBLIC_URL.startswith("https://")

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        if self.hsts:
            response.setdefault(
                "Strict-Transport-Security", f"max-age={settings.SECURE_HSTS_SECONDS}"
            )
        response.headers.pop("Server", None)
        return response
