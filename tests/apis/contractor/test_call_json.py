"""The call's JSON is written without its DTOs (``mappers.call_json``) for speed, and the DTO other routes answer
with is validated from the same data (``call_out``): the plain data's JSON must be byte for byte what that DTO
writes (a field misnamed, missing or of another type is dropped, refused or converted by the DTO, and differs),
for any call and every embed (tasks Done or not, attachments, jeopardies, visits with and without positions, a
signature or none, missing optional values, any text, times with and without microseconds)."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from cabinet.apis.contractor.mappers import call_json, call_out, json_data
from cabinet.apis.contractor.schemas import CallDTO
from cabinet.domains.fieldservice.content import AttachmentType
from cabinet.domains.fieldservice.schemas import CallView
from cabinet.domains.fieldservice.states import CallStatus, TaskStatus

ids = st.integers(min_value=1, max_value=2**53)
texts = st.text(max_size=40)
maybe_texts = st.none() | texts
times = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
maybe_times = st.none() | times
degrees = st.floats(min_value=-180, max_value=180, allow_nan=False) | st.integers(min_value=-90, max_value=90)
maybe_floats = st.none() | st.floats(min_value=0, max_value=1e7, allow_nan=False) | st.integers(0, 10**6)


def rows(**fields: Any) -> st.SearchStrategy[SimpleNamespace]:
    return st.builds(SimpleNamespace, **fields)


attachments = rows(
    id=ids,
    blob_name=maybe_texts,
    downloaded_at=maybe_times,
    name=maybe_texts,
    type=st.none() | st.sampled_from([t.value for t in AttachmentType]),
    uploaded_at=maybe_times,
    size=st.none() | ids,
    sha256=maybe_texts,
)
tasks = rows(id=ids, status=st.sampled_from([s.value for s in TaskStatus]), title=texts)
jeopardies = rows(
    id=ids,
    answer_comment=maybe_texts,
    answer_date=maybe_times,
    call_id=ids,
    comment=texts,
    date=times,
    change_no=ids,
)
visits = rows(
    id=ids,
    check_in_at=times,
    check_in_client_at=times,
    check_in_latitude=st.none() | degrees,
    check_in_longitude=st.none() | degrees,
    check_in_accuracy=maybe_floats,
    check_out_at=maybe_times,
    check_out_client_at=maybe_times,
    check_out_latitude=st.none() | degrees,
    check_out_longitude=st.none() | degrees,
    check_out_accuracy=maybe_floats,
    distance_meters=maybe_floats,
    outside_geofence=st.none() | st.booleans(),
)
signatures = rows(id=ids, signer_name=texts, signed_at=times, size=ids, sha256=texts)
calls = rows(
    id=ids,
    client_name=texts,
    comments=maybe_texts,
    commited_at=maybe_times,
    contact_person_email=maybe_texts,
    contact_person_name=maybe_texts,
    contact_person_phone=maybe_texts,
    created=times,
    critical=st.booleans(),
    description_html=texts,
    description_for_field_employee=texts,
    finished_at=maybe_times,
    jeopardy_open=st.booleans(),
    number=texts,
    service_object_address=texts,
    service_object_latitude=degrees,
    service_object_longitude=degrees,
    service_object_name=texts,
    service_object_type=maybe_texts,
    status=st.sampled_from([s.value for s in CallStatus]),
    change_no=ids,
    ttf=maybe_times,
    tto=maybe_times,
    owner_id=ids,
)


@st.composite
def views(draw: st.DrawFn) -> CallView:
    call_tasks = draw(st.lists(tasks, max_size=4))
    return CallView(
        call=draw(calls),
        tasks=call_tasks,
        jeopardies=draw(st.lists(jeopardies, max_size=3)),
        items=draw(st.lists(rows(id=ids, name=texts), max_size=3)),
        is_expired=draw(st.booleans()),
        attachments={t.id: draw(st.lists(attachments, max_size=3)) for t in call_tasks},
        visits=draw(st.lists(visits, max_size=3)),
        signature=draw(st.none() | signatures),
    )


DTO = TypeAdapter(CallDTO)


@settings(max_examples=300, deadline=None)
@given(views())
def test_the_call_json_is_the_dtos_json(view: CallView) -> None:
    assert json_data(call_json(view)).body == DTO.dump_json(call_out(view))


@settings(max_examples=30, deadline=None)
@given(st.lists(views(), max_size=3))
def test_a_page_of_calls_is_the_list_dtos_json(page: list[CallView]) -> None:
    expected = TypeAdapter(list[CallDTO]).dump_json([call_out(view) for view in page])
    assert json_data([call_json(view) for view in page]).body == expected
