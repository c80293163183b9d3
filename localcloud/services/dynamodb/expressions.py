"""DynamoDB expressions parsed once per text and validated in one cheap pass per processor.

A handler that keeps its state in DynamoDB (Powertools' idempotency, a ledger) sends a few
writes per message, each with an update or condition expression, and under load those
expressions are where localcloud spends its time: profiled (py-spy, the PubSub subscriber at
load), half of a message went to moto's handling of those expressions, not to storing anything.
moto parses every expression from its text on every request (twice for an UpdateItem: once
to check the placeholders, once to apply it); deep-copies the parsed tree with
`copy.deepcopy` before validating it; validates it with ten tree walks, each of which
rebuilds its processor table and asks an ABC `isinstance` at every node; and two of those
walks (the action count and overlapping paths checks) search the whole subtree again at
every clause node, in time that grows with the square of the expression's length.

Here:
- an update expression's tree is parsed once per text and handed out as it is kept: moto's
  callers read it, and its validator changes only its own copy; a condition expression's
  tokens likewise (immutable tuples, each with its own children list);
- the tree is copied by walking it (three attributes per node) instead of `copy.deepcopy`;
- each walk builds its processor table once, and learns once per class of node which
  processor takes it; clauses are found without an ABC check per node;
- the two checks that only read the tree and raise are run once per text (and, for the
  overlapping paths, per attribute names): a text that passed them passes again, one that
  failed is checked again and fails as moto fails it.

What moto decides stays moto's: the same processors run in the same order on the same trees,
and the same errors come out of them; only how the trees are made, copied and walked changes.
`tests/localcloud/test_dynamodb_expressions.py` holds the hooked answers to moto's own.
"""

from __future__ import annotations

import copy
import threading
from collections import OrderedDict, deque
from collections.abc import Callable, Hashable
from typing import Any

