"""A stopped endpoint answers nobody, not even on a connection it kept open."""

from __future__ import annotations

import http.client

import pytest

from localcloud.server import LocalCloudServer
from tests.localcloud.servers import REGION
from tests.localcloud.test_server_http import call_sqs


def test_a_stopped_server_closes_the_connections_it_kept_open():
    with LocalCloudServer(port=0, region=REGION, background=False) as stopping:
        connection = http.client.HTTPConnection("localhost", stopping.port, timeout=10)
        status, _ = call_sqs(connection, "ListQueues", {})

    # The server stopped with the connection still open: nothing answers on it any more.
    with pytest.raises((ConnectionError, http.client.HTTPException)):
        call_sqs(connection, "ListQueues", {})
    assert status == 200
    connection.close()
