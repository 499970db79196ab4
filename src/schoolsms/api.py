"""The JSON API under /api/v1/: one NinjaAPI, token-authenticated, each app adds its router."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from ninja import NinjaAPI, Swagger
from ninja.security import HttpBearer

from schoolsms.accounts.selectors import api_token_for_key


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens come from `schoolsms token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        found = api_token_for_key(token)
        if found is None:
            return None
        request.user = found.user
        return found  # request.auth: the token, whose organization limits what it reaches


class OfflineSwagger(Swagger):
    """Swagger UI from django-ninja's own page and files (settings add their folders), never a
    CDN: ninja only renders its page itself when it is an installed app, which it is not here
    (see settings.NINJA_DIR)."""

    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        self.settings["url"] = self.get_openapi_url(api, kwargs)
        context = {
            "swagger_settings": json.dumps(self.settings, indent=1),
            "api": api,
            # Bearer tokens need no CSRF token (an auth that does says so, as ninja asks).
            "add_csrf": isinstance(api.auth, Sequence)
            and any(getattr(auth, "csrf", False) for auth in api.auth),
        }
        return render(request, self.template, context)


api = NinjaAPI(
    title="SchoolSMS API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url="/docs",
    docs=OfflineSwagger(),
)


def _register() -> None:
    # Each app that has an API exposes `router` in its api.py; imported here, not at module top,
    # so an app's API can import services freely.
    from importlib import import_module

    for app, prefix in [
        ("accounts", "/"),
        ("contacts", "/contacts"),
        ("consent", "/consent"),
        ("messaging", "/broadcasts"),
        ("reports", "/reports"),
        ("reminders", "/reminders"),
    ]:
        try:
            module = import_module(f"schoolsms.{app}.api")
        except ModuleNotFoundError as exc:
            if exc.name != f"schoolsms.{app}.api":
                raise
            continue
        api.add_router(prefix, module.router)


_register()
