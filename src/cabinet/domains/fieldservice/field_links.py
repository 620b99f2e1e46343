"""Field employees' links (seed 004 "templink" and ``/shared/*``): a contractor hands one call to a field employee
who has no account, by a link.

The token is a JWT (PyJWT, HS256; ``typ`` ``field_link``, the call as ``sub``, the link id as ``lid``, ``exp``)
signed with a key derived from the server secret for this use only, so no other token of cabinet can pass for a
link nor a link for any other token. A token is good while

* its signature verifies (a guessed or altered token fails before any database read),
* its expiry (``CABINET_FIELD_LINK_TTL_SECONDS`` after issue) has not passed on the service's clock,
* its link id is still the call's ``temp_link_id``: issuing a new link replaces it, so the old one dies at once;
  handing the call back (Committed -> New) or closing it clears it,
* the call's owner (the contractor user the link acts for) is enabled and its token version is the one the link
  was issued under (``ver``): a lock, a password change or a role change of the owner kills every link issued
  before for good, and an unlock does not revive them.

A link reaches only its own call: the ``/shared`` operations take the call from the link, never from the
request, and check every task id against it. It carries no roles, so no other endpoint accepts it (they take an
``Authorization`` header with an API key or an access token; a link is neither). Requests through a link are
metered and audited as the call's owner, with the credential kind ``field_link``.
"""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.metering import note_target
from cabinet.core.principal import CredentialKind, Principal
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.costs import record_field_report
from cabinet.domains.fieldservice.errors import (
    CallNotFound,
    CallStateConflict,
    CallStatusChangeRefused,
    CallTaskNotFound,
    CommentRequired,
    FieldLinkExpired,
    FieldLinkNotFound,
    FieldReportInvalid,
    TaskResultNotFound,
    TaskStatusChangeRefused,
)
from cabinet.domains.fieldservice.events import FieldEvents
from cabinet.domains.fieldservice.notifications import notify_owner
from cabinet.domains.fieldservice.policies import Viewer, require_contractor
from cabinet.domains.fieldservice.repository import AttachmentRepository, CallRepository, TaskRepository
from cabinet.domains.fieldservice.schemas import TEXT_MAX, CallView, FieldReport, TaskView
from cabinet.domains.fieldservice.states import (
    Actor,
    CallAction,
    CallStatus,
    TaskStatus,
    call_permits,
    call_transition,
    task_transition_allowed,
)
from cabinet.models import Call, CallTask, CallTaskAttachment

TOKEN_TYPE = "field_link"
_ALGORITHM = "HS256"
TOKEN_MAX_CHARS = 512  # what the wire accepts before decoding (a real token is about 190)
MAX_TASK_RESULTS = 500


@dataclass(frozen=True, slots=True)
class FieldLinkAccess:
    """A verified link: the one call it reaches, and who it acts for (metering and audit only: no roles)."""

    call_id: int
    company_id: int
    link_id: uuid.UUID
    principal: Principal

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.company_id, self.principal.user_id, None, False)


