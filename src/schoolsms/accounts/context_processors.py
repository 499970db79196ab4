"""Puts the current organization and the user's role into every template."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from schoolsms.accounts.selectors import invitations_pending_count, organizations_for_user


def organization(request: HttpRequest) -> dict[str, Any]:
    return {
        "current_org": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        # A callable, so the query runs only on pages that draw the organization switcher.
        "user_organizations": lambda: list(organizations_for_user(request.user)),
        "pending_invitations": lambda: invitations_pending_count(request.user),
    }
