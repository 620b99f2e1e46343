"""``Idempotency-Key`` on the contractor API: every POST, PATCH and DELETE takes one (apis/shared/idempotency.py),
except the sign-ins, whose answers are fresh tokens that must never be stored nor handed out twice (a salt and a
service token are accepted once anyway)."""

from __future__ import annotations

from cabinet.apis.contractor.schemas import ErrorDTO
from cabinet.apis.shared.idempotency import keyed_route_class

UNKEYED_PATHS = frozenset({"/user/signin", "/user/token"})

KeyedRoute = keyed_route_class(
    unkeyed_paths=UNKEYED_PATHS,
    reused={
        "model": ErrorDTO,
        "description": "errorCode 27: the Idempotency-Key was already used by this caller for a different request",
    },
)