class LinkCodec:
    """Field-link tokens: JWTs (PyJWT, HS256) with ``typ`` ``field_link``, the call (``sub``), the link id
    (``lid``) and the expiry, signed with a key derived from the server secret for this use only."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"cabinet/field-link/v1", hashlib.sha256).digest()

    def encode(self, call_id: int, link_id: uuid.UUID, expires_at: datetime, version: int) -> str:
        claims = {
            "typ": TOKEN_TYPE,
            "sub": str(call_id),
            "lid": link_id.hex,
            "ver": version,
            "exp": int(expires_at.timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm=_ALGORITHM)

    def decode(self, token: str) -> tuple[int, uuid.UUID, datetime, int] | None:
        """The token's call id, link id, expiry and its owner's token version, or None when it is not a link this
        server signed. Expiry is the caller's to check, on the service's clock."""
        if not token or len(token) > TOKEN_MAX_CHARS or not token.isascii():
            return None
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[_ALGORITHM],
                options={"require": ["typ", "sub", "lid", "ver", "exp"], "verify_exp": False},
            )
            if claims["typ"] != TOKEN_TYPE:
                return None
            return (
                int(claims["sub"]),
                uuid.UUID(hex=str(claims["lid"])),
                datetime.fromtimestamp(int(claims["exp"]), UTC),
                int(claims["ver"]),
            )
        except (jwt.PyJWTError, TypeError, ValueError, OverflowError, OSError):
            return None


class FieldLinkService:
    def __init__(
        self, db: Database, *, clock: Clock, secret: bytes, ttl: timedelta, events: FieldEvents | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.events = events or FieldEvents()
        self.ttl = ttl
        self.codec = LinkCodec(secret)
        self.calls = CallRepository()
        self.attachments = AttachmentRepository()
        self.tasks = TaskRepository()

    # --- the contractor ----------------------------------------------------------------------------------
    @transactional
    async def issue(self, principal: Principal, call_id: int) -> str:
        """A new link to the contractor's Committed call; the call's previous link stops working."""
        viewer = require_contractor(principal)
        call = await self.calls.get(viewer, call_id, for_update=True)
        if call is None:
            raise CallNotFound(resource=str(call_id))
        note_target("call", call.number)  # its audit record names the call as people do (not its id)
        if not call_permits(CallStatus(call.status), CallAction.ISSUE_FIELD_LINK):
            raise CallStateConflict(f"a link is given for a Committed call, not a {call.status} one")
        owner = await self.calls.user(call.owner_id)
        if owner is None:  # pragma: no cover - a call keeps its owner (the foreign key)
            raise CallNotFound(resource=str(call_id))
        call.temp_link_id = uuid.uuid4()
        expires_at = self.clock.now() + self.ttl
        return self.codec.encode(call.id, call.temp_link_id, expires_at, owner.token_version)

    # --- the field employee ------------------------------------------------------------------------------
    @read_only
    async def resolve(self, token: str) -> FieldLinkAccess:
        decoded = self.codec.decode(token)
        if decoded is None:
            raise FieldLinkNotFound()
        call_id, link_id, expires_at, version = decoded
        if expires_at <= self.clock.now():
            raise FieldLinkExpired("the link has expired: ask the contractor for a new one")
        call = await self.calls.by_id(call_id)
        if call is None:
            raise FieldLinkNotFound()
        if call.temp_link_id != link_id:
            raise FieldLinkExpired("the link was replaced by a newer one or withdrawn")
        owner = await self.calls.user(call.owner_id)
        if owner is None or not owner.enabled:
            raise FieldLinkExpired("the contractor this link acts for is locked")
        if owner.token_version != version:  # locked (even if unlocked since), new password or roles
            raise FieldLinkExpired("the link was withdrawn: ask the contractor for a new one")
        principal = Principal(
            user_id=owner.id,
            username=owner.username,
            company_id=owner.company_id,
            company_key=owner.company.key,
            roles=(),
            timezone=owner.timezone,
            credential=CredentialKind.FIELD_LINK,
            credential_id=link_id.hex,
            account=owner,  # request-local: the pages read the owner's time zone and currency from it
        )
        return FieldLinkAccess(call.id, call.company_id, link_id, principal)

    @read_only
    async def call(self, access: FieldLinkAccess) -> CallView:
        call = await self.linked_call(access)
        return (await self.calls.views([call], self.clock.now()))[0]

    @read_only
    async def task_result(self, access: FieldLinkAccess, task_id: int) -> TaskView:
        await self.linked_call(access)
        task = await self._task_of_call(access, task_id)
        if task.status != TaskStatus.DONE.value:
            raise TaskResultNotFound(resource=str(task_id))
        found = await self.attachments.of(CallTaskAttachment.task_id, [task.id])
        return TaskView(task, found.get(task.id, []))

    @transactional
    async def submit_report(self, access: FieldLinkAccess, report: FieldReport) -> CallView:
        """The field employee's report, all or nothing (one unit of work): the call Committed -> Done with the
        comment, each listed task to its new status (409 code 7 / code 3 when a move is not allowed), and the
        reported expenses and materials added to the call's cost estimate (opened as a Draft when it has none;
        refused as the estimate's own rules say: an unknown expenditure item, an estimate already sent...)."""
        _check_report(report)
        call = await self.linked_call(access, for_update=True)
        if call_transition(CallStatus(call.status), CallStatus.DONE, Actor.CONTRACTOR) is None:
            raise CallStatusChangeRefused(f"a {call.status} call cannot be reported done")
        now = self.clock.now()
        changed: list[CallTask] = []
        for item in report.tasks:
            task = await self._task_of_call(access, item.task_id)
            await self.tasks.reread(task)  # under the call's lock
            if not task_transition_allowed(TaskStatus(task.status), item.status):
                raise TaskStatusChangeRefused(f"task {task.id} ({task.status}) cannot change to {item.status.value}")
            task.status = item.status.value
            task.edited_at = now
            if item.status is TaskStatus.DONE:
                task.result_at = now
            changed.append(task)
        call.status = CallStatus.DONE.value
        call.finished_at = now
        call.comments = report.comments
        call.edited_at = now
        await record_field_report(call, expenses=report.expenses, materials=report.materials, now=now)
        text = f"The field employee reported call {call.number} done: {report.comments}"
        notify_owner(call, "field_report", text, now)
        await feed.stamp(call.company_id, [*changed, call])
        await self.events.call("status_changed", call, now)
        await self.events.call("field_report_submitted", call, now)
        return (await self.calls.views([call], now))[0]

    # --- shared with the attachment service ---------------------------------------------------------------
    async def linked_call(self, access: FieldLinkAccess, *, for_update: bool = False) -> Call:
        return await linked_call(access, for_update=for_update)

    async def _task_of_call(self, access: FieldLinkAccess, task_id: int) -> CallTask:
        task = await self.tasks.by_id(task_id)
        if task is None or task.call_id != access.call_id:
            raise CallTaskNotFound(resource=str(task_id))
        return task


async def linked_call(access: FieldLinkAccess, *, for_update: bool = False) -> Call:
    """The link's call, as long as the link is still its current one (re-checked in every unit of work)."""
    call = await CallRepository().get(access.viewer, access.call_id, for_update=for_update)
    if call is None:
        raise FieldLinkNotFound()
    if call.temp_link_id != access.link_id:
        raise FieldLinkExpired("the link was replaced by a newer one or withdrawn")
    if for_update:  # a change the field employee makes: its audit record names the call
        note_target("call", call.number)
    return call


def _check_report(report: FieldReport) -> None:
    if not report.comments.strip():
        raise CommentRequired("the report needs a comment")
    if len(report.comments) > TEXT_MAX:
        raise FieldReportInvalid(f"comments: at most {TEXT_MAX} characters")
    if len(report.tasks) > MAX_TASK_RESULTS:
        raise FieldReportInvalid(f"callTaskResults: at most {MAX_TASK_RESULTS} items")
    ids = [item.task_id for item in report.tasks]
    if len(ids) != len(set(ids)):
        raise FieldReportInvalid("callTaskResults: each task at most once")
