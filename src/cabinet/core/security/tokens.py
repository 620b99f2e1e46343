"""JWT access tokens (PyJWT). Claims: sub, company, roles, typ, ver, jti, iat, exp.

Only the configured algorithm is accepted (never ``none``); signature, expiry and required claims are
checked here; whether ``ver`` still matches the user is the identity service's job.

A token whose signature and claims were verified once is remembered (by its exact text, at most
``VERIFIED_CACHE_SIZE`` of them, oldest dropped first): the same token presented again skips the HMAC and the
JSON parsing, which were a fifth of an authenticated request's CPU. Expiry is still checked on every use, and
nothing else about a token can change: revocation (``ver``, sign-out) is checked after decoding, as before.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

REQUIRED_CLAIMS = ["sub", "company", "roles", "typ", "ver", "jti", "iat", "exp"]
VERIFIED_CACHE_SIZE = 4096


class TokenInvalid(Exception):
    """The token is malformed, tampered, of a wrong algorithm, or expired (``expired`` tells which)."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


@dataclass(frozen=True, slots=True)
class TokenClaims:
    user_id: int
    company: str
    roles: tuple[str, ...]
    typ: str
    ver: int
    jti: str
    issued_at: datetime
    expires_at: datetime


class TokenCodec:
    def __init__(self, secret: bytes, *, algorithm: str = "HS256", leeway_seconds: int = 0) -> None:
        self._secret = secret
        self._algorithm = algorithm
        self._leeway = leeway_seconds
        self._verified: dict[str, tuple[TokenClaims, int]] = {}  # token -> (claims, exp)

    def issue(
        self,
        *,
        user_id: int,
        company: str,
        roles: list[str] | tuple[str, ...],
        typ: str,
        ver: int,
        now: datetime,
        ttl: timedelta,
    ) -> tuple[str, TokenClaims]:
        claims = TokenClaims(
            user_id=user_id,
            company=company,
            roles=tuple(roles),
            typ=typ,
            ver=ver,
            jti=uuid.uuid4().hex,
            issued_at=now,
            expires_at=now + ttl,
        )
        payload = {
            "sub": str(user_id),
            "company": company,
            "roles": list(claims.roles),
            "typ": typ,
            "ver": ver,
            "jti": claims.jti,
            "iat": int(now.timestamp()),
            "exp": int(claims.expires_at.timestamp()),
        }
        return jwt.encode(payload, self._secret, algorithm=self._algorithm), claims

    def decode(self, token: str, *, now: datetime) -> TokenClaims:
        known = self._verified.get(token)
        if known is None or known[0].expires_at.tzinfo is not now.tzinfo:
            known = self._verify(token, now=now)
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = known
        claims, exp = known
        # Expiry is checked against the injected clock (not the wall clock) so tests can move time.
        if exp + self._leeway <= int(now.timestamp()):
            raise TokenInvalid("token expired", expired=True)
        return claims

    def _verify(self, token: str, *, now: datetime) -> tuple[TokenClaims, int]:
        """Signature, algorithm and claim types; not expiry (``decode`` checks it on every use)."""
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise TokenInvalid(str(exc)) from exc
        try:
            user_id = int(payload["sub"])
            exp = int(payload["exp"])
            iat = int(payload["iat"])
            ver = int(payload["ver"])
            roles = tuple(str(r) for r in payload["roles"])
        except (TypeError, ValueError) as exc:
            raise TokenInvalid("malformed claims") from exc
        claims = TokenClaims(
            user_id=user_id,
            company=str(payload["company"]),
            roles=roles,
            typ=str(payload["typ"]),
            ver=ver,
            jti=str(payload["jti"]),
            issued_at=datetime.fromtimestamp(iat, tz=now.tzinfo),
            expires_at=datetime.fromtimestamp(exp, tz=now.tzinfo),
        )
        return claims, exp
