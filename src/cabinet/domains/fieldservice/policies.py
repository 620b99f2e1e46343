"""Who sees what in the contractor area (the coarse role checks are in the API; these are the fine rules).

The external system (a BOT of the tenant, by API key) and a CREWMANAGER or COMPANYOWNER see every call of their
company; any other contractor user (USER, CREW) only the calls it owns. Another company's call, or another
contractor's for a confined caller, is *not found*.
"""

from __future__ import annotations

from dataclasses import dataclass

from cabinet.core.principal import Principal
from cabinet.core.roles import Permission
from cabinet.domains.fieldservice.errors import CallerNotAllowed


@dataclass(frozen=True, slots=True)
class Viewer:
    company_id: int
    user_id: int
    owner_scope: int | None  # only the calls of this owner; None = the whole company
    external: bool  # the external system (dispatcher side)


def viewer_of(principal: Principal) -> Viewer:
    if principal.can(Permission.EXTERNAL_SYSTEM):
        return Viewer(principal.company_id, principal.user_id, None, True)
    if principal.can(Permission.CONTRACTOR_COMPANY_CALLS):
        return Viewer(principal.company_id, principal.user_id, None, False)
    if principal.can(Permission.CONTRACTOR_WORK):
        return Viewer(principal.company_id, principal.user_id, principal.user_id, False)
    raise CallerNotAllowed("the contractor area needs a contractor role or the external system's key")


def require_external(principal: Principal) -> Viewer:
    if not principal.can(Permission.EXTERNAL_SYSTEM):
        raise CallerNotAllowed("only the external system (BOT) may do this")
    return viewer_of(principal)


def require_contractor(principal: Principal) -> Viewer:
    if not principal.can(Permission.CONTRACTOR_WORK):
        raise CallerNotAllowed("only a contractor user may do this")
    viewer = viewer_of(principal)
    if viewer.external:  # an OVERLORD holds both: it acts as a company-wide contractor here
        return Viewer(viewer.company_id, viewer.user_id, None, False)
    return viewer
