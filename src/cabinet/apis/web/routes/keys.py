"""API key rotation and revoke-all on the pages (issue 20): on the operator's user page (the credentials
service's rules: a COMPANYOWNER its company's users, as far as it may grant their roles) and on the Account page
for a person's own keys. A rotation's new key is shown once on the page the POST redirects to; the old key keeps
working for ROTATION_GRACE hours."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Request
from fastapi.responses import Response

from cabinet.apis.shared.params import INT64_MAX
from cabinet.apis.web.deps import (
    OperatorWriter,
    ServicesDep,
    Viewer,
    account_op,
    admin_write_op,
    redirect,
    redirect_with_secret,
)
from cabinet.apis.web.i18n import gettext as _
from cabinet.apis.web.routes import page_router
from cabinet.core.metering import ProcessType
from cabinet.domains.credentials.errors import ApiKeyNotFound

router = page_router()

ROTATION_GRACE = 24  # hours, as the Admin API's default
Username = Annotated[str, Path(min_length=2, max_length=256, pattern=r"^\w+$")]
KeyId = Annotated[int, Path(ge=1, le=INT64_MAX)]


def _rotated_said() -> str:
    return _("New key issued; the old one keeps working for %(hours)s hours.", hours=ROTATION_GRACE)


@router.post("/admin/users/{username}/keys/{key_id}/rotate", **admin_write_op("rotate_api_key", ProcessType.TRACE))
async def rotate_users_key(
    request: Request, username: Username, key_id: KeyId, principal: OperatorWriter, svc: ServicesDep
) -> Response:
    if (await svc.credentials.get_key(principal, key_id)).username != username:
        raise ApiKeyNotFound(resource=str(key_id))  # the page names the key's owner: another's is not found
    rotated = await svc.credentials.rotate_key(principal, key_id, ROTATION_GRACE)
    url = f"/ui/admin/users/{username}#keys"
    return redirect_with_secret(request, url, _rotated_said(), rotated.issued.key)


@router.post("/admin/users/{username}/keys/revoke-all", **admin_write_op("revoke_api_keys", ProcessType.TRACE))
async def revoke_users_keys(
    request: Request, username: Username, principal: OperatorWriter, svc: ServicesDep
) -> Response:
    revoked = await svc.credentials.revoke_all(principal, username)
    return redirect(request, f"/ui/admin/users/{username}#keys", _("Keys revoked: %(count)s.", count=revoked))


@router.post("/account/keys/{key_id}/rotate", **account_op("rotate_own_api_key", ProcessType.TRACE))
async def rotate_own_key(request: Request, key_id: KeyId, principal: Viewer, svc: ServicesDep) -> Response:
    rotated = await svc.credentials.rotate_own_key(principal, key_id, ROTATION_GRACE)
    return redirect_with_secret(request, "/ui/account#keys", _rotated_said(), rotated.issued.key)


@router.post("/account/keys/revoke-all", **account_op("revoke_own_api_keys", ProcessType.TRACE))
async def revoke_own_keys(request: Request, principal: Viewer, svc: ServicesDep) -> Response:
    revoked = await svc.credentials.revoke_own_keys(principal)
    return redirect(request, "/ui/account#keys", _("Keys revoked: %(count)s.", count=revoked))
