"""gunicorn settings for `schoolsms serve`: no `Server:` header, no query strings in its log."""

from __future__ import annotations

from gunicorn.http import wsgi


class _Response(wsgi.Response):  # type: ignore[misc]
    """gunicorn writes `Server: gunicorn` itself, below any WSGI middleware; leave it out so a
    probe learns nothing about what serves the pages."""

    def default_headers(self) -> list[str]:
        return [h for h in super().default_headers() if not h.lower().startswith("server:")]


wsgi.Response = _Response  # the sync worker builds its responses from this module's name

# The access log names the path but not the query string or the referring page: queries carry
# phone numbers (an SMS Status lookup) and searches, which have no place in logs.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(L)ss'

# gunicorn 24+ opens a control socket at one fixed path per machine user: several servers on
# one machine (tests, or two sites) would take it from each other. `serve` needs none.
control_socket_disable = True
