"""The contractor objects (issue 7): get.calls, get.call_tasks, get.call_messages, get.call_jeopardies,
get.call_costs, get.notifications and create.call_messages, with the contractor API's rights and scope.

The external system (BOT) and a COMPANYOWNER or CREWMANAGER see every call of their company; a USER only the
calls it owns (with their tasks, messages and jeopardies); another company's never. OVERLORD holds both the
external system's and a contractor's rights (as in the contractor API, its own company); ADMIN, SUPPORT and
PARTNER (without user_id) have no contractor rights: ``forbidden``. A call the caller may not see is not found.

``get.call_costs`` rows are estimates with their lines nested; quantities and prices are JSON numbers (bounded so
that they are exact), money totals exact decimal strings.
"""

from __future__ import annotations

from cabinet.apis.data.errors import RpcError
from cabinet.apis.data.params import Kind, Param
from cabinet.apis.data.registry import (
    ID_RESULT,
    FieldSpec,
    Method,
    Result,
    Rights,
    RpcCall,
    common_params,
    get_method,
    register,
)
from cabinet.core.metering import ProcessType, set_result_elements
from cabinet.core.query import FieldType as T
from cabinet.core.roles import Permission
from cabinet.domains.fieldservice.errors import CallNotFound
from cabinet.domains.fieldservice.repository.search import (
    CALL_FIELDS,
    COST_CATALOG,
    JEOPARDY_CATALOG,
    MESSAGE_CATALOG,
    NOTIFICATION_CATALOG,
    TASK_CATALOG,
)
from cabinet.domains.fieldservice.schemas import CostView, line_total

CALL_READER = Rights(
    "The external system (BOT) and COMPANYOWNER, CREWMANAGER: every call of their company; USER: the calls it "
    "owns; as the contractor API (OVERLORD: its own company; not ADMIN, SUPPORT).",
    lambda p: p.can(Permission.DATA_API) and (p.can(Permission.EXTERNAL_SYSTEM) or p.can(Permission.CONTRACTOR_WORK)),
)
CONTRACTOR = Rights(
    "Contractor users (USER: its own calls; COMPANYOWNER, CREWMANAGER: their company's); not the external system.",
    lambda p: p.can(Permission.DATA_API) and p.can(Permission.CONTRACTOR_WORK),
)


def _call(
    name: str, kind: T, description: str, attr: str | None = None, *, query: bool = True, default: bool = True
) -> FieldSpec:
    """A field of get.calls read from the call (``attr``: its model attribute when it differs); ``query``:
    filterable and sortable."""
    return FieldSpec(name, kind, description, query, query, default, path=f"call.{attr or name}")


