"""Internal commands and results of the credentials domain (wire DTOs live in each API)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from cabinet.core.principal import Principal
from cabinet.models import ApiKey

# The wire form of a key is ``<prefix>.<secret>``: a public lookup prefix (16 hex characters, 64 random bits)
# and a secret of 32 random bytes (43 URL-safe base64 characters). Only HMAC-SHA256 of the secret is kept.
PREFIX_BYTES = 8
SECRET_BYTES = 32
KEY_RE = re.compile(r"([0-9a-f]{16})\.([A-Za-z0-9_-]{43})")
KEY_MAX_LENGTH = 60

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
