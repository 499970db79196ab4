"""Settings > Text replies (admins): the organization's wording of the automatic texts."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from schoolsms.accounts.access import ADMIN, OrgRequest, org_required
from schoolsms.accounts.models import Organization
from schoolsms.accounts.services import organization_invitations_set
from schoolsms.messaging.models import ReplyKind
from schoolsms.messaging.replies import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    reply_fill,
    reply_template,
    reply_texts_save,
)
from schoolsms.messaging.text import text_check

HELP_TEXTS = {
    ReplyKind.HELP: "Sent to anyone who texts HELP or INFO, subscribed or not.",
    ReplyKind.OPT_IN: "Sent once when a number opts in (START, YES, Y).",
    ReplyKind.OPT_OUT: "Sent once when a number opts out (STOP …); nothing else may be in it.",
    ReplyKind.INVITATION: "The opt-in invitation sent to Pending Opt-In numbers.",
}


class ReplyTextsForm(forms.Form):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        for kind in ReplyKind:
            self.fields[kind.value] = forms.CharField(
                label=kind.label,
                help_text=HELP_TEXTS[kind],
                widget=forms.Textarea(attrs={"rows": 3}),
                strip=True,
            )


def _subtabs() -> list[tuple[str, str, bool]]:
    return [
        ("Organization", reverse("accounts:organization"), False),
        ("Users", reverse("accounts:users"), False),
        ("API tokens", reverse("accounts:tokens"), False),
        ("Carrier", reverse("carrier-settings"), False),
        ("Text replies", reverse("reply-settings"), True),
    ]


@org_required(ADMIN)
def reply_settings(request: OrgRequest) -> HttpResponse:
    org: Organization = request.organization
    if request.method == "POST" and request.POST.get("form") == "invitations":
        enabled = request.POST.get("invite_after_import") == "on"
        organization_invitations_set(organization=org, after_import=enabled)
        messages.success(
            request,
            "Opt-in invitations will go out after each contact import."
            if enabled
            else "No opt-in invitations after contact imports.",
        )
        return redirect("reply-settings")
    language = request.GET.get("language") or request.POST.get("language") or DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        language = DEFAULT_LANGUAGE
    current = {
        kind.value: reply_template(organization=org, language=language, kind=kind)
        for kind in ReplyKind
    }
    form = ReplyTextsForm(request.POST or None, initial=current)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            user = request.user if isinstance(request.user, User) else None
            try:
                reply_texts_save(
                    organization=org, language=language, texts=form.cleaned_data, actor=user
                )
            except ValidationError as exc:
                for kind, problems in exc.message_dict.items():
                    for problem in problems:
                        form.add_error(kind if kind in form.fields else None, problem)
            else:
                messages.success(request, f"{LANGUAGES[language]} texts saved.")
                return redirect(f"{reverse('reply-settings')}?language={language}")
    previews = []
    for kind in ReplyKind:
        shown = form.data.get(kind.value, "") if form.is_bound else current[kind.value]
        filled = reply_fill(str(shown), sender=org.sender)
        previews.append((form[kind.value], filled, text_check(filled)))
    context = {
        "org": org,
        "form": form,
        "previews": previews,
        "language": language,
        "languages": LANGUAGES.items(),
        "subtabs": _subtabs(),
    }
    return render(request, "messaging/replies.html", context, status=status)
