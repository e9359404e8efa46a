"""Credentials of remote peers, sealed at rest (AES-GCM with a key derived from ``HERDSEC_SECRET_KEY``).

A database dump alone does not reveal a peer's password or API key; whoever also has the hub's secret key does
(the hub must be able to use them). Changing ``HERDSEC_SECRET_KEY`` makes stored credentials unreadable: the
peer's runs then fail with a clear error until the credentials are given again.
"""

from __future__ import annotations

import base64
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from herdsec.core.errors import N_, ConfigError

VERSION = "v1"
_CONTEXT = b"herdsec federation credentials v1\x00"


def _key(secret_key: str) -> bytes:
    return hashlib.sha256(_CONTEXT + secret_key.encode()).digest()


def seal(secret_key: str, plaintext: str, peer: str) -> str:
    """Encrypt ``plaintext``, bound to the peer's name (a sealed value cannot be moved to another peer)."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret_key)).encrypt(nonce, plaintext.encode(), peer.encode())
    return f"{VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def unseal(secret_key: str, value: str, peer: str) -> str:
    version, _sep, body = value.partition(":")
    try:
        if version != VERSION:
            raise ValueError(version)
        raw = base64.b64decode(body, validate=True)
        return AESGCM(_key(secret_key)).decrypt(raw[:12], raw[12:], peer.encode()).decode()
    except (ValueError, InvalidTag):
        raise ConfigError(
            N_(
                "the stored credentials of peer %(peer)s cannot be read (was HERDSEC_SECRET_KEY changed?); "
                "give them again with `herdsec federation add --replace`"
            ),
            peer=peer,
        ) from None
