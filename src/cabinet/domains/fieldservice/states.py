"""The call and task state machines of the contractor area (who may move what from which status), written once.

Call: ``New -> Committed -> Done -> Closed``. The contractor accepts (New -> Committed), finishes
(Committed -> Done) and may hand an accepted call back (Committed -> New) only with a comment. Only the
external system closes, and only a Done call. Everything else is refused (409).

What each call status permits is the second table: messages until Closed, a jeopardy while the work is ahead
(New, Committed), deadline changes until the work is done, task changes only on an accepted call. A cost
estimate can be opened once the call is accepted (Committed, or Done: the field employee reports costs when
finishing), and its Draft edited and sent on any accepted call, Closed included, until the deadline (costs.py).
A field employee's link is given only for an accepted call (the field employee then reports it Done through the
link, the same Committed -> Done move); the contractor attaches files to a Done task of a Committed or Done call,
the field employee only once its report made the call Done.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class CallStatus(enum.StrEnum):
    NEW = "New"
    COMMITTED = "Committed"
    DONE = "Done"
    CLOSED = "Closed"


class TaskStatus(enum.StrEnum):
    NEW = "New"
    DONE = "Done"
    CANCELED = "Canceled"


class CostStatus(enum.StrEnum):
    """A cost estimate: the contractor edits a Draft, sends it (InProgress), the external system decides every
    line (Processed)."""

    DRAFT = "Draft"
    IN_PROGRESS = "InProgress"
    PROCESSED = "Processed"


class LineStatus(enum.StrEnum):
    """An expense or material line: New until the external system decides it."""

    NEW = "New"
    APPROVED = "Approved"
    APPROVED_WITH_CORRECTION = "ApprovedWithCorrection"
    REJECTED = "Rejected"


LINE_DECISIONS = frozenset({LineStatus.APPROVED, LineStatus.APPROVED_WITH_CORRECTION, LineStatus.REJECTED})


class MaterialOwner(enum.StrEnum):
    """Whose spare part it was (the seed's "Принадлежность ЗИП")."""

    UNKNOWN = "Unknown"
    CONTRACTOR = "Contractor"
    CONTRACT_HOLDERS = "ContractHolders"


class Actor(enum.StrEnum):
    CONTRACTOR = "contractor"  # POST /call/{id}/status
    EXTERNAL = "external"  # POST /call/{id}/close


@dataclass(frozen=True, slots=True)
class Transition:
    actor: Actor
    needs_comment: bool = False


S = CallStatus
CALL_TRANSITIONS: dict[tuple[CallStatus, CallStatus], Transition] = {
    (S.NEW, S.COMMITTED): Transition(Actor.CONTRACTOR),
    (S.COMMITTED, S.DONE): Transition(Actor.CONTRACTOR),
    (S.COMMITTED, S.NEW): Transition(Actor.CONTRACTOR, needs_comment=True),
    (S.DONE, S.CLOSED): Transition(Actor.EXTERNAL),
}


class CallAction(enum.StrEnum):
    MESSAGE = "message"  # contractor and dispatcher messages
    RAISE_JEOPARDY = "raise_jeopardy"
    PATCH_DEADLINES = "patch_deadlines"
    CHANGE_TASK = "change_task"
    ISSUE_FIELD_LINK = "issue_field_link"  # POST /call/{id}/templink
    ATTACH = "attach"  # the contractor: POST /calltask/{id}/attachment
    FIELD_ATTACH = "field_attach"  # the field employee: POST /shared/callTask/{id}/attachment
    CREATE_COST = "create_cost"  # the contractor (or its field employee) opens the call's cost estimate
    EDIT_COST = "edit_cost"  # edit and send the Draft (also bounded by the deadline, costs.py)
    FIELD_PROOF = "field_proof"  # the field employee's visits and the customer's signature (/shared/call/...)


CALL_PERMITS: dict[CallAction, frozenset[CallStatus]] = {
    CallAction.MESSAGE: frozenset({S.NEW, S.COMMITTED, S.DONE}),
    CallAction.RAISE_JEOPARDY: frozenset({S.NEW, S.COMMITTED}),
    CallAction.PATCH_DEADLINES: frozenset({S.NEW, S.COMMITTED}),
    CallAction.CHANGE_TASK: frozenset({S.COMMITTED}),
    CallAction.ISSUE_FIELD_LINK: frozenset({S.COMMITTED}),
    CallAction.ATTACH: frozenset({S.COMMITTED, S.DONE}),
    CallAction.FIELD_ATTACH: frozenset({S.DONE}),
    CallAction.CREATE_COST: frozenset({S.COMMITTED, S.DONE}),
    CallAction.EDIT_COST: frozenset({S.COMMITTED, S.DONE, S.CLOSED}),
    CallAction.FIELD_PROOF: frozenset({S.COMMITTED, S.DONE}),
}

TASK_TRANSITIONS: frozenset[tuple[TaskStatus, TaskStatus]] = frozenset(
    {(TaskStatus.NEW, TaskStatus.DONE), (TaskStatus.NEW, TaskStatus.CANCELED)}
)


def call_transition(current: CallStatus, target: CallStatus, actor: Actor) -> Transition | None:
    """The allowed transition, or None when this actor may not move the call from ``current`` to ``target``."""
    transition = CALL_TRANSITIONS.get((current, target))
    if transition is None or transition.actor is not actor:
        return None
    return transition


def call_permits(status: CallStatus, action: CallAction) -> bool:
    return status in CALL_PERMITS[action]


def task_transition_allowed(current: TaskStatus, target: TaskStatus) -> bool:
    return (current, target) in TASK_TRANSITIONS