CALL_FIELD_SPECS = (
    _call("id", T.INTEGER, "Call id."),
    _call("number", T.STRING, "Call number (unique in the company)."),
    _call("status", T.ENUM, "New, Committed, Done or Closed."),
    _call("critical", T.BOOLEAN, "Critical call."),
    FieldSpec(
        "is_expired",
        T.BOOLEAN,
        "A deadline was missed: tto before acceptance, or ttf before completion (computed now).",
        path="is_expired",
    ),
    _call("has_jeopardy", T.BOOLEAN, "A jeopardy is open (unanswered).", "jeopardy_open"),
    _call("owner_id", T.INTEGER, "The contractor user who owns the call."),
    _call("client_name", T.STRING, "Client."),
    _call("service_object_name", T.STRING, "Service object."),
    _call("service_object_type", T.STRING, "Its type."),
    _call("service_object_address", T.STRING, "Its address."),
    _call("service_object_latitude", T.NUMBER, "Latitude.", query=False),
    _call("service_object_longitude", T.NUMBER, "Longitude.", query=False),
    _call("contact_person_name", T.STRING, "Contact.", query=False),
    _call("contact_person_phone", T.STRING, "Contact's phone.", query=False),
    _call("contact_person_email", T.STRING, "Contact's e-mail.", query=False),
    _call("description", T.STRING, "The work, for the field employee.", "description_for_field_employee", query=False),
    _call("description_html", T.STRING, "The work, as HTML (not returned by default).", query=False, default=False),
    _call("comments", T.STRING, "The contractor's comment.", query=False),
    _call("creation_date", T.DATETIME, "Created (as the external system dated it).", "created"),
    _call("tto", T.DATETIME, "Arrival (acceptance) deadline."),
    _call("ttf", T.DATETIME, "Fix (completion) deadline."),
    _call("commit_date", T.DATETIME, "Accepted.", "commited_at"),
    _call("finish_date", T.DATETIME, "Done.", "finished_at"),
    _call("edit_date", T.DATETIME, "Last changed.", "edited_at"),
)
TASK_FIELDS = (
    FieldSpec("id", T.INTEGER, "Task id."),
    FieldSpec("call_id", T.INTEGER, "Its call."),
    FieldSpec("title", T.STRING, "Title."),
    FieldSpec("status", T.ENUM, "New, Done or Canceled."),
    FieldSpec("result_date", T.DATETIME, "Done at.", read=lambda t: t.result_at),
    FieldSpec("creation_date", T.DATETIME, "Created.", read=lambda t: t.created_at),
    FieldSpec("edit_date", T.DATETIME, "Last changed.", read=lambda t: t.edited_at),
)
MESSAGE_FIELDS = (
    FieldSpec("id", T.INTEGER, "Message id."),
    FieldSpec("call_id", T.INTEGER, "Its call."),
    FieldSpec(
        "author_id", T.INTEGER, "The contractor user who wrote it (null: the dispatcher).", read=lambda m: m.owner_id
    ),
    FieldSpec("author_name", T.STRING, "Its login (null: the dispatcher).", read=lambda m: m.owner_name),
    FieldSpec("is_dispatcher", T.BOOLEAN, "Written by the dispatcher.", read=lambda m: m.owner_id is None),
    FieldSpec("message", T.STRING, "Text."),
    FieldSpec("date", T.DATETIME, "Written."),
)
JEOPARDY_FIELDS = (
    FieldSpec("id", T.INTEGER, "Jeopardy id."),
    FieldSpec("call_id", T.INTEGER, "Its call."),
    FieldSpec("author_id", T.INTEGER, "The contractor user who raised it.", read=lambda j: j.raised_by),
    FieldSpec("comment", T.STRING, "Why the work is in jeopardy."),
    FieldSpec("date", T.DATETIME, "Raised."),
    FieldSpec("is_answered", T.BOOLEAN, "Answered by the dispatcher.", read=lambda j: j.answer_date is not None),
    FieldSpec("answer_comment", T.STRING, "The dispatcher's answer."),
    FieldSpec("answer_date", T.DATETIME, "Answered."),
)
NOTIFICATION_FIELDS = (
    FieldSpec("id", T.INTEGER, "Notification id."),
    FieldSpec("call_id", T.INTEGER, "The call it is about."),
    FieldSpec(
        "kind", T.ENUM, "call_assigned, call_closed, call_cost_processed, dispatcher_message or jeopardy_answered."
    ),
    FieldSpec("text", T.STRING, "Text."),
    FieldSpec("is_read", T.BOOLEAN, "Read.", read=lambda n: n.read_at is not None),
    FieldSpec("creation_date", T.DATETIME, "Created.", read=lambda n: n.created_at),
    FieldSpec("read_date", T.DATETIME, "Read at.", read=lambda n: n.read_at),
)


def _cost(name: str, kind: T, description: str, attr: str | None = None) -> FieldSpec:
    """A filterable and sortable field of get.call_costs read from the estimate (``attr``: its model attribute)."""
    return FieldSpec(name, kind, description, path=f"cost.{attr or name}")


def _expenses(view: CostView) -> list[dict[str, object]]:
    return [
        {"id": e.id, "expenditure_item_id": e.expenditure_item_id, "count": float(e.count), "status": e.status}
        for e in view.expenses
    ]


def _materials(view: CostView) -> list[dict[str, object]]:
    return [
        {
            "id": m.id,
            "name": m.name,
            "serial_number": m.serial_number,
            "owner_type": m.owner_type,
            "count": float(m.count),
            "price": float(m.price),
            "total": str(line_total(m)),
            "status": m.status,
        }
        for m in view.materials
    ]


