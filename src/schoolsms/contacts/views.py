"""Pages of the Contacts tab: search and list, a contact's numbers, consent and family."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from schoolsms.accounts.access import ADMIN, READ, OrgRequest, org_required
from schoolsms.contacts import selectors
from schoolsms.contacts.forms import ContactSearchForm
from schoolsms.contacts.panels import contact_panels_render
from schoolsms.contacts.services import phone_capability_reset as capability_reset
from schoolsms.phones import InvalidPhoneNumber, display, to_e164
from schoolsms.webutil import ReadOncePaginator, redirect_back

PAGE_SIZE = 50


def contacts_subtabs(request: OrgRequest, active: str) -> list[tuple[str, str, bool]]:
    items = [
        ("Contacts", reverse("contacts:list"), active == "list"),
        ("Block list", reverse("contacts:blocked"), active == "blocked"),
    ]
    if request.membership.is_admin:
        items.append(("Import", reverse("contacts:import"), active == "import"))
        items.append(("Roster sync", reverse("contacts:sync"), active == "sync"))
    return items


@org_required(READ)
def contact_list(request: OrgRequest) -> HttpResponse:
    org = request.organization
    form = ContactSearchForm(request.GET or None, schools=selectors.school_names(organization=org))
    filters: dict[str, str] = {}
    if form.is_valid():
        filters = {k: form.cleaned_data[k] for k in ("q", "role", "school", "sms_status")}
    contacts = selectors.contact_search(
        organization=org,
        query=filters.get("q", ""),
        role=filters.get("role", ""),
        school=filters.get("school", ""),
        sms_status=filters.get("sms_status", ""),
    )
    page = ReadOncePaginator(contacts, PAGE_SIZE).get_page(request.GET.get("page"))
    numbers = selectors.numbers_for_contacts(organization=org, contacts=page.object_list)
    rows = [(c, numbers.get(c.pk, [])) for c in page.object_list]
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "form": form,
        "page": page,
        "rows": rows,
        "filtered": any(filters.values()),
        "querystring": query.urlencode(),
        "last_sync": selectors.roster_sync_last(organization=org),
        "subtabs": contacts_subtabs(request, "list"),
    }
    return render(request, "contacts/list.html", context)


@org_required(READ)
def contact_detail(request: OrgRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(organization=request.organization, pk=pk)
    if contact is None:
        raise Http404("No such contact in this organization.")
    context = {
        "contact": contact,
        "numbers": selectors.contact_numbers(contact=contact),
        "guardians": selectors.contact_guardians(contact=contact),
        "students": selectors.contact_students(contact=contact),
        "panels": contact_panels_render(contact),
        "subtabs": contacts_subtabs(request, "list"),
    }
    return render(request, "contacts/detail.html", context)


@require_POST
@org_required(ADMIN)
def phone_capability_reset(request: OrgRequest) -> HttpResponse:
    org = request.organization
    try:
        phone = to_e164(request.POST.get("phone", ""), org.phone_region)
    except InvalidPhoneNumber as exc:
        messages.error(request, str(exc))
        return redirect_back(request, "contacts:list")
    if capability_reset(organization=org, phone=phone):
        messages.success(request, f"{display(phone)} will be texted again by later broadcasts.")
    else:
        messages.info(request, f"{display(phone)} was not marked as unable to take SMS.")
    return redirect_back(request, "contacts:list")
