"""Language codes of broadcast texts and their names as their speakers write them."""

from __future__ import annotations

from django.utils.translation import get_language_info


def language_name(code: str) -> str:
    """A language's own name ("Español" for es), or its code when Django does not know it."""
    try:
        return str(get_language_info(code)["name_local"]).capitalize()
    except KeyError:
        return code
