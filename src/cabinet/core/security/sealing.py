"""Sealing small secrets at rest with AES-256-GCM (``cryptography``), under a key derived from the server secret.

Each purpose gets its own key (HKDF-SHA256 with a purpose label) and every sealed value is bound to what it
belongs to (associated data, e.g. the user id), so a sealed value copied onto another row does not open.
A sealed value is ``nonce (12 bytes) || ciphertext+tag``.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class SealBroken(Exception):
    """The sealed value was tampered with, belongs to another row, or was sealed under another key."""


class Sealer:
    def __init__(self, secret: bytes, purpose: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(secret)
        self._aead = AESGCM(key)

    def seal(self, plain: bytes, *, bound_to: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, bound_to)

    def open(self, sealed: bytes, *, bound_to: bytes) -> bytes:
        if len(sealed) <= NONCE_BYTES:
            raise SealBroken("sealed value too short")
        try:
            return self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], bound_to)
        except InvalidTag as exc:
            raise SealBroken("sealed value does not open") from exc
