"""The endpoint's HTTP: it keeps a client's connection open between requests, each request on it
gets its own body and its own answer, and moto's answers (errors included) reach the client as
moto's server gives them."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator

import pytest

from localcloud.server import LocalCloudServer
from tests.localcloud.servers import REGION

SIGNED_FOR_SQS = (
    "AWS4-HMAC-SHA256 Credential=localcloud/20261201/eu-west-1/sqs/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


@pytest.fixture(scope="module")
def server() -> Iterator[LocalCloudServer]:
    with LocalCloudServer(port=0, region=REGION, background=False) as running:
        yield running


def call_sqs(connection: http.client.HTTPConnection, action: str, body: dict) -> tuple[int, dict]:
    connection.request(
        "POST",
        "/",
        body=json.dumps(body),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"AmazonSQS.{action}",
            "Authorization": SIGNED_FOR_SQS,
        },
    )
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"{}")


def test_one_connection_carries_many_requests_each_with_its_own_body(server: LocalCloudServer):
    connection = http.client.HTTPConnection("localhost", server.port, timeout=10)
    status, created = call_sqs(connection, "CreateQueue", {"QueueName": "kept-connection"})
    queue_url = created["QueueUrl"]
    socket_before = connection.sock

    answers = [
        call_sqs(connection, "SendMessage", {"QueueUrl": queue_url, "MessageBody": f"m{n}"})
        for n in range(3)
    ]
    _, received = call_sqs(
        connection,
        "ReceiveMessage",
        {"QueueUrl": queue_url, "MaxNumberOfMessages": 10, "VisibilityTimeout": 30},
    )

    assert status == 200
    assert [answer[0] for answer in answers] == [200, 200, 200]
    assert sorted(message["Body"] for message in received["Messages"]) == ["m0", "m1", "m2"]
    assert connection.sock is socket_before  # never reopened: the server kept it
    connection.close()


def test_a_body_the_application_does_not_read_does_not_reach_the_next_request(
    server: LocalCloudServer,
):
    connection = http.client.HTTPConnection("localhost", server.port, timeout=10)
    # A control path that answers without reading its body...
    connection.request("GET", "/_localcloud/health", body=b"GET / HTTP/1.1\r\n\r\n" * 3)
    first = connection.getresponse()
    first.read()
    # ...and the connection's next request is still read from where it starts.
    status, listed = call_sqs(connection, "ListQueues", {})

    assert first.status == 200
    assert status == 200
    assert "QueueUrls" in listed or listed == {}
    connection.close()


def test_a_chunked_body_is_read_whole_and_its_connection_closed(server: LocalCloudServer):
    connection = http.client.HTTPConnection("localhost", server.port, timeout=10)
    connection.request(
        "POST",
        "/",
        body=iter([b'{"QueueName": ', b'"chunked-body"}']),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.CreateQueue",
            "Authorization": SIGNED_FOR_SQS,
        },
        encode_chunked=True,
    )
    response = connection.getresponse()

    assert response.status == 200
    assert json.loads(response.read())["QueueUrl"].endswith("/chunked-body")
    assert response.getheader("Connection") == "close"
    connection.close()


def test_an_error_comes_back_in_the_services_shape_with_its_status(server: LocalCloudServer):
    connection = http.client.HTTPConnection("localhost", server.port, timeout=10)
    status, error = call_sqs(connection, "GetQueueUrl", {"QueueName": "no-such-queue"})

    assert status == 400
    assert error["__type"].endswith("QueueDoesNotExist")
    connection.close()


def test_answers_carry_the_cors_header_moto_server_gives_them(server: LocalCloudServer):
    connection = http.client.HTTPConnection("localhost", server.port, timeout=10)
    connection.request(
        "POST",
        "/",
        body="{}",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.ListQueues",
            "Authorization": SIGNED_FOR_SQS,
        },
    )
    response = connection.getresponse()
    response.read()

    assert response.status == 200
    assert response.getheader("Access-Control-Allow-Origin") == "*"
    connection.close()


def test_a_request_from_outside_a_handler_is_signed(server: LocalCloudServer):
    from localcloud.core.engine import UNCHECKED_SIGNATURE
    from tests.localcloud.servers import client

    sqs = client(server, "sqs")
    seen: list[str] = []
    sqs.meta.events.register(
        "before-send", lambda request, **_: seen.append(request.headers["Authorization"].decode())
    )
    sqs.list_queues()

    [authorization] = seen
    assert "Signature=" in authorization
    assert not authorization.endswith(f"Signature={UNCHECKED_SIGNATURE}")
