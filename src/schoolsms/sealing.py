"""Secrets at rest (carrier auth tokens, SMPP passwords): sealed with Fernet, never stored plain.

Keys come from SCHOOLSMS_SECRETS_KEY (one or more Fernet keys, comma-separated: the first
seals, all of them open), or, when that is unset, are derived from SECRET_KEY (and its
SECRET_KEY_FALLBACKS, which then open older values). Rotate by putting the new key first,
running `schoolsms sender reseal`, then dropping the old one.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "sealed:"


class SecretUnreadable(Exception):
    """A sealed value none of the configured keys opens (the key changed without a reseal)."""


def _derived(secret_key: str) -> bytes:
    digest = hashlib.sha256(b"schoolsms-sealing:" + secret_key.encode()).digest()
    return base64.urlsafe_b64encode(digest)


def _keys() -> list[bytes]:
    configured = [k.strip() for k in settings.SCHOOLSMS_SECRETS_KEY.split(",") if k.strip()]
    if configured:
        return [k.encode() for k in configured]
    fallbacks = list(getattr(settings, "SECRET_KEY_FALLBACKS", []))
    return [_derived(settings.SECRET_KEY), *(_derived(k) for k in fallbacks)]


def _fernet() -> MultiFernet:
    try:
        return MultiFernet([Fernet(key) for key in _keys()])
    except ValueError:
        raise ImproperlyConfigured(
            "SCHOOLSMS_SECRETS_KEY: each key must be a Fernet key (32 url-safe base64-encoded "
            "bytes, e.g. from `python -c 'from cryptography.fernet import Fernet; "
            "print(Fernet.generate_key().decode())'`)"
        ) from None


def seal(plain: str) -> str:
    return PREFIX + _fernet().encrypt(plain.encode()).decode()


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def unseal(sealed: str) -> str:
    if not is_sealed(sealed):
        raise SecretUnreadable("the value is not sealed")
    try:
        return _fernet().decrypt(sealed[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "no configured key opens this secret: SCHOOLSMS_SECRETS_KEY or SECRET_KEY changed "
            "without `schoolsms sender reseal`; configure the gateway again"
        ) from None


def reseal(sealed: str) -> str:
    """The same secret sealed with the current first key."""
    return PREFIX + _fernet().rotate(sealed[len(PREFIX) :].encode()).decode()


def masked(plain: str) -> str:
    """What pages, the CLI and logs may show of a secret: its last 4 characters at most."""
    if len(plain) <= 8:
        return "••••"
    return "••••" + plain[-4:]
