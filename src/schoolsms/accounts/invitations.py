"""Pages of the person invited: their pending invitations, and choosing a first password."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from schoolsms.accounts import services
from schoolsms.accounts.access import SESSION_KEY
from schoolsms.accounts.models import Invitation


@login_required
def invitations(request: HttpRequest) -> HttpResponse:
    pending = (
        Invitation.objects.filter(user=request.user)  # type: ignore[misc]
        .select_related("organization", "invited_by")
        .order_by("created_at")
    )
    return render(request, "accounts/invitations.html", {"invitations": pending})


@login_required
@require_POST
def invitation_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    if request.POST.get("answer") == "accept":
        try:
            membership = services.invitation_accept(user=user, invitation_id=pk)  # type: ignore[arg-type]
        except Invitation.DoesNotExist:
            raise Http404("No such invitation.") from None
        request.session[SESSION_KEY] = membership.organization_id
        messages.success(request, f"You are now a member of {membership.organization.name}.")
        return redirect("home")
    if not services.invitation_decline(user=user, invitation_id=pk):  # type: ignore[arg-type]
        raise Http404("No such invitation.")
    messages.success(request, "Invitation declined.")
    return redirect("accounts:invitations")


class PasswordSetView(PasswordResetConfirmView):
    """The link in an invitation to a new account: choose a password, then see the invitation."""

    template_name = "accounts/password_set.html"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("accounts:invitations")
