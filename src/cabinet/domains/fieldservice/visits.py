"""Visits: the field employee checks in on site and out again, through the link (``POST /shared/call/visit``).

Each check keeps the service's time (when it arrived: a check queued on a phone without signal arrives later),
the phone's time and, when the person allowed it, the phone's position. A check-in's great-circle distance to the
call's service object is kept, and a check-in farther than ``CABINET_FIELD_GEOFENCE_METERS`` is *marked*
(``outside_geofence``), never refused: a basement has no GPS fix and the ERP decides what a far check-in means.
A service object at exactly (0, 0) is taken as one without coordinates (what an ERP sends when it has none).
Several visits per call are allowed, one open at a time: a check-out without an open visit and a check-in while
one is open are refused (409). Visits are taken while the call is Committed or Done (the link works until then).
"""

from __future__ import annotations

import math

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, transactional
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.errors import CallStateConflict, VisitAlreadyOpen, VisitNotOpen
from cabinet.domains.fieldservice.events import FieldEvents
from cabinet.domains.fieldservice.field_links import FieldLinkAccess, linked_call
from cabinet.domains.fieldservice.repository import ProofRepository
from cabinet.domains.fieldservice.schemas import Position, VisitAction, VisitCheck
from cabinet.domains.fieldservice.states import CallAction, CallStatus, call_permits
from cabinet.models import Call, CallVisit

EARTH_RADIUS_METERS = 6_371_008.8  # the mean radius (IUGG)


def distance_meters(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    """Great-circle distance (haversine) between two WGS 84 points, in meters (within 0.5 % of the ellipsoid's)."""
    phi1, phi2 = math.radians(a_lat), math.radians(b_lat)
    d_phi = phi2 - phi1
    d_lambda = math.radians(b_lon - a_lon)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_METERS * math.asin(min(1.0, math.sqrt(h)))


def object_has_coordinates(call: Call) -> bool:
    return not (call.service_object_latitude == 0 and call.service_object_longitude == 0)


class VisitService:
    def __init__(
        self, db: Database, *, clock: Clock, geofence_meters: float, events: FieldEvents | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.events = events or FieldEvents()
        self.geofence_meters = geofence_meters
        self.proof = ProofRepository()

    @transactional
    async def check(self, access: FieldLinkAccess, check: VisitCheck) -> list[CallVisit]:
        """Record a check-in or check-out of the link's call; returns the call's visits, oldest first."""
        call = await linked_call(access, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.FIELD_PROOF):
            raise CallStateConflict(f"visits are recorded while the call is Committed or Done, not {call.status}")
        visits = await self.proof.visits_of(call.id)
        open_visit = next((v for v in visits if v.check_out_at is None), None)
        now = self.clock.now()
        position = check.position
        if check.action is VisitAction.CHECK_IN:
            if open_visit is not None:
                raise VisitAlreadyOpen()
            distance = self._distance(call, position)
            visit = CallVisit(
                call_id=call.id,
                company_id=call.company_id,
                link_id=access.link_id,
                check_in_at=now,
                check_in_client_at=check.client_time,
                check_in_latitude=position.latitude if position else None,
                check_in_longitude=position.longitude if position else None,
                check_in_accuracy=position.accuracy if position else None,
                distance_meters=distance,
                outside_geofence=None if distance is None else distance > self.geofence_meters,
            )
            await self.proof.add(visit)
            visits.append(visit)
        else:
            if open_visit is None:
                raise VisitNotOpen()
            open_visit.check_out_at = now
            open_visit.check_out_client_at = check.client_time
            open_visit.check_out_latitude = position.latitude if position else None
            open_visit.check_out_longitude = position.longitude if position else None
            open_visit.check_out_accuracy = position.accuracy if position else None
        call.edited_at = now
        await feed.stamp(call.company_id, [call])  # the call carries its visits: the ERP's feed sees them
        await self.events.call("updated", call, now)
        return visits

    def _distance(self, call: Call, position: Position | None) -> float | None:
        if position is None or not object_has_coordinates(call):
            return None
        meters = distance_meters(
            position.latitude, position.longitude, call.service_object_latitude, call.service_object_longitude
        )
        return round(meters, 1)
