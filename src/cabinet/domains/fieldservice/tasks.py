"""Tasks of calls: the contractor's list, a task and its result, status changes, the task feed. Each public
method is one unit of work (calls.py has the shared lookups)."""

from __future__ import annotations

from cabinet.core.db.uow import read_only, transactional
from cabinet.core.principal import Principal
from cabinet.core.query import Query
from cabinet.domains.fieldservice import feed
from cabinet.domains.fieldservice.calls import CallWork
from cabinet.domains.fieldservice.errors import TaskResultNotFound, TaskStatusChangeRefused
from cabinet.domains.fieldservice.policies import require_contractor, viewer_of
from cabinet.domains.fieldservice.schemas import TaskView
from cabinet.domains.fieldservice.states import (
    CallAction,
    CallStatus,
    TaskStatus,
    call_permits,
    task_transition_allowed,
)
from cabinet.models import CallTask


class TaskService(CallWork):
    """Tasks: the contractor works them through (states.py) while the call is accepted."""

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
        await self.events.call("updated", call, now)
        return task

    @read_only
    async def tasks_changed(self, principal: Principal, cursor: int, limit: int) -> list[TaskView]:
        return await self._task_views(await self.tasks.changed_since(viewer_of(principal), cursor, limit))

    @read_only
    async def search_tasks(self, principal: Principal, query: Query) -> tuple[list[CallTask], int]:
        return await self.search.tasks(viewer_of(principal), query)
