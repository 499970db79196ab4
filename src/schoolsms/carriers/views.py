"""Settings > Carrier (admins): which gateway the organization's sender uses, and its options."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from schoolsms.accounts.access import ADMIN, OrgRequest, org_required
from schoolsms.accounts.models import Organization
from schoolsms.carriers.forms import GatewayChoiceForm, GatewayOptionsForm
from schoolsms.carriers.registry import gateway_configs
from schoolsms.carriers.selectors import gateway_settings_display
from schoolsms.carriers.services import GatewayConfigError, sender_gateway_configure


def _subtabs() -> list[tuple[str, str, bool]]:
    return [
        ("Organization", reverse("accounts:organization"), False),
        ("Users", reverse("accounts:users"), False),
        ("API tokens", reverse("accounts:tokens"), False),
        ("Carrier", reverse("carrier-settings"), True),
        ("Text replies", reverse("reply-settings"), False),
    ]


@org_required(ADMIN)
def carrier_settings(request: OrgRequest) -> HttpResponse:
    org: Organization = request.organization
    sender = org.sender
    configs = gateway_configs()
    chosen = request.GET.get("gateway") or request.POST.get("gateway") or sender.gateway
    if chosen not in configs:
        chosen = sender.gateway
    config = configs[chosen]
    stored = dict(sender.gateway_options or {}) if chosen == sender.gateway else {}
    form = GatewayOptionsForm(
        request.POST or None, config=config, stored=stored, initial={"mps": sender.mps}
    )
    status = 200
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "mps"}
        try:
            sender_gateway_configure(
                sender=sender, gateway=chosen, values=values, mps=form.cleaned_data["mps"]
            )
        except GatewayConfigError as exc:
            for error in exc.errors:
                form.add_error(None, error)
        else:
            messages.success(request, f"Sender {sender.code} now sends through {config.label}.")
            return redirect("carrier-settings")
    if request.method == "POST":
        status = 400
    context = {
        "org": org,
        "sender": sender,
        "choice_form": GatewayChoiceForm(initial={"gateway": chosen}, configs=configs),
        "form": form,
        "chosen": chosen,
        "config": config,
        "current": gateway_settings_display(sender),
        "current_label": configs[sender.gateway].label if sender.gateway in configs else "",
        "webhook_base": request.build_absolute_uri("/").rstrip("/"),
        # Signatures are checked against the public address, so that is what to enter.
        "webhooks": [
            (label, settings.SCHOOLSMS_PUBLIC_URL + path) for label, path in config.webhooks
        ],
        "subtabs": _subtabs(),
    }
    return render(request, "carriers/settings.html", context, status=status)
