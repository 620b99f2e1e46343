"""Stored payloads are gzip with a window sized to the payload: any gzip reader reads them, and they are never
larger than ``gzip.compress`` at the same level makes them."""

from __future__ import annotations

import gzip
import json
import random

import pytest

from cabinet.domains.audit.service import gzip_payload

SIZES = [0, 1, 100, 249, 250, 251, 262, 263, 511, 512, 513, 1000, 4096, 32_506, 32_507, 32_768, 100_000]


def _json_like(size: int) -> bytes:
    rows, text = 0, b""
    while len(text) < size:
        text += json.dumps({"id": rows, "name": f"user {rows % 37}", "roles": ["USER", "VIEWER"][: rows % 3]}).encode()
        rows += 1
    return text[:size]


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("kind", ["json", "random", "repeated"])
def test_round_trip_and_no_larger_than_gzip(size: int, kind: str) -> None:
    rng = random.Random(size)
    data = {
        "json": _json_like(size),
        "random": rng.randbytes(size),
        # a match exactly as far back as the data is long: found only if the window covers all of it
        "repeated": (rng.randbytes(size // 2) * 2)[:size],
    }[kind]
    packed = gzip_payload(data)
    assert gzip.decompress(packed) == data
    assert len(packed) <= len(gzip.compress(data, 6, mtime=0))


def test_a_typical_payload_compresses_as_well_as_gzip() -> None:
    body = json.dumps({"specification": "written by a client", "attributes": [{"key": "a", "value": "b"}] * 5}).encode()
    assert len(gzip_payload(body)) == len(gzip.compress(body, 6, mtime=0))
