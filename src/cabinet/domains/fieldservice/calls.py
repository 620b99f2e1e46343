"""Calls: created by the external system, accepted, finished or handed back by the contractor, closed; their list and
feed. ``CallWork`` is what the services of the contractor's work share (this one, and tasks.py, messages.py,
jeopardies.py, company_settings.py, split by what changes together): the repositories and the lookups that make a
call or task the viewer may not see *not found*. Each public method is one unit of work; every writing one stamps
what it changed with change numbers as its last step (feed.py).

Who may do it: the API checks the caller kind (external system vs contractor user, policies.py); the rules
of the call's status are the tables in states.py.
"""

from __future__ import annotations

from typing import Any

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue
from cabinet.core.metering import note_target
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.core.roles import Permission, has_permission
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.errors import (
    CallInvalid,
    CallNotFound,
    CallOwnerNotFound,
    CallStateConflict,
    CallStatusChangeRefused,
    CallTaskNotFound,
    CommentRequired,
)
from cabinet.domains.fieldservice.events import FieldEvents
from cabinet.domains.fieldservice.notifications import notify_owner
from cabinet.domains.fieldservice.policies import Viewer, require_contractor, require_external, viewer_of
from cabinet.domains.fieldservice.repository import (
    AttachmentRepository,
    CallRepository,
    JeopardyRepository,
    MessageRepository,
    SettingsRepository,
    TaskRepository,
)
from cabinet.domains.fieldservice.repository.search import CallHit, FieldServiceSearch
from cabinet.domains.fieldservice.schemas import TEXT_MAX, CallCreate, CallListQuery, CallView, CreatedCall, TaskView
from cabinet.domains.fieldservice.states import Actor, CallAction, CallStatus, TaskStatus, call_permits, call_transition
from cabinet.models import Call, CallTask, CallTaskAttachment, ExpenditureItem, Notification

MAX_TASKS_PER_CALL = 500
MAX_ITEMS_PER_CALL = 500


class CallWork:
    """What the contractor area's services share: the repositories and the call/task lookups that make a call
    the viewer may not see *not found*."""

    def __init__(self, db: Database, *, clock: Clock, events: FieldEvents | None = None) -> None:
        self.db = db
        self.clock = clock
        self.events = events or FieldEvents()
        self.calls = CallRepository()
        self.tasks = TaskRepository()
        self.messages = MessageRepository()
        self.jeopardies = JeopardyRepository()
        self.attachments = AttachmentRepository()
        self.settings = SettingsRepository()
        self.search = FieldServiceSearch()

    # --- helpers -----------------------------------------------------------------------------------------
    async def _call(self, viewer: Viewer, call_id: int, *, for_update: bool = False) -> Call:
        call = await self.calls.get(viewer, call_id, for_update=for_update)
        if call is None:
            raise CallNotFound(resource=str(call_id))
        if for_update:  # a change of the call: its audit record names it as people do
            note_target("call", call.number)
        return call

    async def _task(self, viewer: Viewer, task_id: int) -> CallTask:
        task = await self.tasks.get(viewer, task_id)
        if task is None:
            raise CallTaskNotFound(resource=str(task_id))
        return task

    def _notify(self, call: Call, kind: str, text: str) -> Notification:
        return notify_owner(call, kind, text, self.clock.now())

    async def _task_views(self, tasks: list[Any]) -> list[TaskView]:
        attachments = await self.attachments.of(CallTaskAttachment.task_id, [t.id for t in tasks])
        return [TaskView(t, attachments.get(t.id, [])) for t in tasks]


