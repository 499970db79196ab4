"""Pages for the block list: see it (everyone), block and unblock a number (admins)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import ADMIN, READ, OrgRequest, org_required
from schoolsms.consent import selectors, services
from schoolsms.phones import InvalidPhoneNumber, display, to_e164
from schoolsms.webutil import back_target, confirm_page, is_confirmed, redirect_back


class BlockForm(forms.Form):
    phone = forms.CharField(label="Phone number", max_length=40)
    reason = forms.CharField(label="Reason (optional)", max_length=200, required=False)

    def __init__(self, *args: object, region: str = "US", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.region = region

    def clean_phone(self) -> str:
        try:
            return to_e164(self.cleaned_data["phone"], self.region)
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(str(exc)) from None


def _subtabs(request: OrgRequest) -> list[tuple[str, str, bool]]:
    items = [
        ("Contacts", reverse("contacts:list"), False),
        ("Block list", reverse("contacts:blocked"), True),
    ]
    if request.membership.is_admin:
        items.append(("Import", reverse("contacts:import"), False))
    return items


@org_required(READ)
def blocked_list(request: OrgRequest, form: BlockForm | None = None) -> HttpResponse:
    org = request.organization
    page = Paginator(
        selectors.blocked_numbers(organization=org).select_related("created_by"), 100
    ).get_page(request.GET.get("page"))
    for blocked in page.object_list:
        blocked.display = display(blocked.phone)  # type: ignore[attr-defined]
    context = {
        "page": page,
        "form": form or BlockForm(region=org.phone_region),
        "subtabs": _subtabs(request),
    }
    return render(request, "contacts/blocked.html", context, status=400 if form else 200)


@require_POST
@org_required(ADMIN)
def number_block(request: OrgRequest) -> HttpResponse:
    org = request.organization
    form = BlockForm(request.POST, region=org.phone_region)
    if not form.is_valid():
        return blocked_list(request, form=form)
    phone = form.cleaned_data["phone"]
    created = services.number_block(
        organization=org,
        phone=phone,
        reason=form.cleaned_data["reason"],
        actor=request.user,
    )
    if created:
        messages.success(request, f"{display(phone)} is blocked: it will not be texted.")
    else:
        messages.info(request, f"{display(phone)} was already blocked.")
    return redirect_back(request, "contacts:blocked")


@require_POST
@org_required(ADMIN)
def number_unblock(request: OrgRequest) -> HttpResponse:
    org = request.organization
    try:
        phone = to_e164(request.POST.get("phone", ""), org.phone_region)
    except InvalidPhoneNumber as exc:
        messages.error(request, str(exc))
        return redirect_back(request, "contacts:blocked")
    if not is_confirmed(request):
        return confirm_page(
            request,
            question=f"Unblock {display(phone)}?",
            facts=[
                "It is taken off the block list: broadcasts text it again when its SMS status "
                "allows (it keeps the consent status it had)."
            ],
            confirm_label=f"Yes, unblock {display(phone)}",
            back_url=back_target(request, reverse("contacts:blocked")),
        )
    if services.number_unblock(organization=org, phone=phone):
        messages.success(request, f"{display(phone)} is unblocked.")
    else:
        messages.info(request, f"{display(phone)} was not blocked.")
    return redirect_back(request, "contacts:blocked")
