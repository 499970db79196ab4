"""The invitation email: who invited whom to which organization, and how to accept."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_tasks import task

from schoolsms.accounts.models import Invitation


def invitation_email(invitation: Invitation) -> EmailMessage:
    user, org = invitation.user, invitation.organization
    base = settings.SCHOOLSMS_PUBLIC_URL
    inviter = invitation.invited_by.email if invitation.invited_by else "An administrator"
    lines = [
        f"{inviter} invited you to {org.name} on SchoolSMS as {invitation.get_role_display()}.",
        "",
    ]
    if not user.has_usable_password():
        uid = urlsafe_base64_encode(force_bytes(user.pk))
        token = default_token_generator.make_token(user)
        path = reverse("accounts:password-set", kwargs={"uidb64": uid, "token": token})
        lines += ["First choose your password (the link works for a few days):", base + path, ""]
    lines += [
        "Then log in and accept the invitation here:",
        base + reverse("accounts:invitations"),
        "",
        "Nothing changes for your account until you accept. If you did not expect this email,",
        "ignore it.",
    ]
    return EmailMessage(
        subject=f"Invitation to {org.name} on SchoolSMS",
        body="\n".join(lines),
        to=[user.email or user.username],
    )


@task(queue_name="email")
def invitation_email_task(invitation_id: int) -> str:
    invitation = (
        Invitation.objects.select_related("user", "organization", "invited_by")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None:
        return "withdrawn"  # accepted, declined or withdrawn before the worker got to it
    invitation_email(invitation).send()
    return "sent"


def invitation_email_enqueue(*, invitation: Invitation) -> None:
    """Send once the invitation is committed (the worker must see it); never inside the request,
    so a slow mail server delays no page."""
    transaction.on_commit(lambda: invitation_email_task.enqueue(invitation.pk))
