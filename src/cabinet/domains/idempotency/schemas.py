"""What the idempotency domain works with: a claim on a key, and a stored answer."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KeyClaim:
    """A request that carries a key: whose it is (``user:<id>`` / ``link:<link id>``), the key, and the keyed
    digest of what it asks."""

    scope: str
    key: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    status_code: int
    headers: list[tuple[str, str]]
    body: bytes


class AlreadyAnswered(Exception):
    """The key already answered this very request: send ``answer`` again, apply nothing."""

    def __init__(self, answer: StoredAnswer) -> None:
        super().__init__("already answered")
        self.answer = answer
