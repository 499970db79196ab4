"""When a request was written to its connection, for the sender's rate limit: Twilio counts a
message when the create reaches it, which for a new connection (a TLS handshake first) or on a
busy machine is well after the worker let the chunk go, and well before its answer."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_this_thread = threading.local()


def on_written(callback: Callable[[float], None] | None) -> None:
    """Call `callback(epoch seconds)` when this thread's next requests have been written."""
    _this_thread.callback = callback


class _Stamped:
    def request(self, *args: Any, **kwargs: Any) -> None:
        super().request(*args, **kwargs)  # type: ignore[misc]
        callback = getattr(_this_thread, "callback", None)
        if callback is not None:
            callback(time.time())


class _HTTPConnection(_Stamped, HTTPConnection):
    pass


class _HTTPSConnection(_Stamped, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def stamping_adapter(**kwargs: Any) -> HTTPAdapter:
    """An HTTPAdapter whose connections report each request written (see on_written)."""
    adapter = HTTPAdapter(**kwargs)
    adapter.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
    return adapter