class CallService(CallWork):
    """Calls: created by the external system, accepted, finished or handed back by the contractor, closed."""

    @transactional
    async def create_call(self, principal: Principal, command: CallCreate) -> CreatedCall:
        viewer = require_external(principal)
        _check_create(command)
        owner = await self.calls.owner_in_company(viewer.company_id, command.owner_id)
        if owner is None or not owner.enabled or not has_permission(owner.roles, Permission.CONTRACTOR_WORK):
            raise CallOwnerNotFound(resource=str(command.owner_id))
        now = self.clock.now()
        call = Call(
            company_id=viewer.company_id,
            owner_id=owner.id,
            number="",
            status=CallStatus.NEW.value,
            client_name=command.client_name,
            comments=None,
            contact_person_email=command.contact_person_email,
            contact_person_name=command.contact_person_name,
            contact_person_phone=command.contact_person_phone,
            created=command.created,
            critical=command.critical,
            description_html=command.description_html,
            description_for_field_employee=command.description_for_field_employee,
            service_object_address=command.service_object_address,
            service_object_latitude=command.service_object_latitude,
            service_object_longitude=command.service_object_longitude,
            service_object_name=command.service_object_name,
            service_object_type=command.service_object_type,
            ttf=command.ttf,
            tto=command.tto,
            jeopardy_open=False,
            change_no=0,
            created_at=now,
            edited_at=now,
        )
        await self.calls.add(call)
        tasks = [
            CallTask(
                call_id=call.id,
                company_id=viewer.company_id,
                title=title,
                status=TaskStatus.NEW.value,
                change_no=0,
                created_at=now,
                edited_at=now,
            )
            for title in command.tasks
        ]
        self.calls.add_children(tasks)
        self.calls.add_children(
            ExpenditureItem(call_id=call.id, company_id=viewer.company_id, name=name)
            for name in command.expenditure_items
        )
        assigned = self._notify(call, "call_assigned", "")
        await feed.stamp(viewer.company_id, [call, *tasks], new_calls=[call])
        assigned.text = f"Call {call.number} was assigned to you: {command.client_name}"[:2000]
        await self.events.call("created", call, now)
        return CreatedCall(call, tasks)

    @read_only
    async def get_call(self, principal: Principal, call_id: int) -> CallView:
        view = await self.calls.view(viewer_of(principal), call_id, self.clock.now())
        if view is None:
            raise CallNotFound(resource=str(call_id))
        return view

    @transactional
    async def patch_call(self, principal: Principal, call_id: int, *, ttf: Any, tto: Any, fields: set[str]) -> int:
        """Change the SLA deadlines (only the fields sent); returns the call id."""
        viewer = require_external(principal)
        call = await self._call(viewer, call_id, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.PATCH_DEADLINES):
            raise CallStateConflict(f"the deadlines of a {call.status} call cannot change")
        if "ttf" in fields:
            call.ttf = ttf
        if "tto" in fields:
            call.tto = tto
        call.edited_at = self.clock.now()
        await feed.stamp(viewer.company_id, [call])
        await self.events.call("updated", call, call.edited_at)
        return call.id

    @transactional
    async def change_status(self, principal: Principal, call_id: int, target: CallStatus, comments: str | None) -> Call:
        """The contractor moves its call (states.py): accept, finish, or hand back with a comment."""
        viewer = require_contractor(principal)
        call = await self._call(viewer, call_id, for_update=True)
        transition = call_transition(CallStatus(call.status), target, Actor.CONTRACTOR)
        if transition is None:
            raise CallStatusChangeRefused(f"a {call.status} call cannot change to {target.value}")
        if transition.needs_comment and not (comments or "").strip():
            raise CommentRequired()
        now = self.clock.now()
        if target is CallStatus.COMMITTED:
            call.commited_at = now
        elif target is CallStatus.DONE:
            call.finished_at = now
        elif target is CallStatus.NEW:
            call.commited_at = None
            call.temp_link_id = None  # handed back: the field employee's link dies with the acceptance
        if comments is not None and comments.strip():
            call.comments = comments
        call.status = target.value
        call.edited_at = now
        await feed.stamp(viewer.company_id, [call])
        await self.events.call("status_changed", call, now)
        return call

    @transactional
    async def close_call(self, principal: Principal, call_id: int) -> None:
        viewer = require_external(principal)
        call = await self._call(viewer, call_id, for_update=True)
        if call_transition(CallStatus(call.status), CallStatus.CLOSED, Actor.EXTERNAL) is None:
            raise CallStatusChangeRefused(f"a {call.status} call cannot be closed")
        call.status = CallStatus.CLOSED.value
        call.temp_link_id = None  # the work is over: the field employee's link dies
        call.edited_at = self.clock.now()
        self._notify(call, "call_closed", f"Call {call.number} was closed")
        await feed.stamp(viewer.company_id, [call])
        await self.events.call("status_changed", call, call.edited_at)

    @read_only
    async def list_calls(self, principal: Principal, query: CallListQuery) -> tuple[list[CallView], int]:
        viewer = viewer_of(principal)
        now = self.clock.now()
        calls, total = await self.calls.list(viewer, query, now)
        return await self.calls.listed_views(calls, now), total

    @read_only
    async def calls_changed(self, principal: Principal, cursor: int, limit: int) -> list[CallView]:
        viewer = viewer_of(principal)
        now = self.clock.now()
        return await self.calls.views(await self.calls.changed_since(viewer, cursor, limit), now)

    @read_only
    async def search_calls(self, principal: Principal, query: Query) -> tuple[list[CallHit], int]:
        return await self.search.calls(viewer_of(principal), query, self.clock.now())


def check_text(text: str, name: str) -> None:
    if not text.strip() or len(text) > TEXT_MAX:
        raise CallInvalid(
            f"{name} must be 1..{TEXT_MAX} characters, not blank", issues=[FieldIssue(name, f"1..{TEXT_MAX}")]
        )


def _check_create(command: CallCreate) -> None:
    issues: list[FieldIssue] = []
    if len(command.tasks) > MAX_TASKS_PER_CALL:
        issues.append(FieldIssue("tasks", f"at most {MAX_TASKS_PER_CALL} tasks"))
    if len(command.expenditure_items) > MAX_ITEMS_PER_CALL:
        issues.append(FieldIssue("availableExpenditureItems", f"at most {MAX_ITEMS_PER_CALL} items"))
    if not -90 <= command.service_object_latitude <= 90:
        issues.append(FieldIssue("serviceObjectLatitude", "must be -90..90"))
    if not -180 <= command.service_object_longitude <= 180:
        issues.append(FieldIssue("serviceObjectLongitude", "must be -180..180"))
    if issues:
        raise CallInvalid("; ".join(i.message for i in issues), issues=issues)
