"""The framework's own cost, the baseline of ``bench/request_path.py``: a bare FastAPI app served by the same
uvicorn as cabinet (``uvicorn --app-dir bench _bare_app:app``).

``GET /json`` answers a small JSON object (the size of ``GET /account/info``'s) with no dependency at all;
``GET /jwt`` does what the least an authenticated endpoint must: an ``HTTPBearer`` dependency and a PyJWT HS256
check of the token (key ``BARE_JWT_SECRET``), the reference for what auth alone costs on this machine.
"""

from __future__ import annotations

import os
from typing import Annotated, Any

import jwt
from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

SECRET = os.environ.get("BARE_JWT_SECRET", "bench-secret-bench-secret-bench-secret")
ANSWER = {
    "id": 1,
    "username": "bench_user",
    "company": "bench_company",
    "roles": ["USER"],
    "enabled": True,
    "email": None,
    "phone": None,
    "specification": None,
    "timezone": 0,
    "locale": None,
    "zone": None,
    "attributes": [],
    "created_at": "2026-12-04T22:00:00Z",
}

app = FastAPI()
bearer = HTTPBearer(auto_error=False)


@app.get("/json")
async def plain() -> dict[str, Any]:
    return ANSWER


def claims(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> dict[str, Any]:
    if credentials is None:
        raise HTTPException(401)
    try:
        return jwt.decode(credentials.credentials, SECRET, algorithms=["HS256"])  # type: ignore[no-any-return]
    except jwt.PyJWTError as exc:
        raise HTTPException(401) from exc


@app.get("/jwt")
async def with_jwt(token: Annotated[dict[str, Any], Depends(claims)]) -> dict[str, Any]:
    return {**ANSWER, "username": token["sub"]}
