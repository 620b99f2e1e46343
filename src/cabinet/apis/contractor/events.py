"""The contractor API's JSON of the objects its webhook events carry (``domains/fieldservice/events.py``): the
same mappers and DTOs as the routes' answers, so an event's ``data`` is what ``GET`` returns for that object."""

from __future__ import annotations

from typing import Any

from cabinet.apis.contractor.mappers import attachment_out, call_out, cost_out, jeopardy_out, message_out
from cabinet.domains.fieldservice.schemas import CallView, CostView
from cabinet.models import CallJeopardy, CallMessage, CallTaskAttachment


class ContractorPresenter:
    def call(self, view: CallView) -> dict[str, Any]:
        return call_out(view).model_dump(mode="json")

    def message(self, message: CallMessage) -> dict[str, Any]:
        return message_out(message).model_dump(mode="json")

    def jeopardy(self, jeopardy: CallJeopardy) -> dict[str, Any]:
        return jeopardy_out(jeopardy).model_dump(mode="json")

    def attachment(self, attachment: CallTaskAttachment) -> dict[str, Any]:
        return attachment_out(attachment).model_dump(mode="json")

    def cost(self, view: CostView) -> dict[str, Any]:
        return cost_out(view).model_dump(mode="json")
