"""Calls, tasks, messages, jeopardies and the change feeds: the contractor area's work. Each public method is
one unit of work; every writing one stamps what it changed with change numbers as its last step (feed.py).

Who may do it: the API checks the caller kind (external system vs contractor user, policies.py); the rules
of the call's status are the tables in states.py; a call the viewer may not see is *not found*.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cabinet.core.clock import Clock
from cabinet.core.db.uow import Database, read_only, transactional
from cabinet.core.errors import FieldIssue
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
    JeopardyRefused,
    SettingsInvalid,
    TaskResultNotFound,
    TaskStatusChangeRefused,
    UnjeopardyRefused,
)
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
from cabinet.domains.fieldservice.schemas import (
    DEFAULT_COST_DEADLINE_DAY,
    TEXT_MAX,
    CallCreate,
    CallListQuery,
    CallView,
    CreatedCall,
    TaskView,
)
from cabinet.domains.fieldservice.search import CallHit, FieldServiceSearch
from cabinet.domains.fieldservice.states import (
    Actor,
    CallAction,
    CallStatus,
    TaskStatus,
    call_permits,
    call_transition,
    task_transition_allowed,
)
from cabinet.models import (
    Call,
    CallJeopardy,
    CallMessage,
    CallTask,
    CallTaskAttachment,
    ContractorSettings,
    ExpenditureItem,
    Notification,
)

MAX_TASKS_PER_CALL = 500
MAX_ITEMS_PER_CALL = 500


class CallService:
    def __init__(self, db: Database, *, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self.calls = CallRepository()
        self.tasks = TaskRepository()
        self.messages = MessageRepository()
        self.jeopardies = JeopardyRepository()
        self.attachments = AttachmentRepository()
        self.settings = SettingsRepository()
        self.search = FieldServiceSearch()

    # --- Data API queries (filtered, sorted and paged in SQL, scoped like the lists above) ------------------
    @read_only
    async def search_calls(self, principal: Principal, query: Query) -> tuple[list[CallHit], int]:
        return await self.search.calls(viewer_of(principal), query, self.clock.now())

    @read_only
    async def search_tasks(self, principal: Principal, query: Query) -> tuple[list[CallTask], int]:
        return await self.search.tasks(viewer_of(principal), query)

    @read_only
    async def search_messages(self, principal: Principal, query: Query) -> tuple[list[CallMessage], int]:
        return await self.search.messages(viewer_of(principal), query)

    @read_only
    async def search_jeopardies(self, principal: Principal, query: Query) -> tuple[list[CallJeopardy], int]:
        return await self.search.jeopardies(viewer_of(principal), query)

    # --- calls -------------------------------------------------------------------------------------------
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
        return CreatedCall(call, tasks)

    @read_only
    async def get_call(self, principal: Principal, call_id: int) -> CallView:
        viewer = viewer_of(principal)
        call = await self._call(viewer, call_id)
        return (await self.calls.views([call], self.clock.now()))[0]

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

    @read_only
    async def list_calls(self, principal: Principal, query: CallListQuery) -> tuple[list[CallView], int]:
        viewer = viewer_of(principal)
        now = self.clock.now()
        calls, total = await self.calls.list(viewer, query, now)
        return await self.calls.views(calls, now), total

    @read_only
    async def calls_changed(self, principal: Principal, cursor: int, limit: int) -> list[CallView]:
        viewer = viewer_of(principal)
        now = self.clock.now()
        return await self.calls.views(await self.calls.changed_since(viewer, cursor, limit), now)

    # --- tasks -------------------------------------------------------------------------------------------
    @read_only
    async def list_tasks(self, principal: Principal, after_id: int, limit: int) -> list[TaskView]:
        return await self._task_views(await self.tasks.page(viewer_of(principal), after_id, limit))

    @read_only
    async def get_task(self, principal: Principal, task_id: int) -> TaskView:
        return (await self._task_views([await self._task(viewer_of(principal), task_id)]))[0]

    @read_only
    async def task_result(self, principal: Principal, task_id: int) -> TaskView:
        task = await self._task(viewer_of(principal), task_id)
        if task.status != TaskStatus.DONE.value:
            raise TaskResultNotFound(resource=str(task_id))
        return (await self._task_views([task]))[0]

    @transactional
    async def change_task_status(self, principal: Principal, task_id: int, target: TaskStatus) -> CallTask:
        viewer = require_contractor(principal)
        task = await self._task(viewer, task_id)
        call = await self._call(viewer, task.call_id, for_update=True)
        await self.tasks.reread(task)  # under the call's lock
        if not call_permits(CallStatus(call.status), CallAction.CHANGE_TASK):
            raise TaskStatusChangeRefused(f"tasks of a {call.status} call cannot change")
        if not task_transition_allowed(TaskStatus(task.status), target):
            raise TaskStatusChangeRefused(f"a {task.status} task cannot change to {target.value}")
        now = self.clock.now()
        task.status = target.value
        task.edited_at = now
        if target is TaskStatus.DONE:
            task.result_at = now
        call.edited_at = now
        await feed.stamp(viewer.company_id, [task, call])  # the call embeds its tasks: it changed too
        return task

    @read_only
    async def tasks_changed(self, principal: Principal, cursor: int, limit: int) -> list[TaskView]:
        return await self._task_views(await self.tasks.changed_since(viewer_of(principal), cursor, limit))

    async def _task_views(self, tasks: list[Any]) -> list[TaskView]:
        attachments = await self.attachments.of(CallTaskAttachment.task_id, [t.id for t in tasks])
        return [TaskView(t, attachments.get(t.id, [])) for t in tasks]

    # --- messages ----------------------------------------------------------------------------------------
    @transactional
    async def post_message(self, principal: Principal, call_id: int, text: str) -> CallMessage:
        viewer = require_contractor(principal)
        return await self._add_message(viewer, call_id, text, self.clock.now(), author=principal)

    @transactional
    async def post_dispatcher_message(
        self, principal: Principal, call_id: int, text: str, date: datetime
    ) -> CallMessage:
        viewer = require_external(principal)
        return await self._add_message(viewer, call_id, text, date, author=None)

    async def _add_message(
        self, viewer: Viewer, call_id: int, text: str, date: datetime, *, author: Principal | None
    ) -> CallMessage:
        _check_text(text, "message")
        call = await self._call(viewer, call_id, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.MESSAGE):
            raise CallStateConflict("the call is Closed")
        message = CallMessage(
            call_id=call.id,
            company_id=call.company_id,
            owner_id=author.user_id if author else None,
            owner_name=author.username if author else None,
            date=date,
            message=text,
            change_no=0,
        )
        self.messages.add(message)
        if author is None:
            self._notify(call, "dispatcher_message", f"New message on call {call.number}: {text}"[:2000])
        await feed.stamp(viewer.company_id, [message])
        return message

    @read_only
    async def messages_changed(self, principal: Principal, cursor: int, limit: int) -> list[CallMessage]:
        return await self.messages.changed_since(viewer_of(principal), cursor, limit)

    # --- jeopardies --------------------------------------------------------------------------------------
    @transactional
    async def raise_jeopardy(self, principal: Principal, call_id: int, comment: str) -> CallJeopardy:
        viewer = require_contractor(principal)
        _check_text(comment, "comment")
        call = await self._call(viewer, call_id, for_update=True)
        if not call_permits(CallStatus(call.status), CallAction.RAISE_JEOPARDY) or call.jeopardy_open:
            raise JeopardyRefused()
        now = self.clock.now()
        jeopardy = CallJeopardy(
            call_id=call.id,
            company_id=call.company_id,
            raised_by=principal.user_id,
            comment=comment,
            date=now,
            change_no=0,
        )
        self.jeopardies.add(jeopardy)
        call.jeopardy_open = True
        call.edited_at = now
        await feed.stamp(viewer.company_id, [jeopardy, call])
        return jeopardy

    @transactional
    async def answer_jeopardy(self, principal: Principal, call_id: int, answer: str) -> CallJeopardy:
        viewer = require_external(principal)
        _check_text(answer, "answerComment")
        call = await self._call(viewer, call_id, for_update=True)
        jeopardy = await self.jeopardies.open_for(call.id)
        if jeopardy is None:
            raise UnjeopardyRefused()
        now = self.clock.now()
        jeopardy.answer_comment = answer
        jeopardy.answer_date = now
        call.jeopardy_open = False
        call.edited_at = now
        self._notify(call, "jeopardy_answered", f"Your jeopardy on call {call.number} was answered: {answer}"[:2000])
        await feed.stamp(viewer.company_id, [jeopardy, call])
        return jeopardy

    @read_only
    async def jeopardies_changed(self, principal: Principal, cursor: int, limit: int) -> list[CallJeopardy]:
        return await self.jeopardies.changed_since(viewer_of(principal), cursor, limit)

    # --- settings ----------------------------------------------------------------------------------------
    @transactional
    async def set_cost_deadline_day(self, principal: Principal, day: int) -> int:
        viewer = require_external(principal)
        if not 1 <= day <= 28:
            raise SettingsInvalid(issues=[FieldIssue("callCostDeadlineDayOfMonth", "must be 1..28")])
        row = await self.settings.get(viewer.company_id, for_update=True)
        if row is None:
            self.settings.add(
                ContractorSettings(
                    company_id=viewer.company_id, call_cost_deadline_day_of_month=day, edited_at=self.clock.now()
                )
            )
        else:
            row.call_cost_deadline_day_of_month = day
            row.edited_at = self.clock.now()
        return day

    @read_only
    async def cost_deadline_day(self, company_id: int) -> int:
        row = await self.settings.get(company_id)
        return row.call_cost_deadline_day_of_month if row else DEFAULT_COST_DEADLINE_DAY

    # --- helpers -----------------------------------------------------------------------------------------
    async def _call(self, viewer: Viewer, call_id: int, *, for_update: bool = False) -> Call:
        call = await self.calls.get(viewer, call_id, for_update=for_update)
        if call is None:
            raise CallNotFound(resource=str(call_id))
        return call

    async def _task(self, viewer: Viewer, task_id: int) -> CallTask:
        task = await self.tasks.get(viewer, task_id)
        if task is None:
            raise CallTaskNotFound(resource=str(task_id))
        return task

    def _notify(self, call: Call, kind: str, text: str) -> Notification:
        return notify_owner(call, kind, text, self.clock.now())


def _check_text(text: str, name: str) -> None:
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
