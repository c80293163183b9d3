"""Each pattern's scenario runs end to end on localcloud (in-process) from the synthesized app."""

from __future__ import annotations

import pytest

from demo import pub_sub, request_response
from localcloud import LocalCloud
from tests.synth import CloudAssembly


@pytest.fixture
def cloud(localcloud: LocalCloud) -> LocalCloud:
    return localcloud


def test_request_response_scenario_answers_every_request_as_documented(cloud: LocalCloud):
    outcome = request_response.run(cloud)

    assert outcome.statuses == {
        "create": 201,
        "retried create (same Idempotency-Key)": 201,
        "second item": 201,
        "read": 200,
        "update at version 1": 200,
        "stale update at version 1": 409,
        "list, page 1": 200,
        "list, page 2": 200,
        "malformed JSON": 400,
        "wrong type": 422,
        "unknown field": 422,
        "body over the limit": 413,
        "bad pagination token": 400,
        "unknown id": 404,
        "delete": 204,
        "route the API does not have": 404,
    }
    # Two distinct creates (the retry wrote nothing), one delete.
    assert outcome.items_in_table == 1
    # The unknown route is answered by the API, never by the function.
    assert outcome.invocations == len(outcome.statuses) - 1


def test_pub_sub_scenario_delivers_filtered_shares_once_and_dead_letters_the_poison(
    cloud: LocalCloud,
):
    outcome = pub_sub.run(cloud)

    assert outcome.published == 25
    # 15 placed + 5 cancelled + the poison message; 5 shipped + 5 cancelled; placed >= 1000.
    assert outcome.delivered == {"Fulfilment": 21, "Notifications": 10, "FraudReview": 5}
    assert outcome.dead_letters == {"Fulfilment": 1, "Notifications": 0, "FraudReview": 0}
    assert outcome.reservations_after_redelivery == 1
    # Nothing lost: every delivered message but the poison one left its mark in the ledger.
    order_effects = outcome.ledger_items - 1  # one daily fraud-review total
    assert order_effects == sum(outcome.delivered.values()) - 1


def test_demo_command_runs_every_scenario_and_prints_the_summary(
    dev_assembly: CloudAssembly, capsys: pytest.CaptureFixture[str]
):
    from demo.__main__ import main

    exit_code = main(["--assembly", str(dev_assembly.outdir)])

    summary = capsys.readouterr().out.split("pattern ", 1)[1]
    assert exit_code == 0
    assert "request_response" in summary
    rows = {line.split()[0]: line.split()[1:4] for line in summary.splitlines()[1:] if line}
    # invocations, items processed, items in DLQs
    assert rows["request_response"] == ["15", "16", "0"]
    assert rows["pub_sub"] == ["12", "35", "1"]


def test_demo_command_rejects_a_pattern_it_has_no_scenario_for(capsys: pytest.CaptureFixture[str]):
    from demo.__main__ import main

    with pytest.raises(SystemExit) as exit_info:
        main(["peer_to_peer"])

    assert exit_info.value.code == 2
    assert "no scenario for peer_to_peer" in capsys.readouterr().err
