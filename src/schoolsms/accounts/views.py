"""Pages of the Settings tab (admins only): organization and sender, users and roles, API tokens."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts import services
from schoolsms.accounts.access import ADMIN, OrgRequest, org_required
from schoolsms.accounts.forms import (
    MemberForm,
    OrganizationForm,
    RoleForm,
    SenderForm,
    TokenCreateForm,
    UserAddForm,
    quiet_hours_text,
)
from schoolsms.accounts.models import ApiToken, Invitation, Membership, Organization, Role
from schoolsms.webutil import confirm_page, day, is_confirmed

# Secrets shown once, on the page after the POST that made them, then gone from the session.
_KEY_ONCE = "schoolsms_new_api_key"


def _subtabs(active: str) -> list[tuple[str, str, bool]]:
    return [
        ("Organization", reverse("accounts:organization"), active == "organization"),
        ("Users", reverse("accounts:users"), active == "users"),
        ("API tokens", reverse("accounts:tokens"), active == "tokens"),
        # Kept with the contacts it feeds; listed here too, where admins look for settings.
        ("Roster sync", reverse("contacts:sync"), False),
        ("Carrier", reverse("carrier-settings"), False),
        ("Text replies", reverse("reply-settings"), False),
    ]


def _form_errors(form: Any, exc: ValidationError) -> None:
    for message in exc.messages:
        form.add_error(None, message)


def _sender_is_shared(org: Organization) -> bool:
    return Organization.objects.filter(sender_id=org.sender_id).exclude(pk=org.pk).exists()


@org_required(ADMIN)
def organization_settings(request: OrgRequest) -> HttpResponse:
    org: Organization = request.organization
    shared = _sender_is_shared(org)
    org_form = OrganizationForm(
        initial={"name": org.name, "timezone": org.timezone, "quiet_hours": quiet_hours_text(org)}
    )
    sender_form = SenderForm(
        initial={
            "program_name": org.sender.program_name,
            "help_contact": org.sender.help_contact,
            **{f"help_contact_{k}": v for k, v in org.sender.help_contacts.items()},
        }
    )
    status = 200
    if request.method == "POST":
        which = request.POST.get("form")
        if which == "organization":
            org_form = OrganizationForm(request.POST)
            if org_form.is_valid():
                try:
                    services.organization_update(organization=org, **org_form.cleaned_data)
                except ValidationError as exc:
                    _form_errors(org_form, exc)
                else:
                    messages.success(request, "Organization settings saved.")
                    return redirect("accounts:organization")
        elif which == "sender" and not shared:
            sender_form = SenderForm(request.POST)
            if sender_form.is_valid():
                try:
                    services.sender_update(
                        sender=org.sender,
                        program_name=sender_form.cleaned_data["program_name"],
                        help_contact=sender_form.cleaned_data["help_contact"],
                        help_contacts=sender_form.help_contacts(),
                    )
                except ValidationError as exc:
                    _form_errors(sender_form, exc)
                else:
                    messages.success(request, "Sender settings saved.")
                    return redirect("accounts:organization")
        else:
            return HttpResponse("This cannot be changed here.", status=400)
        status = 400
    context = {
        "org": org,
        "org_form": org_form,
        "sender_form": sender_form,
        "sender_shared": shared,
        "subtabs": _subtabs("organization"),
    }
    return render(request, "accounts/organization.html", context, status=status)


@org_required(ADMIN)
def users(request: OrgRequest) -> HttpResponse:
    org: Organization = request.organization
    form = UserAddForm()
    status = 200
    if request.method == "POST":
        form = UserAddForm(request.POST)
        if form.is_valid():
            email, role = form.cleaned_data["email"], form.cleaned_data["role"]
            try:
                invitation = services.membership_invite(
                    organization=org,
                    email=email,
                    role=role,
                    invited_by=request.user,  # type: ignore[arg-type]
                )
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                if invitation is None:
                    messages.info(request, f"{email} is already a member of {org.name}.")
                else:
                    # The same words whether or not an account existed for the address.
                    messages.success(
                        request,
                        f"Invitation sent to {email}. They become {Role(role).label} of "
                        f"{org.name} once they accept it.",
                    )
                return redirect("accounts:users")
        status = 400
    members = (
        Membership.objects.filter(organization=org)
        .select_related("user")
        .order_by("user__email", "user__username")
    )
    context = {
        "members": members,
        "form": form,
        "roles": RoleForm.base_fields["role"].choices,  # type: ignore[attr-defined]
        "invitations": Invitation.objects.filter(organization=org)
        .select_related("user")
        .order_by("created_at"),
        "subtabs": _subtabs("users"),
    }
    return render(request, "accounts/users.html", context, status=status)


@require_POST
@org_required(ADMIN)
def user_role(request: OrgRequest) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose a role.", status=400)
    try:
        membership = services.membership_role_set(
            organization=request.organization,
            user_id=form.cleaned_data["user_id"],
            role=form.cleaned_data["role"],
        )
    except Membership.DoesNotExist:
        raise Http404("No such member in this organization.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        role = membership.get_role_display()
        messages.success(request, f"{membership.user.email} is now {role}.")
    return redirect("accounts:users")


@org_required(ADMIN)
def tokens(request: OrgRequest) -> HttpResponse:
    form = TokenCreateForm()
    status = 200
    if request.method == "POST":
        form = TokenCreateForm(request.POST)
        if form.is_valid():
            key = services.api_token_create(
                user=request.user,
                name=form.cleaned_data["name"],
                organization=request.organization,  # type: ignore[attr-defined]
            )
            request.session[_KEY_ONCE] = {"key": key, "name": form.cleaned_data["name"]}
            return redirect("accounts:tokens")
        status = 400
    context = {
        "tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at"),
        "form": form,
        "new_key": request.session.pop(_KEY_ONCE, None),
        "subtabs": _subtabs("tokens"),
    }
    return render(request, "accounts/tokens.html", context, status=status)


@require_POST
@org_required(ADMIN)
def token_revoke(request: OrgRequest, pk: int) -> HttpResponse:
    if not is_confirmed(request):
        token = ApiToken.objects.filter(user=request.user, pk=pk).first()
        if token is None:
            raise Http404("No such token.")
        used = f"last used {day(token.last_used_at)}" if token.last_used_at else "never used"
        return confirm_page(
            request,
            question=f"Revoke the token “{token.name}” ({token.prefix}…)?",
            facts=[
                f"It was {used}.",
                "Scripts and programs using it are refused from then on; this cannot be undone.",
            ],
            confirm_label=f"Yes, revoke “{token.name}”",
            back_url=reverse("accounts:tokens"),
            danger=True,
        )
    if not services.api_token_revoke(user=request.user, token_id=pk):
        raise Http404("No such token.")
    messages.success(request, "The token is revoked: requests using it are refused from now on.")
    return redirect("accounts:tokens")


def _users_page_asks(
    request: OrgRequest, question: str, facts: list[str], *, yes: str, no: str
) -> HttpResponse:
    """The confirmation of a removal on the Users page; "no" goes back to it."""
    back = reverse("accounts:users")
    return confirm_page(
        request,
        question=question,
        facts=facts,
        confirm_label=yes,
        back_url=back,
        back_label=no,
        danger=True,
    )


@require_POST
@org_required(ADMIN)
def user_remove(request: OrgRequest) -> HttpResponse:
    form = MemberForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Choose a member.", status=400)
    if not is_confirmed(request):
        member = (
            Membership.objects.filter(
                organization=request.organization, user_id=form.cleaned_data["user_id"]
            )
            .select_related("user")
            .first()
        )
        if member is None:
            raise Http404("No such member in this organization.")
        who = member.user.email or member.user.username
        return _users_page_asks(
            request,
            f"Remove {who} from {request.organization.name}?",
            [
                f"{who} can no longer open this organization's pages, and the API tokens "
                "they made for it stop working at once.",
                "Their name stays on what they did (broadcasts, consent changes). To let them "
                "back in, invite them again.",
            ],
            yes=f"Yes, remove {who}",
            no="No, keep them",
        )
    try:
        membership = services.membership_remove(
            organization=request.organization,  # type: ignore[attr-defined]
            user_id=form.cleaned_data["user_id"],
        )
    except Membership.DoesNotExist:
        raise Http404("No such member in this organization.") from None
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"{membership.user.email} is no longer a member.")
    return redirect("accounts:users")


@require_POST
@org_required(ADMIN)
def invitation_withdraw(request: OrgRequest, pk: int) -> HttpResponse:
    org = request.organization  # type: ignore[attr-defined]
    if not is_confirmed(request):
        found = Invitation.objects.filter(organization=org, pk=pk).select_related("user").first()
        if found is None:
            raise Http404("No such invitation.")
        return _users_page_asks(
            request,
            f"Withdraw the invitation to {found.user.email or found.user.username}?",
            ["The invitation email they got stops working; you can invite them again."],
            yes="Yes, withdraw it",
            no="No, keep it",
        )
    if not services.invitation_withdraw(organization=org, invitation_id=pk):
        raise Http404("No such invitation.")
    messages.success(request, "The invitation is withdrawn.")
    return redirect("accounts:users")
