"""A stopped endpoint answers nobody, not even on a connection it kept open."""

from __future__ import annotations

import http.client
import json

import pytest

from localcloud.server import LocalCloudServer
from tests.localcloud.servers import REGION
from tests.localcloud.test_server_http import SIGNED_FOR_SQS


def _list_queues(connection: http.client.HTTPConnection) -> int:
    connection.request(
        "POST",
        "/",
        body=json.dumps({}),
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.ListQueues",
            "Authorization": SIGNED_FOR_SQS,
        },
    )
    response = connection.getresponse()
    response.read()
    return response.status


def test_a_stopped_server_closes_the_connections_it_kept_open():
    with LocalCloudServer(port=0, region=REGION, background=False) as stopping:
        connection = http.client.HTTPConnection("localhost", stopping.port, timeout=10)
        status = _list_queues(connection)

    # The server stopped with the connection still open: nothing answers on it any more.
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        _list_queues(connection)
    assert status == 200
    connection.close()
