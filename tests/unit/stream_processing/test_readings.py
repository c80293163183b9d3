"""Reading a record's data: a reading comes out, or a reason why the record is not one."""

from __future__ import annotations

import base64
from decimal import Decimal

import pytest

from stream_processing import logic
from stream_processing.errors import InvalidPutRequestError, MalformedRecordError
from stream_processing.models import Reading


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_a_sample_record_holds_a_reading(sample_event):
    record = sample_event("kinesis_window_batch.json")["Records"][0]

    reading = logic.read_reading(record["kinesis"]["data"])

    assert reading == Reading(key="sensor-1", value=Decimal("21.5"))


def test_a_reading_put_on_the_stream_reads_back_exactly():
    reading = Reading(key="page:/checkout", value=Decimal("0.000001"))

    assert logic.read_reading(_b64(reading.to_data())) == reading
    assert reading.to_data() == b'{"key":"page:/checkout","value":0.000001}'


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("not base64!", "data is not base64"),
        (_b64(b"plain text"), "not a reading: (input): Invalid JSON"),
        (_b64(b'{"key":"sensor-3","value":"hot"}'), "not a reading: value: "),
        (_b64(b'{"value":3}'), "not a reading: key: Field required"),
        (_b64(b'{"key":"sensor-3","value":1e400}'), "not a reading: value: "),
        (_b64(b"[1, 2]"), "not a reading: (input): Input should be an object"),
    ],
)
def test_a_record_that_is_not_a_reading_says_why(data: str, reason: str):
    with pytest.raises(MalformedRecordError) as raised:
        logic.read_reading(data)

    assert str(raised.value).startswith(reason)


def test_a_put_request_names_every_bad_reading_by_index(sample_event):
    with pytest.raises(InvalidPutRequestError) as raised:
        logic.parse_put_request(sample_event("put_readings_invalid.json"))

    message = str(raised.value)
    assert "readings[1].key: String should have at least 1 character" in message
    assert "readings[2].value: " in message
    assert "readings[0]" not in message


@pytest.mark.parametrize("payload", [[], "readings", {"readings": []}, {"events": [1]}])
def test_a_put_request_that_is_not_a_list_of_readings_is_refused(payload):
    with pytest.raises(InvalidPutRequestError):
        logic.parse_put_request(payload)


def test_a_put_request_may_carry_a_request_id_for_its_retries(sample_event):
    request = logic.parse_put_request({**sample_event("put_readings.json"), "request_id": " r-1 "})

    assert request.request_id == "r-1"
    assert len(request.readings) == 5
    assert logic.parse_put_request(sample_event("put_readings.json")).request_id is None
    with pytest.raises(InvalidPutRequestError, match="request_id: String should have at least"):
        logic.parse_put_request({**sample_event("put_readings.json"), "request_id": ""})
