"""The shell's own pages: home redirects to a tab, health check, organization switcher."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import SESSION_KEY, UserRequest, current_membership
from schoolsms.accounts.models import Membership
from schoolsms.accounts.selectors import invitations_pending_count
from schoolsms.core.health import health_check
from schoolsms.inputs import InputError, parse_db_int

logger = logging.getLogger(__name__)

# The first tab a role lands on, in order of preference (later issues add the earlier ones).
_LANDING = {
    "admin": ("broadcasts:list", "contacts:list", "reports:index"),
    "sender": ("broadcasts:list", "contacts:list", "reports:index"),
    "viewer": ("reports:index", "contacts:list"),
}
_TABS = ("broadcasts", "contacts", "reports", "reminders", "settings")


@login_required
def home(request: HttpRequest) -> HttpResponse:
    membership = current_membership(request)
    if membership is None:
        if invitations_pending_count(request.user):
            return redirect("accounts:invitations")
        return HttpResponse(
            "Your account is not a member of any organization yet. Ask an administrator.",
            status=403,
        )
    for name in _LANDING.get(membership.role, ()):
        try:
            return redirect(reverse(name))
        except NoReverseMatch:
            continue
    return HttpResponse("SchoolSMS")


def healthz(request: HttpRequest) -> HttpResponse:
    """JSON for load balancers and monitors: 503 when the database is unreachable or no
    worker has been seen for a minute."""
    result = health_check()
    response = JsonResponse(result.body, status=200 if result.healthy else 503)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def switch_organization(request: UserRequest) -> HttpResponse:
    try:
        org_id = parse_db_int("organization", request.POST.get("organization", ""))
    except InputError as exc:
        return HttpResponse(exc.messages[0], status=400, content_type="text/plain")
    mine = Membership.objects.filter(user=request.user)
    if org_id is not None and mine.filter(organization_id=org_id).exists():
        request.session[SESSION_KEY] = org_id
    # Back to the same tab, never to the same object: it belongs to the other organization.
    tab = request.POST.get("next", "").strip("/").split("/")[0]
    if tab in _TABS:
        return redirect(f"/{tab}/")
    return redirect("home")


# -- error pages: the tabs and a way back, in the house style ---------------------------------

_TAB_NAMES = {
    "broadcasts": "Broadcasts",
    "contacts": "Contacts",
    "reports": "Reports",
    "reminders": "Reminders",
    "settings": "Settings",
}


def _error_page(request: HttpRequest, template: str, status: int) -> HttpResponse:
    if not hasattr(request, "membership"):
        membership = current_membership(request)
        if membership is not None:
            request.membership = membership  # type: ignore[attr-defined]
            request.organization = membership.organization  # type: ignore[attr-defined]
    tab = request.path.strip("/").split("/")[0]
    context: dict[str, Any] = {}
    if tab in _TAB_NAMES and request.path.strip("/") != tab:
        context = {"back_url": f"/{tab}/", "back_label": _TAB_NAMES[tab]}
    return render(request, template, context, status=status)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error_page(request, "404.html", 404)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    return _error_page(request, "403.html", 403)


def server_error(request: HttpRequest) -> HttpResponse:
    """The styled page when it can be drawn; a plain one when drawing it fails too (the
    database may be what is broken)."""
    try:
        return _error_page(request, "500.html", 500)
    except Exception:  # the last resort must answer whatever went wrong
        logger.exception("the error page itself failed")
        return HttpResponse(
            "<!doctype html><title>Something went wrong</title><h1>Something went wrong</h1>"
            '<p>Try again in a moment. <a href="/">Go to the start page</a>.</p>',
            status=500,
        )
