"""Step Functions' JSONata query language and variables, evaluated by jsonata-python.

moto's interpreter composes each JSONata expression with the values it reads (`$states`,
variables assigned by `Assign`, its own stand-ins for Step Functions' extra functions) as
declarations in front of the expression, `($states:={...};$total:=3;<expression>)`, and hands
that text to an evaluator it never wires: on moto 5.2.5 every JSONata expression, every
`Assign`, and every JSONPath reference to a variable fails as `States.Runtime`. localcloud's
hooks, installed with the other Step Functions hooks while the engine runs:

- evaluate that text with jsonata-python, results as plain JSON values;
- write a variable holding a string as a JSON string literal, so that quotes, backslashes and
  line breaks in it survive (moto writes it between quotes as it is; `$states` is an object,
  which it writes as JSON);
- fail the state with `States.QueryEvaluationError`, as Step Functions does, when an
  expression cannot be evaluated (a type error, an unknown function, a syntax error), with
  the JSONata error code and message in the cause.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonata
from jsonata.jexception import JException
from moto.stepfunctions.parser.api import EvaluationFailedEventDetails, HistoryEventType
from moto.stepfunctions.parser.asl.component.common.error_name.failure_event import (
    FailureEvent,
    FailureEventException,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import (
    StatesErrorName,
)
from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name_type import (
    StatesErrorNameType,
)
from moto.stepfunctions.parser.asl.component.common.string.string_expression import (
    StringJSONata,
)
from moto.stepfunctions.parser.asl.eval import variable_store
from moto.stepfunctions.parser.asl.eval.event.event_detail import EventDetails
from moto.stepfunctions.parser.asl.jsonata import jsonata as moto_jsonata
from moto.stepfunctions.parser.asl.jsonata.jsonata import JSONataException

from localcloud.core.hooks import Hook


def evaluate(expression: str) -> Any:
    """The value of a self-contained JSONata expression, as plain JSON values."""
    try:
        result = jsonata.Jsonata(expression).evaluate(None)
    except JException as error:
        raise JSONataException(error.get_error(), str(error)) from error
    except Exception as error:
        # jsonata-python lets some of its own errors out as Python ones (a TypeError for an
        # expression that is a bare function, say): they are the expression's failure too.
        raise JSONataException("UNKNOWN", str(error)) from error
    try:
        # jsonata-python's arrays are list subclasses carrying its own state; moto copies and
        # compares results as plain JSON.
        return json.loads(json.dumps(result))
    except (TypeError, ValueError) as error:
        raise JSONataException("UNKNOWN", f"the result is not JSON: {error}") from error


def _evaluator(original: Any) -> Callable[[str], Any]:
    # moto sets its evaluator to None and calls it (upstream moto issue 10105).
    return evaluate


def _strings_as_json_literals(original):
    # moto writes a string between double quotes as it is, so a quote, backslash or line break
    # in it breaks the expression; a JSON string literal is also a JSONata one.
    def encode_jsonata_variable_declarations(bindings: dict[str, Any]) -> str:
        return "".join(
            f"{name}:={json.dumps(value)};" if isinstance(value, str) else original({name: value})
            for name, value in bindings.items()
        )

    return encode_jsonata_variable_declarations


def _evaluation_error_as_query_evaluation_error(original):
    # An expression that fails to evaluate fails its state with States.QueryEvaluationError on
    # Step Functions (a Catch or Retry can match it), not with the interpreter's own error.
    def _eval_body(self, env) -> None:
        try:
            return original(self, env)
        except JSONataException as error:
            raise _query_evaluation_failure(env, self.expression, error) from error

    return _eval_body


def _query_evaluation_failure(
    env: Any, expression: str, error: JSONataException
) -> FailureEventException:
    name = StatesErrorName(typ=StatesErrorNameType.StatesQueryEvaluationError)
    field = env.next_field_name
    where = f" specified for the field '{field}'" if field else ""
    details = EvaluationFailedEventDetails(
        error=name.error_name,
        cause=(
            f"The JSONata expression '{expression}'{where} threw an error during evaluation. "
            f"{error.error}: {error.details}"
        ),
    )
    failure = FailureEventException(
        failure_event=FailureEvent(
            env=env,
            error_name=name,
            event_type=HistoryEventType.EvaluationFailed,
            event_details=EventDetails(evaluationFailedEventDetails=details),
        )
    )
    env.event_manager.add_event(
        context=env.event_history_context,
        event_type=HistoryEventType.EvaluationFailed,
        event_details=EventDetails(
            evaluationFailedEventDetails=failure.get_evaluation_failed_event_details()
        ),
    )
    return failure


HOOKS = (
    Hook(
        moto_jsonata,
        "_eval_jsonata",
        _evaluator,
        why="moto never wires a JSONata evaluator (its global is None)",
        parameters=None,
        replaces=True,
    ),
    Hook(
        StringJSONata,
        "_eval_body",
        _evaluation_error_as_query_evaluation_error,
        why="A failed expression fails its state with States.QueryEvaluationError",
        parameters=("self", "env"),
    ),
    Hook(
        variable_store,
        "encode_jsonata_variable_declarations",
        _strings_as_json_literals,
        why="String variables are written as JSON literals, quotes and all",
        parameters=("bindings",),
    ),
)
