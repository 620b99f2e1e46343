"""Tasks and their attachments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, select

from cabinet.core.db.uow import current_session
from cabinet.domains.fieldservice.policies import Viewer
from cabinet.domains.fieldservice.repository.scope import plain_rows, whole_rows, within_call_scope
from cabinet.models import CallTask, CallTaskAttachment


class TaskRepository:
    def _scoped(self, viewer: Viewer, *, rows: bool = False) -> Select[Any]:
        return within_call_scope(whole_rows(CallTask) if rows else select(CallTask), CallTask, viewer)

    async def by_id(self, task_id: int) -> CallTask | None:
        """Any company's task (the caller checks it belongs to the call it was reached through)."""
        return await current_session().get(CallTask, task_id)

    async def reread(self, task: CallTask) -> None:
        """Load ``task`` again (after its call was locked: what a concurrent writer committed)."""
        await current_session().refresh(task)

    async def get(self, viewer: Viewer, task_id: int) -> CallTask | None:
        task: CallTask | None = await current_session().scalar(self._scoped(viewer).where(CallTask.id == task_id))
        return task

    async def page(self, viewer: Viewer, after_id: int, limit: int) -> list[Any]:
        stmt = self._scoped(viewer, rows=True).where(CallTask.id > after_id).order_by(CallTask.id).limit(limit)
        return plain_rows(CallTask, await current_session().execute(stmt))

    async def changed_since(self, viewer: Viewer, cursor: int, limit: int) -> list[Any]:
        stmt = self._scoped(viewer, rows=True).where(CallTask.change_no > cursor)
        return plain_rows(CallTask, await current_session().execute(stmt.order_by(CallTask.change_no).limit(limit)))


class AttachmentRepository:
    def add(self, row: CallTaskAttachment) -> None:
        current_session().add(row)

    async def of(self, column: Any, ids: Sequence[int]) -> dict[int, list[Any]]:
        """Attachments (plain rows, oldest first) by task id, of the given calls or tasks (``column``)."""
        found: dict[int, list[Any]] = defaultdict(list)
        if not ids:
            return found
        stmt = whole_rows(CallTaskAttachment).where(column.in_(list(ids))).order_by(CallTaskAttachment.id)
        for row in plain_rows(CallTaskAttachment, await current_session().execute(stmt)):
            found[row.task_id].append(row)
        return found

    async def get(self, task_id: int, attachment_id: int) -> CallTaskAttachment | None:
        stmt = select(CallTaskAttachment).where(
            CallTaskAttachment.id == attachment_id, CallTaskAttachment.task_id == task_id
        )
        return await current_session().scalar(stmt)