COST_FIELDS = (
    _cost("id", T.INTEGER, "Estimate id."),
    _cost("call_id", T.INTEGER, "Its call (one estimate per call)."),
    _cost("status", T.ENUM, "Draft (the contractor edits it), InProgress (sent), Processed (every line decided)."),
    FieldSpec("expense_count", T.INTEGER, "How many expense lines.", read=lambda v: len(v.expenses)),
    FieldSpec("material_count", T.INTEGER, "How many material lines.", read=lambda v: len(v.materials)),
    _cost("creation_date", T.DATETIME, "Opened.", "created_at"),
    _cost("send_date", T.DATETIME, "Sent by the contractor.", "sent_at"),
    _cost("process_date", T.DATETIME, "The last line decided.", "processed_at"),
    _cost("edit_date", T.DATETIME, "Last changed.", "edited_at"),
    FieldSpec(
        "editable_until",
        T.DATETIME,
        "The Draft can be edited and sent before this moment (day callCostDeadlineDayOfMonth of the month after "
        "the call was finished, company timezone); null while the call is not finished.",
        filterable=False,
        sortable=False,
        path="editable_until",
    ),
    FieldSpec(
        "materials_total",
        T.STRING,
        "Sum of the materials' totals (count x unit price, each rounded half-up to the cent): an exact decimal "
        'string with 2 places, e.g. "0.30".',
        filterable=False,
        sortable=False,
        read=lambda v: str(v.materials_total),
    ),
    FieldSpec(
        "expenses",
        T.STRING_ARRAY,
        "Expense lines: objects {id, expenditure_item_id, count, status}; count a number (at most 3 places); "
        "status New, Approved, ApprovedWithCorrection or Rejected.",
        filterable=False,
        sortable=False,
        read=_expenses,
    ),
    FieldSpec(
        "materials",
        T.STRING_ARRAY,
        "Material lines: objects {id, name, serial_number, owner_type, count, price, total, status}; price is per "
        "unit (at most 2 places), total the exact line total as a decimal string.",
        filterable=False,
        sortable=False,
        read=_materials,
    ),
)


async def create_message(call: RpcCall) -> Result:
    call_id, text = call.params["call_id"], call.params["message"]
    try:
        message = await call.services.messages.post_message(call.principal, call_id, text)
    except CallNotFound as exc:
        raise RpcError("entity_not_found", field="call_id", value=call_id, detail=exc.message) from exc
    set_result_elements(1)
    return Result({"id": message.id})


register(
    *(
        get_method(name, summary, rights=CALL_READER, catalog=catalog, search=search, fields=fields)
        for name, summary, catalog, search, fields in (
            (
                "get.calls",
                "Calls (service requests) you may see: every call of your company for the external system, a "
                "COMPANYOWNER or CREWMANAGER; the calls you own for a USER.",
                CALL_FIELDS,
                lambda s: s.calls.search_calls,
                CALL_FIELD_SPECS,
            ),
            (
                "get.call_tasks",
                "Tasks of the calls you may see (as get.calls).",
                TASK_CATALOG,
                lambda s: s.tasks.search_tasks,
                TASK_FIELDS,
            ),
            (
                "get.call_messages",
                "Messages (the contractor's and the dispatcher's) on the calls you may see (as get.calls).",
                MESSAGE_CATALOG,
                lambda s: s.messages.search_messages,
                MESSAGE_FIELDS,
            ),
            (
                "get.call_jeopardies",
                "Jeopardies raised on the calls you may see (as get.calls), with the dispatcher's answers.",
                JEOPARDY_CATALOG,
                lambda s: s.jeopardies.search_jeopardies,
                JEOPARDY_FIELDS,
            ),
            (
                "get.call_costs",
                "Cost estimates (with their expense and material lines) of the calls you may see (as get.calls).",
                COST_CATALOG,
                lambda s: s.costs.search,
                COST_FIELDS,
            ),
        )
    ),
    get_method(
        "get.notifications",
        "Your own notifications (a contractor user's): call assigned, closed, dispatcher messages, answers, cost "
        "estimates processed.",
        rights=CONTRACTOR,
        catalog=NOTIFICATION_CATALOG,
        search=lambda s: s.notifications.search,
        fields=NOTIFICATION_FIELDS,
    ),
    Method(
        "create.call_messages",
        "A contractor's message on a call it may see (as POST /call/{id}/message); answers its id. A Closed call "
        "takes no messages (mnemonic error, 'the call is Closed'); a call you may not see is entity_not_found.",
        CONTRACTOR,
        create_message,
        common_params(
            {
                "call_id": Param(Kind.INTEGER, "The call.", required=True),
                "message": Param(Kind.STRING, "Text, 1..2000 characters, not blank.", required=True),
            }
        ),
        process_type=ProcessType.TRACE,
        result=ID_RESULT,
        errors=("entity_not_found", "error"),
    ),
)
