"""Sections that apps above contacts add to a contact's page, so contacts never imports them."""

from __future__ import annotations

from collections.abc import Callable

from django.utils.safestring import SafeString

from schoolsms.contacts.models import Contact

ContactPanel = Callable[[Contact], SafeString]
_PANELS: list[ContactPanel] = []


def contact_panel_register(panel: ContactPanel) -> ContactPanel:
    """Register a function that renders one section of a contact's page (called at app ready)."""
    if panel not in _PANELS:
        _PANELS.append(panel)
    return panel


def contact_panels_render(contact: Contact) -> list[SafeString]:
    return [panel(contact) for panel in _PANELS]
