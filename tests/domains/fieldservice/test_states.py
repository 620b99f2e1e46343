"""The state tables themselves (states.py), cell by cell: what the wire tests in tests/apis/contractor/test_states.py
drive through HTTP is exactly this table, and nothing else is allowed."""

from __future__ import annotations

import itertools

from cabinet.domains.fieldservice.states import (
    Actor,
    CallAction,
    CallStatus,
    TaskStatus,
    call_permits,
    call_transition,
    task_transition_allowed,
)

S = CallStatus


def test_call_transitions_cell_by_cell() -> None:
    allowed = {
        (S.NEW, S.COMMITTED, Actor.CONTRACTOR): False,
        (S.COMMITTED, S.DONE, Actor.CONTRACTOR): False,
        (S.COMMITTED, S.NEW, Actor.CONTRACTOR): True,  # needs a comment
        (S.DONE, S.CLOSED, Actor.EXTERNAL): False,
    }
    for current, target, actor in itertools.product(S, S, Actor):
        transition = call_transition(current, target, actor)
        expected = allowed.get((current, target, actor))
        if expected is None:
            assert transition is None, (current, target, actor)
        else:
            assert transition is not None and transition.needs_comment is expected, (current, target, actor)


def test_what_each_status_permits() -> None:
    table = {
        CallAction.MESSAGE: {S.NEW, S.COMMITTED, S.DONE},
        CallAction.RAISE_JEOPARDY: {S.NEW, S.COMMITTED},
        CallAction.PATCH_DEADLINES: {S.NEW, S.COMMITTED},
        CallAction.CHANGE_TASK: {S.COMMITTED},
        CallAction.ISSUE_FIELD_LINK: {S.COMMITTED},
        CallAction.ATTACH: {S.COMMITTED, S.DONE},
        CallAction.FIELD_ATTACH: {S.DONE},
        CallAction.CREATE_COST: {S.COMMITTED, S.DONE},
        CallAction.EDIT_COST: {S.COMMITTED, S.DONE, S.CLOSED},
        CallAction.FIELD_PROOF: {S.COMMITTED, S.DONE},
    }
    for action, status in itertools.product(CallAction, S):
        assert call_permits(status, action) is (status in table[action]), (action, status)


def test_task_transitions_cell_by_cell() -> None:
    allowed = {(TaskStatus.NEW, TaskStatus.DONE), (TaskStatus.NEW, TaskStatus.CANCELED)}
    for current, target in itertools.product(TaskStatus, TaskStatus):
        assert task_transition_allowed(current, target) is ((current, target) in allowed), (current, target)
