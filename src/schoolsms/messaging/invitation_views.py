"""Opt-in invitations on demand: how many Pending Opt-In numbers would get one, then send."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.models import User
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from schoolsms.accounts.access import SEND, OrgRequest, org_required
from schoolsms.accounts.models import Organization
from schoolsms.messaging.invitations import INVITE_AGAIN_AFTER, invitable_counts
from schoolsms.messaging.models import ReplyKind
from schoolsms.messaging.replies import LANGUAGES, reply_text
from schoolsms.messaging.services import invitations_send


@org_required(SEND)
def invitations(request: OrgRequest) -> HttpResponse:
    """GET: the confirmation (how many numbers, in which language, the text); POST: send."""
    org: Organization = request.organization
    if request.method == "POST":
        user = request.user if isinstance(request.user, User) else None
        made = invitations_send(organization=org, actor=user)
        if not made:
            messages.info(request, "No Pending Opt-In number is due an invitation: nothing sent.")
            return redirect("broadcasts:invitations")
        messages.success(
            request, f"Opt-in invitations are going out: {', '.join(b.name for b in made)}."
        )
        if len(made) == 1:
            return redirect(reverse("broadcasts:detail", args=[made[0].pk]))
        return redirect("broadcasts:list")
    counts = invitable_counts(organization=org)
    languages = [
        (
            LANGUAGES[code],
            n,
            reply_text(
                sender=org.sender, organization=org, language=code, kind=ReplyKind.INVITATION
            ),
        )
        for code, n in counts.items()
    ]
    context = {
        "org": org,
        "languages": languages,
        "total": sum(counts.values()),
        "days": INVITE_AGAIN_AFTER.days,
    }
    return render(request, "messaging/invitations.html", context)
