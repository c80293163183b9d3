"""The endpoint's HTTP: it keeps a client's connection open between requests, each request on it
gets its own body and its own answer, and moto's answers (errors included) reach the client as
moto's server gives them."""

from __future__ import annotations

import http.client
import json
import socket
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


def _exchange(server: LocalCloudServer, head: bytes, body: bytes = b"") -> bytes:
    """Send one raw request and return all the server sends until it closes the connection
    (a request with `Connection: close`, or one the server refuses); a connection it keeps
    open raises TimeoutError."""
    with socket.create_connection(("localhost", server.port), timeout=2) as raw:
        raw.sendall(head + body)
        received = b""
        while chunk := raw.recv(65536):
            received += chunk
    return received


def _sqs_head(target: str, body: bytes, *lines: bytes) -> bytes:
    return (
        b"POST / HTTP/1.1\r\nHost: localhost\r\n"
        + b"Content-Type: application/x-amz-json-1.0\r\n"
        + f"X-Amz-Target: AmazonSQS.{target}\r\nAuthorization: {SIGNED_FOR_SQS}\r\n".encode()
        + b"Content-Length: %d\r\n" % len(body)
        + b"".join(line + b"\r\n" for line in lines)
        + b"\r\n"
    )


def test_header_values_are_read_as_sent_whatever_the_spacing_after_the_colon(
    server: LocalCloudServer,
):
    body = b'{"QueueName": "spaced-headers"}'
    head = (
        b"POST / HTTP/1.1\r\nHost:localhost\r\n"
        b"Content-Type:\t application/x-amz-json-1.0\r\n"
        b"x-amz-target:AmazonSQS.CreateQueue\r\n"
        + f"Authorization:   {SIGNED_FOR_SQS}\r\n".encode()
        + b"Content-Length:%d\r\nConnection: \t close\r\n\r\n" % len(body)
    )

    answer = _exchange(server, head, body)

    assert answer.startswith(b"HTTP/1.1 200 ")
    assert b'/spaced-headers"' in answer


def test_a_header_line_without_a_colon_is_a_bad_request(server: LocalCloudServer):
    answer = _exchange(server, _sqs_head("ListQueues", b"{}", b"NoColonHere"), b"{}")

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"NoColonHere" in answer


def test_a_value_folded_onto_the_next_line_is_a_bad_request(server: LocalCloudServer):
    answer = _exchange(server, _sqs_head("ListQueues", b"{}", b"X-Note: one", b"  two"), b"{}")

    assert answer.startswith(b"HTTP/1.1 400 ")


def test_too_many_headers_or_too_long_a_header_line_is_refused_with_431(
    server: LocalCloudServer,
):
    many = [b"X-Extra-%d: v" % n for n in range(101)]
    too_many = _exchange(server, _sqs_head("ListQueues", b"{}", *many), b"{}")
    too_long = _exchange(server, _sqs_head("ListQueues", b"{}", b"X-Long: " + b"v" * 70_000))
    just_enough = _exchange(server, _sqs_head("ListQueues", b"{}", b"Connection: close"), b"{}")

    assert too_many.startswith(b"HTTP/1.1 431 ")
    assert b"Too many headers" in too_many
    assert too_long.startswith(b"HTTP/1.1 431 ")
    assert b"Line too long" in too_long
    assert just_enough.startswith(b"HTTP/1.1 200 ")


def test_connection_close_in_the_request_closes_the_connection_after_its_answer(
    server: LocalCloudServer,
):
    # `_exchange` returns once the server closes (without the header, the connection stays
    # open: `test_one_connection_carries_many_requests_each_with_its_own_body`).
    closing = _exchange(server, _sqs_head("ListQueues", b"{}", b"Connection: close"), b"{}")

    assert closing.startswith(b"HTTP/1.1 200 ")


def test_a_client_that_expects_100_continue_is_told_to_send_its_body(server: LocalCloudServer):
    body = b'{"QueueName": "after-continue"}'
    with socket.create_connection(("localhost", server.port), timeout=10) as raw:
        raw.sendall(_sqs_head("CreateQueue", body, b"Expect: 100-continue", b"Connection: close"))
        interim = raw.recv(65536)
        raw.sendall(body)
        final = b""
        while chunk := raw.recv(65536):
            final += chunk

    assert interim.startswith(b"HTTP/1.1 100 Continue\r\n")
    assert (interim + final).count(b"100 Continue") == 1
    assert b"HTTP/1.1 200 " in final
    assert b'/after-continue"' in final


@pytest.mark.parametrize(
    ("request_line", "status"),
    [
        (b"GET /_localcloud/health", b"400"),  # HTTP/0.9
        (b"GET /_localcloud/health HTTP/1.1 extra", b"400"),
        (b"GET /_localcloud/health HTTP/one", b"400"),
        (b"GET /_localcloud/health HTTP/2.0", b"505"),
    ],
)
def test_a_request_line_that_is_not_http_1_is_refused(
    server: LocalCloudServer, request_line: bytes, status: bytes
):
    answer = _exchange(server, request_line + b"\r\nHost: localhost\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 " + status + b" ")


def test_an_http_1_0_request_is_answered_and_its_connection_closed(server: LocalCloudServer):
    answer = _exchange(server, b"GET /_localcloud/health HTTP/1.0\r\nHost: localhost\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 200 ")
