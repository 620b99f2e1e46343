"""AES-GCM sealing of small secrets (the contractor sign-in verifier)."""

from __future__ import annotations

import pytest

from cabinet.core.security.sealing import SealBroken, Sealer


def test_seal_opens_only_for_its_owner_purpose_and_secret() -> None:
    sealer = Sealer(b"s" * 32, "purpose/a")
    sealed = sealer.seal(b"verifier", bound_to=b"user:1")
    assert b"verifier" not in sealed
    assert sealer.open(sealed, bound_to=b"user:1") == b"verifier"
    assert sealer.seal(b"verifier", bound_to=b"user:1") != sealed  # a fresh nonce each time
    for other, bound in (
        (sealer, b"user:2"),  # copied onto another row
        (Sealer(b"s" * 32, "purpose/b"), b"user:1"),  # another purpose's key
        (Sealer(b"t" * 32, "purpose/a"), b"user:1"),  # another server secret
    ):
        with pytest.raises(SealBroken):
            other.open(sealed, bound_to=bound)
    tampered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for broken in (tampered, sealed[:12], b""):
        with pytest.raises(SealBroken):
            sealer.open(broken, bound_to=b"user:1")
