"""Puts the current organization and the user's role into every template."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def organization(request: HttpRequest) -> dict[str, Any]:
    return {
        "current_org": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
    }
