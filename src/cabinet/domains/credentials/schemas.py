"""Internal commands and results of the credentials domain (wire DTOs live in each API)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cabinet.core.principal import Principal
from cabinet.models import ApiKey

# The wire form of a key is ``cab_<id>_<secret>``: ``cab_`` and a public lookup id (16 hex characters, 64 random
# bits) -- together the key's public prefix, shown in lists -- and a secret of 32 random bytes (43 URL-safe base64
# characters). Only HMAC-SHA256 of the secret is kept. Keys issued before the ``cab_`` form are
# ``<id>.<secret>`` (their prefix is the bare id) and keep working.
PREFIX_BYTES = 8
SECRET_BYTES = 32
KEY_LABEL = "cab_"
KEY_RE = re.compile(r"(cab_[0-9a-f]{16})_([A-Za-z0-9_-]{43})|([0-9a-f]{16})\.([A-Za-z0-9_-]{43})")
KEY_MAX_LENGTH = 64
PREFIX_MAX_LENGTH = 20
ADDRESS_MAX_LENGTH = 45  # the longest IPv6 address written out (IPv4-mapped)
ROTATION_GRACE_HOURS_DEFAULT = 24
ROTATION_GRACE_HOURS_MAX = 24 * 30


def split_key(raw: str) -> tuple[str, str] | None:
    """``(prefix, secret)`` of a key in either form, or None."""
    match = KEY_RE.fullmatch(raw) if len(raw) <= KEY_MAX_LENGTH else None
    if match is None:
        return None
    if match.group(1) is not None:
        return match.group(1), match.group(2)
    return match.group(3), match.group(4)


NAME_MAX = 256
KEYS_PER_USER_MAX = 100
NETWORKS_PER_COMPANY_MAX = 1000
CIDR_MAX_LENGTH = 64  # the column's width; the longest IPv6 network written out is 43 characters

LAST_USED_RESOLUTION = timedelta(seconds=60)  # last_used_at is written at most once a minute per key
NETWORK_CACHE_SECONDS = 2.0  # how stale another process's view of a changed allow-list may be
CACHE_MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class PlatformOperator:
    """The caller of the command line: the platform operator, unconfined by any company or role."""


PLATFORM_OPERATOR = PlatformOperator()

# Who asks: a signed-in principal (its rights apply) or the platform operator (CLI).
Caller = Principal | PlatformOperator


@dataclass(frozen=True, slots=True)
class KeyRequest:
    """Issue a key: ``expires_at`` None = permanent; a naive datetime is taken as UTC."""

    name: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A new key and its wire form; ``key`` is shown once and never stored."""

    row: ApiKey
    username: str
    key: str


@dataclass(frozen=True, slots=True)
class RotatedKey:
    """A key's successor; the old key works until ``old_key_valid_until``."""

    issued: IssuedKey
    old_key_valid_until: datetime