from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import (
    DepthFirstTraverser,
    Expression,
    Node,
    UpdateExpressionFunction,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser

from localcloud.core.hooks import Hook

#: Distinct expression texts kept. A service sends a handful; the bound keeps a caller that
#: builds expressions with values inlined (each text new) from growing the process.
_KEPT_EXPRESSIONS = 512

_MISSING = object()


class _Kept:
    """A bounded least-recently-used map from an expression's text (and what else decides the
    result) to what was made of it."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            found = self._entries.get(key, _MISSING)
            if found is not _MISSING:
                self._entries.move_to_end(key)
                return found
        made = make()  # outside the lock: an error raises for this caller only, and is not kept
        with self._lock:
            self._entries[key] = made
            if len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return made


_update_trees = _Kept(_KEPT_EXPRESSIONS)
_condition_tokens = _Kept(_KEPT_EXPRESSIONS)
_passed_checks = _Kept(_KEPT_EXPRESSIONS)

#: Where a parsed tree's root keeps the text it was parsed from (copies keep it too).
_TEXT = "localcloud_expression_text"


def _checked_inputs(walker: Any) -> tuple | None:
    """For the validators that only read the tree and raise (never change it), what besides
    the tree decides whether they pass; None for every other walker. moto runs both at every
    clause node, so each costs time in the square of the expression's length."""
    if isinstance(walker, validators.ActionCountValidator):
        return ()
    if isinstance(walker, validators.OverlappingPathsValidator):
        return tuple(sorted((walker.expression_attribute_names or {}).items()))
    return None


# Per node class: is it a Node (an ABC, so `isinstance` is slow).
_is_node: dict[type, bool] = {}
# Per node class: whether moto looks for clauses inside it (expressions and functions).
_holds_clauses: dict[type, bool] = {}
# Per processor table (its node classes, in order), what a walk does at each class of node:
# the position of the node's processor in the table (the first class the node is an instance
# of), None for a node none processes, or _NOT_A_NODE for a value.
_NOT_A_NODE = object()
_plans: dict[tuple[type, ...], dict[type, Any]] = {}


def _node_class(cls: type) -> bool:
    known = _is_node.get(cls)
    if known is None:
        known = _is_node[cls] = issubclass(cls, Node)
    return known


def copy_tree(node: Any) -> Any:
    """A copy of the tree under `node`, as `copy.deepcopy` makes it (the copy's nodes point to
    their copied parents; values that are not nodes are deep-copied unless immutable)."""
    if not _node_class(type(node)) or node.parent is not None:
        return copy.deepcopy(node)
    return _copy_node(node, None)


def _copy_node(node: Any, parent: Any) -> Any:
    duplicate = object.__new__(type(node))
    duplicate.__dict__.update(node.__dict__)
    duplicate.parent = parent
    children = node.children
    if children is not None:
        duplicate.children = [
            _copy_node(child, duplicate)
            if _node_class(type(child))
            else child
            if isinstance(child, str | int | float | bool | None)
            else copy.deepcopy(child)
            for child in children
        ]
    return duplicate


def _found_with_known_classes(original):
    def find_clauses(self, clause_types):
        clauses: list[Any] = []

        def collect(node: Any) -> None:
            for child in node.children or ():
                child_class = type(child)
                if child_class in clause_types:
                    clauses.append(child)
                    continue
                holds = _holds_clauses.get(child_class)
                if holds is None:
                    holds = _holds_clauses[child_class] = issubclass(
                        child_class, Expression | UpdateExpressionFunction
                    )
                if holds:
                    collect(child)

        collect(self)
        return clauses

    return find_clauses


def _parsed_once(original):
    def parse(expression_str: str) -> Any:
        tree = original(expression_str)
        tree.__dict__[_TEXT] = expression_str
        return tree

    def make(cls, expression_str):
        # Every caller in moto only reads the tree (its placeholders), or validates it, and
        # the validator works on its own copy (`_validator_copies_by_walking`).
        return _update_trees.get(expression_str, lambda: parse(expression_str))

    return classmethod(make)


def _validator_copies_by_walking(original):
    def __init__(  # noqa: N807 - replaces __init__
        self, expression, expression_attribute_names, expression_attribute_values, item, table
    ):
        self.expression_attribute_names = expression_attribute_names
        self.expression_attribute_values = expression_attribute_values
        self.item = item
        self.table = table
        self.processors = self.get_ast_processors()
        self.node_to_validate = copy_tree(expression)

    return __init__


def _lexed_once(original):
    def _lex_condition_expression(self):
        tokens = _condition_tokens.get(self.condition_expression, lambda: tuple(original(self)))
        # The tokens are named tuples; each gets its own (empty) children list, as lexing
        # makes them.
        return deque(token._replace(children=[]) for token in tokens)

    return _lex_condition_expression


def _walked_with_one_table(original):
    base_process = DepthFirstTraverser.process
    base_types = DepthFirstTraverser.nodes_to_be_processed
    base_pre = DepthFirstTraverser.pre_processing_of_child

    def traverse(self, node):
        walker = type(self)
        if walker.process is not base_process or walker.nodes_to_be_processed is not base_types:
            return original(self, node)
        table = self._processing_map()
        processors = list(table.values())
        plan = _plans.setdefault(tuple(table), {})
        overrides_pre = walker.pre_processing_of_child is not base_pre
        pre = self.pre_processing_of_child if overrides_pre else None

        def learn(node_class: type) -> Any:
            if not issubclass(node_class, Node):
                step = _NOT_A_NODE
            else:
                step = next((i for i, cls in enumerate(table) if issubclass(node_class, cls)), None)
            plan[node_class] = step
            return step

        def visit(node: Any, child_id: int, step: int | None) -> Any:
            parent_node = node.parent
            children = node.children
            if children is not None:
                for index, child in enumerate(children):
                    if pre is not None:
                        pre(node, index)
                    child_step = plan.get(type(child), _MISSING)
                    if child_step is _MISSING:
                        child_step = learn(type(child))
                    if child_step is not _NOT_A_NODE:
                        visit(child, index, child_step)
            if step is not None:
                node = processors[step](node)
                node.parent = parent_node
                if parent_node:
                    parent_node.children[child_id] = node
            return node

        def walk() -> Any:
            step = plan.get(type(node), _MISSING)
            if step is _MISSING:
                step = learn(type(node))
            return node if step is _NOT_A_NODE else visit(node, -1, step)

        inputs = _checked_inputs(self)
        text = getattr(node, _TEXT, None) if inputs is not None else None
        if text is None:
            return walk()

        # A tree parsed from the same text (and checked against the same inputs) that passed
        # once passes again; one that fails is walked each time, so it raises as moto does.
        def walked() -> bool:
            walk()
            return True

        _passed_checks.get((walker, text, inputs), walked)
        return node

    return traverse


HOOKS = (
    Hook(
        UpdateExpressionParser,
        "make",
        _parsed_once,
        why="An update expression is parsed once per text",
        parameters=("cls", "expression_str"),
        replaces=True,
    ),
    Hook(
        validators.Validator,
        "__init__",
        _validator_copies_by_walking,
        why="The validated tree is copied by walking it, not with copy.deepcopy",
        parameters=(
            "self",
            "expression",
            "expression_attribute_names",
            "expression_attribute_values",
            "item",
            "table",
        ),
        replaces=True,
    ),
    Hook(
        ConditionExpressionParser,
        "_lex_condition_expression",
        _lexed_once,
        why="A condition expression is lexed once per text",
        parameters=("self",),
        replaces=True,
    ),
    Hook(
        Node,
        "find_clauses",
        _found_with_known_classes,
        why="Clauses are found without an ABC isinstance check at every node",
        parameters=("self", "clause_types"),
        replaces=True,
    ),
    Hook(
        DepthFirstTraverser,
        "traverse",
        _walked_with_one_table,
        why="A validation walk builds its processor table once, not at every node",
        parameters=("self", "node"),
        replaces=True,
    ),
)
