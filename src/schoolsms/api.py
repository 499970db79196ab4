"""The JSON API under /api/v1/: one NinjaAPI, token-authenticated, each app adds its router."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import HttpBearer

from schoolsms.accounts.selectors import user_for_api_key


class TokenAuth(HttpBearer):
    """`Authorization: Bearer <token>`; tokens come from `schoolsms token create`."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = user_for_api_key(token)
        if user is None:
            return None
        request.user = user
        return user


api = NinjaAPI(
    title="SchoolSMS API",
    version="1",
    urls_namespace="api",
    auth=TokenAuth(),
    docs_url="/docs",
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
