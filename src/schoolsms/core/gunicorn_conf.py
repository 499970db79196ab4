"""gunicorn settings for `schoolsms serve`: no `Server:` header naming the software."""

from __future__ import annotations

from gunicorn.http import wsgi


class _Response(wsgi.Response):  # type: ignore[misc]
    """gunicorn writes `Server: gunicorn` itself, below any WSGI middleware; leave it out so a
    probe learns nothing about what serves the pages."""

    def default_headers(self) -> list[str]:
        return [h for h in super().default_headers() if not h.lower().startswith("server:")]


wsgi.Response = _Response  # the sync worker builds its responses from this module's name
