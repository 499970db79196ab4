"""The shell's own pages: home redirects to a tab, health check, organization switcher."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import SESSION_KEY
from schoolsms.accounts.models import Membership


@login_required
def home(request: HttpRequest) -> HttpResponse:
    for name in ("broadcasts:list", "contacts:list", "reports:index"):
        try:
            return redirect(reverse(name))
        except NoReverseMatch:
            continue
    return HttpResponse("SchoolSMS")


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
@require_POST
def switch_organization(request: HttpRequest) -> HttpResponse:
    org_id = request.POST.get("organization")
    mine = Membership.objects.filter(user=request.user)  # type: ignore[misc]
    if org_id and org_id.isdigit() and mine.filter(organization_id=int(org_id)).exists():
        request.session[SESSION_KEY] = int(org_id)
    return redirect("home")
