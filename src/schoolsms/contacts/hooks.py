"""What apps above contacts do after an import, registered here so contacts never imports them."""

from __future__ import annotations

from collections.abc import Callable

from schoolsms.accounts.models import Organization

AfterImport = Callable[[Organization], None]
_AFTER_IMPORT: list[AfterImport] = []


def after_import_register(hook: AfterImport) -> AfterImport:
    """Register a function called with the organization once an import has committed."""
    if hook not in _AFTER_IMPORT:
        _AFTER_IMPORT.append(hook)
    return hook


def after_import_run(organization: Organization) -> None:
    for hook in _AFTER_IMPORT:
        hook(organization)
