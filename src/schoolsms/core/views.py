"""The shell's own pages: home redirects to a tab, health check, organization switcher."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import SESSION_KEY, UserRequest, current_membership
from schoolsms.accounts.models import Membership
from schoolsms.accounts.selectors import invitations_pending_count
from schoolsms.core.health import health_check
from schoolsms.inputs import InputError, parse_db_int

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
