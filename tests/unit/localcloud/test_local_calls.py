"""Which of a handler's requests `localcloud up` answers in process: those to its endpoint."""

from __future__ import annotations

import pytest

from localcloud.core.local_calls import is_endpoint_request

ENDPOINT = "http://localhost:4566"


@pytest.mark.parametrize(
    ("url", "answered_here"),
    [
        ("http://localhost:4566/2015-03-31/functions/f/invocations", True),
        ("http://127.0.0.1:4566/", True),
        # botocore's host prefix for Cloud Map's DiscoverInstances
        ("http://data-localhost:4566/", True),
        ("http://data-127.0.0.1:4566/", True),
        ("http://localhost:4567/", False),
        ("http://data-localhost:4567/", False),
        ("https://sqs.eu-west-1.amazonaws.com/", False),
        ("http://localhost.example.com:4566/", False),
    ],
)
def test_a_request_to_the_endpoint_by_any_of_its_names_is_answered_in_process(
    url: str, answered_here: bool
):
    assert is_endpoint_request(url, ENDPOINT) is answered_here
