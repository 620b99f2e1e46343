"""``Idempotency-Key`` on an API's writes (POST, PATCH, PUT, DELETE): a route class that applies a keyed request at
most once per caller and key, and answers a repeat with the first answer (``Idempotent-Replayed: true``).

A request with a key holds its writes in one transaction (``cabinet.core.db.uow.held_writes``) whose first statement
claims the key (domains/idempotency); the route's answer is stored in that transaction before it commits. So:

* a repeat (a retry after a lost answer) finds the claim and gets the stored answer; nothing is applied again;
* two concurrent requests with one key cannot both apply: the second's claim waits for the first's transaction
  (PostgreSQL: the unique index; SQLite: writers take turns) and then replays its answer;
* the key on a different request (method, path, query without the link token, or body) is refused: 422;
* a request that fails (any error answer) changes nothing and does not use its key up: it may be sent again.

The claim is scoped to the caller: a field link's id (``link:<id>``) or the user behind a token or API key
(``user:<id>``), so two callers never see each other's keys. The request's digest is over its method, path, query
and body; a multipart upload's over its file's SHA-256, file name and text fields (a browser sends another
boundary on every retry), read after the file has streamed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Response
from fastapi.routing import APIRoute

from cabinet.apis.shared.auth import services_of
from cabinet.apis.shared.files import UPLOAD_STATE
from cabinet.core.db.uow import arm_held_writes, held_writes
from cabinet.core.http.multipart import MultipartFile
from cabinet.core.principal import CredentialKind, Principal
from cabinet.core.tracing import current_trace
from cabinet.domains.idempotency.schemas import AlreadyAnswered, KeyClaim, StoredAnswer

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_MAX = 255
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # visible ASCII, e.g. a UUID
_KEY_RE = re.compile(KEY_PATTERN)
KEYED_METHODS = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_NOT_REPLAYED = frozenset({b"content-length", b"set-cookie", b"x-process-code", b"x-request-code", b"date"})

KEY_DESCRIPTION = (
    "Optional. Any visible-ASCII string of 1..255 characters (a UUID per request is a good choice). The first "
    "successful answer to a request with this key is kept (per caller: the user behind the credential, or the field "
    "link) for at least 7 days; repeating the request with the same key returns that answer again, with the header "
    "`Idempotent-Replayed: true`, and applies nothing. Concurrent repeats wait for the first and get its answer. "
    "The same key on a different request (another method, path, query or body) is refused with 422 (errorCode "
    "27). A request that failed changed nothing and did not use its key: send it again with the same key."
)


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(alias=KEY_HEADER, min_length=1, max_length=KEY_MAX, pattern=KEY_PATTERN, description=KEY_DESCRIPTION),
    ] = None,
) -> str | None:
    """Documents and validates the header (an invalid one answers 400 before anything runs), and from here on
    (the caller is resolved: this runs after the operation's metering dependency) holds the request's writes.
    ``async`` so FastAPI runs it on the event loop (a plain ``def`` dependency is a thread-pool round trip)."""
    if key is not None:
        arm_held_writes()
    return key


def scope_of(principal: Principal) -> str:
    if principal.credential is CredentialKind.FIELD_LINK and principal.credential_id:
        return f"link:{principal.credential_id}"
    return f"user:{principal.user_id}"


def keyed_route_class(*, unkeyed_paths: frozenset[str], reused: dict[str, Any]) -> type[APIRoute]:
    """The route class of an API whose writes take ``Idempotency-Key`` (all but ``unkeyed_paths``); ``reused``
    documents the 422 answer for a key reused on another request, in the API's own error model."""

    class KeyedRoute(APIRoute):
        def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
            methods = {m.upper() for m in kwargs.get("methods") or ()}
            self.keyed = bool(methods & KEYED_METHODS) and path not in unkeyed_paths
            if self.keyed:
                kwargs["dependencies"] = [*(kwargs.get("dependencies") or ()), Depends(idempotency_key)]
                responses = dict(kwargs.get("responses") or {})
                if 422 in responses:
                    merged = f"{responses[422].get('description', '')}; {reused['description']}"
                    responses[422] = {**responses[422], "description": merged}
                else:
                    responses[422] = reused
                kwargs["responses"] = responses
            super().__init__(path, endpoint, **kwargs)

        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()
            if not self.keyed:
                return handler

            async def keyed_handler(request: Request) -> Response:
                key = request.headers.get(KEY_HEADER)
                if key is None or not _KEY_RE.fullmatch(key):
                    return await handler(request)  # no key: as ever; a bad one: the header check answers 400
                return await _run_keyed(request, key, handler)

            return keyed_handler

    return KeyedRoute


async def _run_keyed(
    request: Request, key: str, handler: Callable[[Request], Coroutine[Any, Any, Response]]
) -> Response:
    idempotency = services_of(request).idempotency
    claimed: list[KeyClaim] = []

    async def claim(_session: Any) -> None:
        principal = current_trace().principal
        if principal is None:
            raise RuntimeError("a keyed write ran before its caller was resolved")
        parts = await _request_parts(request)
        request_claim = KeyClaim(scope_of(principal), key, idempotency.fingerprint(*parts))
        claimed.append(request_claim)
        await idempotency.claim(request_claim)

    try:
        async with held_writes(idempotency.db, claim) as held:
            response = await handler(request)
            if held.session is not None and claimed:
                await idempotency.store(claimed[-1], _answer_of(response))
            await held.complete()
            return response
    except AlreadyAnswered as repeat:
        return _replay(repeat.answer)


async def _request_parts(request: Request) -> list[bytes]:
    """What identifies a request: method, path, query (the link token aside: it is the scope) and body: an upload
    route's file (its digest, name and text fields), else the body's bytes (read now if the route did not)."""
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "token")
    content_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    parts = [request.method.encode(), request.url.path.encode(), repr(query).encode(), content_type.encode()]
    upload: MultipartFile | None = getattr(request.state, UPLOAD_STATE, None)
    if upload is not None:
        if not upload.complete:
            raise RuntimeError("a keyed upload wrote before its file was read")
        fields = repr(sorted(upload.fields.items()))
        parts += [(upload.filename or "").encode(), upload.sha256.encode(), fields.encode()]
    else:
        parts.append(await request.body())
    return parts


def _answer_of(response: Response) -> StoredAnswer:
    body = getattr(response, "body", None)
    if not isinstance(body, bytes | bytearray | memoryview):
        raise RuntimeError("a keyed write answered with a streamed body, which cannot be kept")
    headers = [
        (name.decode("latin-1"), value.decode("latin-1"))
        for name, value in response.raw_headers
        if name.lower() not in _NOT_REPLAYED
    ]
    return StoredAnswer(response.status_code, headers, bytes(body))


def _replay(answer: StoredAnswer) -> Response:
    response = Response(content=answer.body, status_code=answer.status_code)
    response.raw_headers = [
        (name.lower(), value) for name, value in response.raw_headers if name.lower() == b"content-length"
    ] + [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in answer.headers]
    response.headers[REPLAYED_HEADER] = "true"
    return response
