"""Velocity (VTL 1.7) for REST API mapping templates: parse, then render with $input and $util.

API Gateway renders integration request and response templates with Apache Velocity 1.7 on the
JVM. This module follows that engine's rules where templates can see them: Java's `toString()`
of lists and maps, Java string/list/map methods, integer arithmetic, a null reference rendered as
its own source text, a null `#set` value ignored, and the 1.7 whitespace rules (a `#set` eats the
blanks before it; a directive followed by a line end eats that line end).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus, unquote_plus

__all__ = [
    "JsonArray",
    "MappingTemplateInput",
    "MappingTemplateUtil",
    "VtlError",
    "apigateway_variables",
    "render",
    "select_json_path",
]


class VtlError(ValueError):
    """A template that cannot be parsed or evaluated; the message says where and what."""

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None):
        self.line = line
        self.column = column
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(f"{where}{message}")


# ---------------------------------------------------------------------------------------------
# Syntax tree. Every node is immutable so a parsed template can be cached and shared.


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Property:
    name: str


@dataclass(frozen=True, slots=True)
class Call:
    name: str
    args: tuple[Any, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Index:
    key: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Ref:
    """`$name` followed by properties, method calls and indexes, as written at `pos`."""

    name: str
    accessors: tuple[Property | Call | Index, ...]
    source: str
    pos: int


@dataclass(frozen=True, slots=True)
class Output:
    """A reference in text: its value, or its source text when null (nothing when quiet)."""

    ref: Ref
    quiet: bool


@dataclass(frozen=True, slots=True)
class EscapedOutput:
    """Backslashes before a reference: `\\$a` shows `$a` when `$a` is defined."""

    backslashes: int
    ref: Ref
    quiet: bool


@dataclass(frozen=True, slots=True)
class Literal:
    value: Any


@dataclass(frozen=True, slots=True)
class Interpolated:
    """A double-quoted string: rendered as a small template each time it is evaluated."""

    nodes: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ListLiteral:
    items: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class RangeLiteral:
    start: Any
    end: Any
    pos: int


@dataclass(frozen=True, slots=True)
class MapLiteral:
    entries: tuple[tuple[Any, Any], ...]


@dataclass(frozen=True, slots=True)
class Unary:
    op: str
    operand: Any
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    op: str
    left: Any
    right: Any
    pos: int


@dataclass(frozen=True, slots=True)
class SetDirective:
    target: Ref
    value: Any


@dataclass(frozen=True, slots=True)
class IfDirective:
    branches: tuple[tuple[Any, tuple[Any, ...]], ...]
    otherwise: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class ForeachDirective:
    variable: str
    iterable: Any
    body: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class BreakDirective:
    pass


@dataclass(frozen=True, slots=True)
class StopDirective:
    pass


@dataclass(frozen=True, slots=True)
class DefineDirective:
    name: str
    body: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Macro:
    name: str
    params: tuple[str, ...]
    body: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class MacroCall:
    name: str
    args: tuple[Any, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Template:
    source: str
    nodes: tuple[Any, ...]
    macros: Mapping[str, Macro]


# ---------------------------------------------------------------------------------------------
# Parser: a recursive descent over the source text, in text mode (template) or expression mode
# (inside a directive's parentheses or a method's arguments).

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")  # Velocity 1.7 allows '-' after the first
_DIRECTIVE = re.compile(r"#(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
_NUMBER = re.compile(r"\d+(\.\d+)?")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NAMED_REFERENCE = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_-]*)\}?")
_IN = re.compile(r"in\b")
_LINE_END = re.compile(r"[ \t]*(?:\r\n|\n|\r)")
_WORD_OPERATORS = {
    "and": "&&",
    "or": "||",
    "not": "!",
    "eq": "==",
    "ne": "!=",
    "lt": "<",
    "gt": ">",
    "le": "<=",
    "ge": ">=",
}
_BLOCK_ENDS = frozenset({"end", "else", "elseif"})
_UNSUPPORTED = frozenset({"parse", "include", "evaluate"})


def _position(source: str, pos: int) -> tuple[int, int]:
    line = source.count("\n", 0, pos) + 1
    return line, pos - (source.rfind("\n", 0, pos) + 1) + 1


class _Parser:
    def __init__(self, source: str):
        self.src = source
        self.pos = 0
        self.macros: dict[str, Macro] = {}

    def error(self, message: str, pos: int | None = None) -> VtlError:
        line, column = _position(self.src, self.pos if pos is None else pos)
        return VtlError(message, line=line, column=column)

    def parse(self) -> Template:
        nodes, end, end_pos = self.block(quote=None)
        if end is not None:
            raise self.error(f"#{end} without a matching #if or #foreach", end_pos)
        return Template(self.src, nodes, dict(self.macros))

    # -- text mode ------------------------------------------------------------------------

    def block(self, quote: str | None) -> tuple[tuple[Any, ...], str | None, int]:
        """Parse until EOF, a closing quote (inside a string) or #end/#else/#elseif."""
        src = self.src
        parts: list[Any] = []

        def add_text(text: str) -> None:
            if parts and isinstance(parts[-1], str):
                parts[-1] += text
            else:
                parts.append(text)

        special = "$#\\" + (quote or "")
        while True:
            start = self.pos
            while self.pos < len(src) and src[self.pos] not in special:
                self.pos += 1
            if self.pos > start:
                add_text(src[start : self.pos])
            if self.pos >= len(src):
                if quote is not None:
                    raise self.error("string literal is not closed", start)
                return _freeze(parts), None, self.pos
            char = src[self.pos]
            if char == quote:
                if src.startswith(quote * 2, self.pos):
                    add_text(quote)
                    self.pos += 2
                    continue
                self.pos += 1
                return _freeze(parts), None, self.pos
            if char == "\\":
                self.backslashes(parts, add_text, quote)
            elif char == "$":
                ref = self.reference(in_text=True)
                if ref is None:
                    add_text("$")
                    self.pos += 1
                else:
                    parts.append(Output(*ref))
            else:
                end = self.hash(parts, add_text, quote)
                if end is not None:
                    return _freeze(parts), end[0], end[1]

    def backslashes(self, parts: list[Any], add_text: Callable[[str], None], quote: str | None):
        src = self.src
        start = self.pos
        while self.pos < len(src) and src[self.pos] == "\\":
            self.pos += 1
        count = self.pos - start
        if self.pos < len(src) and src[self.pos] == "$":
            ref = self.reference(in_text=True)
            if ref is not None:
                parts.append(EscapedOutput(count, *ref))
                return
            add_text("\\" * count)
            return
        if self.pos < len(src) and src[self.pos] == "#":
            match = _DIRECTIVE.match(src, self.pos)
            name = match and (match.group(1) or match.group(2))
            if name and (name in _DIRECTIVES or name in _BLOCK_ENDS):
                add_text("\\" * (count // 2))
                if count % 2:
                    add_text(match.group(0))
                    self.pos = match.end()
                return
        if quote is not None and self.pos < len(src) and src[self.pos] == quote and count % 2:
            add_text("\\" * count + quote)
            self.pos += 1
            return
        add_text("\\" * count)

    def hash(
        self, parts: list[Any], add_text: Callable[[str], None], quote: str | None
    ) -> tuple[str, int] | None:
        """Handle '#' at the cursor; return (name, pos) when it is #end, #else or #elseif."""
        src = self.src
        start = self.pos
        if src.startswith("##", start):
            newline = src.find("\n", start)
            self.pos = len(src) if newline < 0 else newline + 1
            return None
        if src.startswith("#*", start):
            close = src.find("*#", start + 2)
            if close < 0:
                raise self.error("comment #* is not closed with *#", start)
            self.pos = close + 2
            return None
        if src.startswith("#[[", start):
            close = src.find("]]#", start + 3)
            if close < 0:
                raise self.error("literal block #[[ is not closed with ]]#", start)
            add_text(src[start + 3 : close])
            self.pos = close + 3
            return None
        match = _DIRECTIVE.match(src, start)
        if match is None:
            add_text("#")
            self.pos += 1
            return None
        name = match.group(1) or match.group(2)
        if name in _BLOCK_ENDS:
            self.pos = match.end()
            if name != "elseif":
                self.eat_line_end()
            return name, start
        directive = _DIRECTIVES.get(name)
        if directive is not None:
            self.pos = match.end()
            directive(self, parts, start, quote)
            return None
        if name in _UNSUPPORTED:
            raise self.error(f"#{name} is not available in API Gateway mapping templates", start)
        if src.startswith("(", match.end()):
            # Velocity 1.7 knows a macro only once its #macro has been parsed.
            if name not in self.macros:
                raise self.error(f"unknown directive or macro #{name}", start)
            self.pos = match.end()
            parts.append(MacroCall(name, self.macro_args(), start))
            self.eat_line_end()
            return None
        add_text("#")
        self.pos += 1
        return None

    def eat_line_end(self) -> None:
        match = _LINE_END.match(self.src, self.pos)
        if match:
            self.pos = match.end()

    def body(
        self, opener: str, opener_pos: int, quote: str | None, ends: set[str]
    ) -> tuple[tuple[Any, ...], str]:
        nodes, end, end_pos = self.block(quote)
        if end is None:
            raise self.error(f"#{opener} has no matching #end", opener_pos)
        if end not in ends:
            raise self.error(f"#{end} is not allowed inside #{opener}", end_pos)
        return nodes, end

    # -- directives -----------------------------------------------------------------------

    def open_paren(self, name: str, start: int) -> None:
        self.skip_space()
        if not self.src.startswith("(", self.pos):
            raise self.error(f"#{name} needs '(' after it", start)
        self.pos += 1

    def close_paren(self, name: str) -> None:
        self.skip_space()
        if not self.src.startswith(")", self.pos):
            raise self.error(f"expected ')' to close #{name}")
        self.pos += 1
        self.eat_line_end()

    def directive_set(self, parts: list[Any], start: int, quote: str | None) -> None:
        if parts and isinstance(parts[-1], str):
            parts[-1] = parts[-1].rstrip(" \t")
        self.open_paren("set", start)
        self.skip_space()
        if not self.src.startswith("$", self.pos):
            raise self.error("#set needs a reference to assign, like #set($name = ...)")
        target = self.reference(in_text=False)[0]
        self.skip_space()
        if not self.src.startswith("=", self.pos) or self.src.startswith("==", self.pos):
            raise self.error("expected '=' in #set")
        self.pos += 1
        value = self.expression()
        self.close_paren("set")
        parts.append(SetDirective(target, value))

    def directive_if(self, parts: list[Any], start: int, quote: str | None) -> None:
        branches = []
        otherwise: tuple[Any, ...] = ()
        name, name_pos = "if", start
        while True:
            self.open_paren(name, name_pos)
            condition = self.expression()
            self.close_paren(name)
            body, end = self.body("if", start, quote, {"end", "else", "elseif"})
            branches.append((condition, body))
            if end == "elseif":
                name, name_pos = "elseif", self.pos
                continue
            if end == "else":
                otherwise, _ = self.body("if", start, quote, {"end"})
            break
        parts.append(IfDirective(tuple(branches), otherwise))

    def directive_foreach(self, parts: list[Any], start: int, quote: str | None) -> None:
        self.open_paren("foreach", start)
        self.skip_space()
        if not self.src.startswith("$", self.pos):
            raise self.error("#foreach needs a loop variable, like #foreach($item in $list)")
        self.pos += 1
        self.pos += self.src.startswith("{", self.pos)
        match = _IDENTIFIER.match(self.src, self.pos)
        if match is None:
            raise self.error("#foreach needs a loop variable name")
        self.pos = match.end()
        self.pos += self.src.startswith("}", self.pos)
        self.skip_space()
        if not _IN.match(self.src, self.pos):
            raise self.error("expected 'in' in #foreach")
        self.pos += 2
        iterable = self.expression()
        self.close_paren("foreach")
        body, _ = self.body("foreach", start, quote, {"end"})
        parts.append(ForeachDirective(match.group(0), iterable, body))

    def directive_break(self, parts: list[Any], start: int, quote: str | None) -> None:
        if self.src.startswith("(", self.pos):
            self.pos += 1
            self.expression()
            self.close_paren("break")
        else:
            self.eat_line_end()
        parts.append(BreakDirective())

    def directive_stop(self, parts: list[Any], start: int, quote: str | None) -> None:
        self.eat_line_end()
        parts.append(StopDirective())

    def directive_define(self, parts: list[Any], start: int, quote: str | None) -> None:
        self.open_paren("define", start)
        self.skip_space()
        match = _NAMED_REFERENCE.match(self.src, self.pos)
        if match is None:
            raise self.error("#define needs a reference name, like #define($block)")
        self.pos = match.end()
        self.close_paren("define")
        body, _ = self.body("define", start, quote, {"end"})
        parts.append(DefineDirective(match.group(1), body))

    def directive_macro(self, parts: list[Any], start: int, quote: str | None) -> None:
        self.open_paren("macro", start)
        self.skip_space()
        match = _IDENTIFIER.match(self.src, self.pos)
        if match is None:
            raise self.error("#macro needs a name, like #macro(name $arg)")
        self.pos = match.end()
        params = []
        while True:
            self.skip_space()
            if self.src.startswith(",", self.pos):
                self.pos += 1
                continue
            param = _NAMED_REFERENCE.match(self.src, self.pos)
            if param is None:
                break
            params.append(param.group(1))
            self.pos = param.end()
        self.close_paren("macro")
        body, _ = self.body("macro", start, quote, {"end"})
        self.macros[match.group(0)] = Macro(match.group(0), tuple(params), body)

    def macro_args(self) -> tuple[Any, ...]:
        self.pos += 1
        args = []
        while True:
            self.skip_space()
            if self.src.startswith(")", self.pos):
                self.pos += 1
                return tuple(args)
            if self.src.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.pos >= len(self.src):
                raise self.error("expected ')' to close the macro call")
            args.append(self.expression())

    # -- references -----------------------------------------------------------------------

    def reference(self, *, in_text: bool) -> tuple[Ref, bool] | None:
        """Parse `$[!][{]name(.prop|.method(args)|[index])*[}]`; None in text if not one."""
        src = self.src
        start = self.pos
        pos = start + 1
        quiet = src.startswith("!", pos)
        pos += quiet
        braced = src.startswith("{", pos)
        pos += braced
        match = _IDENTIFIER.match(src, pos)
        if match is None:
            if in_text:
                return None
            raise self.error("expected a reference name after '$'", start)
        self.pos = match.end()
        accessors: list[Property | Call | Index] = []
        while self.pos < len(src):
            char = src[self.pos]
            if char == "." and (member := _IDENTIFIER.match(src, self.pos + 1)):
                name = member.group(0)
                self.pos = member.end()
                if src.startswith("(", self.pos):
                    accessors.append(Call(name, self.call_args(), member.start()))
                else:
                    accessors.append(Property(name))
            elif char == "[":
                index_pos = self.pos
                try:
                    self.pos += 1
                    key = self.expression()
                    self.expect("]")
                except VtlError:
                    if not in_text:
                        raise
                    self.pos = index_pos  # in text, "$name[" not followed by an index is text
                    break
                accessors.append(Index(key, index_pos))
            else:
                break
        if braced:
            if not src.startswith("}", self.pos):
                raise self.error("expected '}' to close ${...}", start)
            self.pos += 1
        return Ref(match.group(0), tuple(accessors), src[start : self.pos], start), quiet

    def call_args(self) -> tuple[Any, ...]:
        self.pos += 1
        args = []
        self.skip_space()
        if self.src.startswith(")", self.pos):
            self.pos += 1
            return ()
        while True:
            args.append(self.expression())
            self.skip_space()
            if self.src.startswith(",", self.pos):
                self.pos += 1
                continue
            if self.src.startswith(")", self.pos):
                self.pos += 1
                return tuple(args)
            raise self.error("expected ',' or ')' in the method's arguments")

    # -- expressions ----------------------------------------------------------------------

    def skip_space(self) -> None:
        src = self.src
        while self.pos < len(src) and src[self.pos] in " \t\r\n":
            self.pos += 1

    def operator(self, *symbols: str) -> str | None:
        """Consume one of `symbols` (or its word form) at the cursor and return its symbol.

        `symbols` lists longer operators first, so "<" is only tried where "<=" is not.
        """
        self.skip_space()
        src = self.src
        word = _WORD.match(src, self.pos)
        if word and _WORD_OPERATORS.get(word.group(0)) in symbols:
            self.pos = word.end()
            return _WORD_OPERATORS[word.group(0)]
        for symbol in symbols:
            if src.startswith(symbol, self.pos) and not (
                symbol == "!" and src.startswith("!=", self.pos)
            ):
                self.pos += len(symbol)
                return symbol
        return None

    def expression(self) -> Any:
        return self.binary_level(0)

    _LEVELS = (("||",), ("&&",), ("==", "!="), ("<=", ">=", "<", ">"), ("+", "-"), ("*", "/", "%"))

    def binary_level(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary_level(level + 1)
        while True:
            op_pos = self.pos
            op = self.operator(*self._LEVELS[level])
            if op is None:
                return left
            right = self.binary_level(level + 1)
            left = Binary(op, left, right, op_pos)

    def unary(self) -> Any:
        op_pos = self.pos
        op = self.operator("!", "-")
        if op is not None:
            return Unary(op, self.unary(), op_pos)
        return self.primary()

    def primary(self) -> Any:
        self.skip_space()
        src = self.src
        start = self.pos
        if start >= len(src):
            raise self.error("expected an expression but the template ended")
        char = src[start]
        if char == "$":
            return self.reference(in_text=False)[0]
        if char == "(":
            self.pos += 1
            value = self.expression()
            self.skip_space()
            if not src.startswith(")", self.pos):
                raise self.error("expected ')'")
            self.pos += 1
            return value
        if char == "'":
            return Literal(self.single_quoted())
        if char == '"':
            self.pos += 1
            nodes, _, _ = self.block(quote='"')
            if all(isinstance(node, Text) for node in nodes):
                return Literal("".join(node.text for node in nodes))
            return Interpolated(nodes)
        if char == "[":
            return self.list_or_range()
        if char == "{":
            return self.map_literal()
        number = _NUMBER.match(src, start)
        if number:
            self.pos = number.end()
            text = number.group(0)
            return Literal(float(text) if number.group(1) else int(text))
        word = _WORD.match(src, start)
        if word and word.group(0) in ("true", "false", "null"):
            self.pos = word.end()
            return Literal({"true": True, "false": False, "null": None}[word.group(0)])
        found = word.group(0) if word else src[start]
        raise self.error(f"expected an expression, found {found!r}")

    def single_quoted(self) -> str:
        src = self.src
        start = self.pos
        self.pos += 1
        chunks = []
        while True:
            end = src.find("'", self.pos)
            if end < 0:
                raise self.error("string literal is not closed", start)
            if src.startswith("''", end):
                chunks.append(src[self.pos : end + 1])
                self.pos = end + 2
                continue
            chunks.append(src[self.pos : end])
            self.pos = end + 1
            return "".join(chunks)

    def list_or_range(self) -> Any:
        start = self.pos
        self.pos += 1
        self.skip_space()
        if self.src.startswith("]", self.pos):
            self.pos += 1
            return ListLiteral(())
        first = self.expression()
        self.skip_space()
        if self.src.startswith("..", self.pos):
            self.pos += 2
            last = self.expression()
            self.expect("]")
            return RangeLiteral(first, last, start)
        items = [first]
        while True:
            self.skip_space()
            if self.src.startswith(",", self.pos):
                self.pos += 1
                items.append(self.expression())
                continue
            self.expect("]")
            return ListLiteral(tuple(items))

    def map_literal(self) -> Any:
        self.pos += 1
        entries = []
        self.skip_space()
        if self.src.startswith("}", self.pos):
            self.pos += 1
            return MapLiteral(())
        while True:
            key = self.expression()
            self.expect(":")
            entries.append((key, self.expression()))
            self.skip_space()
            if self.src.startswith(",", self.pos):
                self.pos += 1
                continue
            self.expect("}")
            return MapLiteral(tuple(entries))

    def expect(self, token: str) -> None:
        self.skip_space()
        if not self.src.startswith(token, self.pos):
            raise self.error(f"expected {token!r}")
        self.pos += len(token)


_DIRECTIVES: dict[str, Callable[[_Parser, list[Any], int, str | None], None]] = {
    "set": _Parser.directive_set,
    "if": _Parser.directive_if,
    "foreach": _Parser.directive_foreach,
    "break": _Parser.directive_break,
    "stop": _Parser.directive_stop,
    "define": _Parser.directive_define,
    "macro": _Parser.directive_macro,
}


def _freeze(parts: list[Any]) -> tuple[Any, ...]:
    return tuple(Text(part) if isinstance(part, str) else part for part in parts if part != "")


@lru_cache(maxsize=256)
def parse(template: str) -> Template:
    """Parse a template (cached: a REST API renders the same few templates on every request)."""
    return _Parser(template).parse()


# ---------------------------------------------------------------------------------------------
# Java's view of Python values.


class JsonArray(list):
    """A JSON array read by JSONPath: as in API Gateway, its text is JSON, not Java's `[a, b]`."""

    def __str__(self) -> str:
        return _to_json(self)


@dataclass(slots=True)
class _MapEntry:
    key: Any
    value: Any

    def getKey(self) -> Any:  # noqa: N802 - Java's Map.Entry method names
        return self.key

    def getValue(self) -> Any:  # noqa: N802
        return self.value

    def __str__(self) -> str:
        return f"{java_str(self.key)}={java_str(self.value)}"


def java_str(value: Any) -> str:
    """What Java's `String.valueOf` gives for the value a template sees."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _java_double(value)
    if isinstance(value, str | int):
        return str(value)
    if isinstance(value, JsonArray):
        return _to_json(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(java_str(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{java_str(k)}={java_str(v)}" for k, v in value.items()) + "}"
    return str(value)


def _java_double(value: float) -> str:
    """Java's Double.toString: positional from 10^-3 to 10^7, else like 1.0E20."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0 or 1e-3 <= abs(value) < 1e7:
        return repr(value)
    shortest = Decimal(repr(value))
    digits = "".join(map(str, shortest.as_tuple().digits)).rstrip("0") or "0"
    sign = "-" if value < 0 else ""
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{shortest.adjusted()}"


def _to_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=java_str)


def _json_view(value: Any) -> Any:
    """JSON data as a template sees it: objects are maps, arrays are JsonArrays."""
    if isinstance(value, dict):
        return {key: _json_view(item) for key, item in value.items()}
    if isinstance(value, list):
        return JsonArray(_json_view(item) for item in value)
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _java_equals(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return left is right
    if _is_number(left) and _is_number(right):
        return left == right
    if type(left) is type(right) or (isinstance(left, list) and isinstance(right, list)):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left == right
    # Velocity compares the strings of values of different classes.
    return java_str(left) == java_str(right)


_NO_METHOD = object()


def _int_arg(value: Any) -> int:
    if not _is_number(value) or int(value) != value:
        raise TypeError(f"expected an integer, got {java_str(value)}")
    return int(value)


def _java_substring(text: str, begin: Any, end: Any = None) -> str:
    begin = _int_arg(begin)
    end = len(text) if end is None else _int_arg(end)
    if begin < 0 or end > len(text) or begin > end:
        raise IndexError(f"begin {begin}, end {end}, length {len(text)}")
    return text[begin:end]


def _java_regex(pattern: Any) -> re.Pattern[str]:
    try:
        return re.compile(str(pattern))
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc


def _java_replacement(replacement: str) -> Callable[[re.Match[str]], str]:
    """Java's replacement syntax: `$1` is a group, a backslash quotes the next character."""

    def expand(match: re.Match[str]) -> str:
        out = []
        i = 0
        while i < len(replacement):
            char = replacement[i]
            if char == "\\" and i + 1 < len(replacement):
                out.append(replacement[i + 1])
                i += 2
            elif char == "$":
                digits = re.compile(r"\d+").match(replacement, i + 1)
                if digits is None:
                    raise ValueError("illegal group reference in the replacement")
                out.append(match.group(int(digits.group(0))) or "")
                i = digits.end()
            else:
                out.append(char)
                i += 1
        return "".join(out)

    return expand


def _java_split(text: str, pattern: Any, limit: Any = 0) -> list[str]:
    limit = _int_arg(limit)
    parts: list[str] = []
    last = 0
    for match in _java_regex(pattern).finditer(text):
        if match.end() == 0:
            continue  # a zero-width match at the start never yields a leading empty string
        if 0 < limit <= len(parts) + 1:
            break
        parts.append(text[last : match.start()])
        last = match.end()
    if not parts:
        return [text]
    parts.append(text[last:])
    if limit == 0:
        while parts and parts[-1] == "":
            parts.pop()
    return parts


def _java_trim(text: str) -> str:
    return text.strip("".join(chr(code) for code in range(33)))


_STRING_METHODS: dict[tuple[str, int], Callable[..., Any]] = {
    ("length", 0): len,
    ("isEmpty", 0): lambda s: not s,
    ("charAt", 1): lambda s, i: s[_list_index(s, i)],
    ("substring", 1): _java_substring,
    ("substring", 2): _java_substring,
    ("indexOf", 1): lambda s, sub: s.find(java_str(sub)),
    ("indexOf", 2): lambda s, sub, start: s.find(java_str(sub), max(_int_arg(start), 0)),
    ("lastIndexOf", 1): lambda s, sub: s.rfind(java_str(sub)),
    ("contains", 1): lambda s, sub: java_str(sub) in s,
    ("startsWith", 1): lambda s, prefix: s.startswith(java_str(prefix)),
    ("endsWith", 1): lambda s, suffix: s.endswith(java_str(suffix)),
    ("equals", 1): lambda s, other: isinstance(other, str) and s == other,
    ("equalsIgnoreCase", 1): lambda s, o: isinstance(o, str) and s.lower() == o.lower(),
    ("compareTo", 1): lambda s, other: (s > other) - (s < other),
    ("toLowerCase", 0): str.lower,
    ("toUpperCase", 0): str.upper,
    ("trim", 0): _java_trim,
    ("concat", 1): lambda s, other: s + java_str(other),
    ("replace", 2): lambda s, old, new: s.replace(java_str(old), java_str(new)),
    ("replaceAll", 2): lambda s, p, r: _java_regex(p).sub(_java_replacement(java_str(r)), s),
    ("replaceFirst", 2): lambda s, p, r: _java_regex(p).sub(
        _java_replacement(java_str(r)), s, count=1
    ),
    ("matches", 1): lambda s, p: _java_regex(p).fullmatch(s) is not None,
    ("split", 1): _java_split,
    ("split", 2): _java_split,
    ("toString", 0): lambda s: s,
}


def _list_remove(items: list[Any], item: Any) -> Any:
    if _is_number(item) and isinstance(item, int):
        return items.pop(_list_index(items, item))
    for position, candidate in enumerate(items):
        if _java_equals(candidate, item):
            del items[position]
            return True
    return False


def _list_index(items: Sequence[Any], index: Any) -> int:
    index = _int_arg(index)
    if not 0 <= index < len(items):
        raise IndexError(f"index {index} out of bounds for length {len(items)}")
    return index


def _list_set(items: list[Any], index: Any, value: Any) -> Any:
    position = _list_index(items, index)
    previous, items[position] = items[position], value
    return previous


def _list_insert(items: list[Any], index: Any, value: Any) -> None:
    index = _int_arg(index)
    if not 0 <= index <= len(items):
        raise IndexError(f"index {index} out of bounds for length {len(items)}")
    items.insert(index, value)


def _index_of(items: Sequence[Any], item: Any) -> int:
    return next((i for i, candidate in enumerate(items) if _java_equals(candidate, item)), -1)


_LIST_METHODS: dict[tuple[str, int], Callable[..., Any]] = {
    ("size", 0): len,
    ("isEmpty", 0): lambda items: not items,
    ("get", 1): lambda items, i: items[_list_index(items, i)],
    ("contains", 1): lambda items, item: _index_of(items, item) >= 0,
    ("indexOf", 1): _index_of,
    ("add", 1): lambda items, item: items.append(item) or True,
    ("add", 2): _list_insert,
    ("addAll", 1): lambda items, more: items.extend(more) or True,
    ("remove", 1): _list_remove,
    ("set", 2): _list_set,
    ("clear", 0): lambda items: items.clear(),
    ("subList", 2): lambda items, a, b: items[_int_arg(a) : _int_arg(b)],
    ("equals", 1): lambda items, other: isinstance(other, list) and items == other,
    ("toString", 0): java_str,
}


def _map_put(mapping: dict[Any, Any], key: Any, value: Any) -> Any:
    previous = mapping.get(key)
    mapping[key] = value
    return previous


_MAP_METHODS: dict[tuple[str, int], Callable[..., Any]] = {
    ("size", 0): len,
    ("isEmpty", 0): lambda mapping: not mapping,
    ("get", 1): lambda mapping, key: mapping.get(key),
    ("getOrDefault", 2): lambda mapping, key, default: mapping.get(key, default),
    ("containsKey", 1): lambda mapping, key: key in mapping,
    ("containsValue", 1): lambda mapping, value: _index_of(list(mapping.values()), value) >= 0,
    ("put", 2): _map_put,
    ("putAll", 1): lambda mapping, more: mapping.update(more),
    ("remove", 1): lambda mapping, key: mapping.pop(key, None),
    ("clear", 0): lambda mapping: mapping.clear(),
    ("keySet", 0): lambda mapping: list(mapping),
    ("values", 0): lambda mapping: list(mapping.values()),
    ("entrySet", 0): lambda mapping: [_MapEntry(k, v) for k, v in mapping.items()],
    ("equals", 1): lambda mapping, other: isinstance(other, dict) and mapping == other,
    ("toString", 0): java_str,
}

_NUMBER_METHODS: dict[tuple[str, int], Callable[..., Any]] = {
    ("intValue", 0): int,
    ("longValue", 0): int,
    ("doubleValue", 0): float,
    ("floatValue", 0): float,
    ("toString", 0): java_str,
    ("equals", 1): lambda n, other: _is_number(other) and type(n) is type(other) and n == other,
    ("compareTo", 1): lambda n, other: (n > other) - (n < other),
}

_BOOLEAN_METHODS: dict[tuple[str, int], Callable[..., Any]] = {
    ("booleanValue", 0): lambda b: b,
    ("toString", 0): java_str,
    ("equals", 1): lambda b, other: isinstance(other, bool) and b == other,
}


def _java_methods(value: Any) -> dict[tuple[str, int], Callable[..., Any]] | None:
    if isinstance(value, str):
        return _STRING_METHODS
    if isinstance(value, bool):
        return _BOOLEAN_METHODS
    if isinstance(value, int | float):
        return _NUMBER_METHODS
    if isinstance(value, list):
        return _LIST_METHODS
    if isinstance(value, dict):
        return _MAP_METHODS
    return None


def _invoke(target: Any, name: str, args: list[Any]) -> Any:
    methods = _java_methods(target)
    if methods is not None:
        method = methods.get((name, len(args)))
        return _NO_METHOD if method is None else method(target, *args)
    if name.startswith("_"):
        return _NO_METHOD
    attribute = getattr(target, name, _NO_METHOD)
    if callable(attribute):
        return attribute(*args)
    if attribute is not _NO_METHOD and not args:
        return attribute  # a property called like Java's getter, e.g. $foreach.hasNext()
    return _NO_METHOD


def _property(target: Any, name: str) -> Any:
    """Velocity's property lookup: a map's key, else a getter `getName()` / `isName()`."""
    if isinstance(target, dict):
        return target.get(name)
    capitalized = name[:1].upper() + name[1:]
    methods = _java_methods(target)
    if methods is not None:
        for getter in (f"get{capitalized}", f"is{capitalized}"):
            method = methods.get((getter, 0))
            if method is not None:
                return method(target)
        return None
    if name.startswith("_"):
        return None
    attribute = getattr(target, name, None)
    if attribute is not None and not callable(attribute):
        return attribute
    for getter in (f"get{capitalized}", f"is{capitalized}"):
        method = getattr(target, getter, None)
        if callable(method):
            return method()
    return None


# ---------------------------------------------------------------------------------------------
# Evaluation.


class _Break(Exception):  # noqa: N818 - control flow, not an error
    pass


class _Stop(Exception):  # noqa: N818
    pass


class LoopState:
    """`$foreach`: where a #foreach loop stands."""

    def __init__(self, items: Sequence[Any], parent: LoopState | None):
        self._items = items
        self.index = -1
        self.parent = parent

    @property
    def count(self) -> int:
        return self.index + 1

    @property
    def hasNext(self) -> bool:  # noqa: N802 - the name templates use
        return self.index < len(self._items) - 1

    @property
    def first(self) -> bool:
        return self.index == 0

    @property
    def last(self) -> bool:
        return not self.hasNext


class _DefinedBlock:
    """A #define'd block: rendered, with the variables of the moment, each time it is used."""

    def __init__(self, renderer: _Renderer, body: tuple[Any, ...]):
        self._renderer = renderer
        self._body = body

    def __str__(self) -> str:
        out: list[str] = []
        self._renderer.render_nodes(self._body, out)
        return "".join(out)


_MISSING = object()


class _Renderer:
    def __init__(self, template: Template, variables: Mapping[str, Any], *, quiet_nulls: bool):
        self.template = template
        self.context: dict[str, Any] = dict(variables)
        self.quiet_nulls = quiet_nulls

    def error(self, message: str, pos: int) -> VtlError:
        line, column = _position(self.template.source, pos)
        return VtlError(message, line=line, column=column)

    def render(self) -> str:
        out: list[str] = []
        with contextlib.suppress(_Stop, _Break):
            self.render_nodes(self.template.nodes, out)
        return "".join(out)

    def render_nodes(self, nodes: Sequence[Any], out: list[str]) -> None:
        for node in nodes:
            kind = type(node)
            if kind is Text:
                out.append(node.text)
            elif kind is Output:
                value = self.evaluate(node.ref)
                if value is not None:
                    out.append(java_str(value))
                elif not (node.quiet or self.quiet_nulls):
                    out.append(node.ref.source)
            elif kind is SetDirective:
                self.assign(node.target, self.evaluate(node.value))
            elif kind is IfDirective:
                self.render_if(node, out)
            elif kind is ForeachDirective:
                self.render_foreach(node, out)
            elif kind is EscapedOutput:
                self.render_escaped(node, out)
            elif kind is DefineDirective:
                self.context[node.name] = _DefinedBlock(self, node.body)
            elif kind is MacroCall:
                self.render_macro(node, out)
            elif kind is BreakDirective:
                raise _Break
            elif kind is StopDirective:
                raise _Stop

    def render_escaped(self, node: EscapedOutput, out: list[str]) -> None:
        value = self.evaluate(node.ref)
        if value is None:
            out.append("\\" * node.backslashes + node.ref.source)
            return
        out.append("\\" * (node.backslashes // 2))
        if node.backslashes % 2:
            out.append(node.ref.source)
        else:
            out.append(java_str(value))

    def render_if(self, node: IfDirective, out: list[str]) -> None:
        for condition, body in node.branches:
            if _truthy(self.evaluate(condition)):
                self.render_nodes(body, out)
                return
        self.render_nodes(node.otherwise, out)

    def render_foreach(self, node: ForeachDirective, out: list[str]) -> None:
        iterable = self.evaluate(node.iterable)
        if isinstance(iterable, dict):
            items: list[Any] = list(iterable.values())  # Velocity iterates a map's values
        elif isinstance(iterable, list | tuple):
            items = list(iterable)
        else:
            items = []  # null or not a collection: no iterations, as in Velocity
        saved = {
            name: self.context.get(name, _MISSING)
            for name in (node.variable, "foreach", "velocityCount")
        }
        parent = saved["foreach"]
        state = LoopState(items, parent if isinstance(parent, LoopState) else None)
        self.context["foreach"] = state
        try:
            for item in items:
                state.index += 1
                self.context[node.variable] = item
                self.context["velocityCount"] = state.count
                try:
                    self.render_nodes(node.body, out)
                except _Break:
                    break
        finally:
            for name, value in saved.items():
                if value is _MISSING:
                    self.context.pop(name, None)
                else:
                    self.context[name] = value

    def render_macro(self, node: MacroCall, out: list[str]) -> None:
        macro = self.template.macros[node.name]
        if len(node.args) > len(macro.params):
            raise self.error(
                f"#{node.name} takes {len(macro.params)} arguments, got {len(node.args)}", node.pos
            )
        values = [self.evaluate(arg) for arg in node.args]
        saved = {name: self.context.get(name, _MISSING) for name in macro.params}
        for name, value in zip(macro.params, values, strict=False):
            self.context[name] = value
        try:
            self.render_nodes(macro.body, out)
        finally:
            for name, value in saved.items():
                if value is _MISSING:
                    self.context.pop(name, None)
                else:
                    self.context[name] = value

    def assign(self, target: Ref, value: Any) -> None:
        # Velocity 1.7 leaves the left side unchanged when the right side is null.
        if value is None:
            return
        if not target.accessors:
            self.context[target.name] = value
            return
        owner = self.resolve(target.name, target.accessors[:-1])
        if owner is None:
            return
        last = target.accessors[-1]
        if isinstance(last, Property):
            if isinstance(owner, dict):
                owner[last.name] = value
                return
            raise self.error(f"cannot set {last.name} on {java_str(owner)}", target.pos)
        if isinstance(last, Index):
            key = self.evaluate(last.key)
            try:
                if isinstance(owner, dict):
                    owner[key] = value
                elif isinstance(owner, list):
                    _list_set(owner, key, value)
                else:
                    raise TypeError(f"{java_str(owner)} cannot be indexed")
            except (TypeError, IndexError) as exc:
                raise self.error(str(exc), last.pos) from exc
            return
        raise self.error("#set cannot assign to a method call", target.pos)

    def resolve(self, name: str, accessors: Sequence[Property | Call | Index]) -> Any:
        value = self.context.get(name)
        for accessor in accessors:
            if value is None:
                return None
            if isinstance(accessor, Property):
                value = _property(value, accessor.name)
            elif isinstance(accessor, Call):
                args = [self.evaluate(arg) for arg in accessor.args]
                try:
                    value = _invoke(value, accessor.name, args)
                except VtlError as exc:
                    if exc.line is not None:
                        raise
                    raise self.error(f"{accessor.name}() failed: {exc}", accessor.pos) from exc
                except Exception as exc:
                    raise self.error(f"{accessor.name}() failed: {exc}", accessor.pos) from exc
                if value is _NO_METHOD:
                    value = None  # Velocity: an unknown method makes the reference null
            else:
                value = self.index(value, self.evaluate(accessor.key), accessor.pos)
        return value

    def index(self, value: Any, key: Any, pos: int) -> Any:
        if isinstance(value, dict):
            return value.get(key)
        if isinstance(value, list | tuple):
            try:
                return value[_list_index(value, key)]
            except (TypeError, IndexError) as exc:
                raise self.error(str(exc), pos) from exc
        return None

    def evaluate(self, node: Any) -> Any:
        kind = type(node)
        if kind is Literal:
            return node.value
        if kind is Ref:
            return self.resolve(node.name, node.accessors)
        if kind is Interpolated:
            out: list[str] = []
            self.render_nodes(node.nodes, out)
            return "".join(out)
        if kind is Binary:
            return self.binary(node)
        if kind is Unary:
            operand = self.evaluate(node.operand)
            if node.op == "!":
                return not _truthy(operand)
            if _is_number(operand):
                return -operand
            return None
        if kind is ListLiteral:
            return [self.evaluate(item) for item in node.items]
        if kind is MapLiteral:
            return {self.evaluate(key): self.evaluate(value) for key, value in node.entries}
        if kind is RangeLiteral:
            start, end = self.evaluate(node.start), self.evaluate(node.end)
            try:
                start, end = _int_arg(start), _int_arg(end)
            except TypeError as exc:
                raise self.error(f"range bounds must be integers: {exc}", node.pos) from exc
            step = 1 if end >= start else -1
            return list(range(start, end + step, step))
        raise self.error(f"cannot evaluate {kind.__name__}", 0)

    def binary(self, node: Binary) -> Any:
        op = node.op
        if op == "&&":
            return _truthy(self.evaluate(node.left)) and _truthy(self.evaluate(node.right))
        if op == "||":
            return _truthy(self.evaluate(node.left)) or _truthy(self.evaluate(node.right))
        left, right = self.evaluate(node.left), self.evaluate(node.right)
        if op == "==":
            return _java_equals(left, right)
        if op == "!=":
            return not _java_equals(left, right)
        if op in ("<", ">", "<=", ">="):
            return _compare(op, left, right)
        if op == "+" and (isinstance(left, str) or isinstance(right, str)):
            if left is None or right is None:
                return None
            return java_str(left) + java_str(right)
        if not (_is_number(left) and _is_number(right)):
            return None  # Velocity logs and yields null for arithmetic on non-numbers
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if right == 0:
            return None  # Velocity yields null on division by zero
        if isinstance(left, int) and isinstance(right, int):
            quotient = abs(left) // abs(right) * (1 if (left >= 0) == (right >= 0) else -1)
            return quotient if op == "/" else left - right * quotient
        return left / right if op == "/" else math.fmod(left, right)


def _truthy(value: Any) -> bool:
    """Velocity 1.7: null and false are false; every other value, even "", is true."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    return True


def _compare(op: str, left: Any, right: Any) -> bool:
    if not (_is_number(left) and _is_number(right)) and not (
        isinstance(left, str) and isinstance(right, str)
    ):
        return False
    if op == "<":
        return left < right
    if op == ">":
        return left > right
    if op == "<=":
        return left <= right
    return left >= right


def render(template: str, variables: Mapping[str, Any], *, quiet_nulls: bool = False) -> str:
    """Render `template` with `variables` ({"input": ..., "util": ..., "context": ..., ...}).

    The top-level mapping is copied (a #set adds names to the copy only); the values are
    shared, so a template's `#set($context.responseOverride.status = 400)` is visible to the
    caller afterwards.

    A null reference renders as its source text, as Velocity does; `quiet_nulls=True` renders
    every null reference as if written `$!ref` (empty), which is how API Gateway is reported
    to render references to absent values such as `$context.authorizer.principalId`.
    """
    return _Renderer(parse(template), variables, quiet_nulls=quiet_nulls).render()


# ---------------------------------------------------------------------------------------------
# JSONPath: the subset mapping templates use ($, .name, ['name'], [n], [*], .*, ..name).

_PATH_STEP = re.compile(
    r"""\.\.(?P<deep>[A-Za-z_$][\w$-]*|\*)
      | \.(?P<name>[A-Za-z_$][\w$-]*)
      | \.\*(?P<star>)
      | \[\s*(?:'(?P<single>[^']*)'|"(?P<double>[^"]*)"|(?P<index>-?\d+)|(?P<all>\*))\s*\]
    """,
    re.VERBOSE,
)


def _select(document: Any, path: str) -> tuple[bool, Any]:
    """Apply a JSONPath; (found, value). Paths with wildcards give a JsonArray of matches."""
    path = path.strip()
    if not path.startswith("$"):
        raise ValueError(f"JSONPath {path!r} must start with '$'")
    matches = [document]
    definite = True
    pos = 1
    while pos < len(path):
        step = _PATH_STEP.match(path, pos)
        if step is None:
            raise ValueError(f"unsupported JSONPath {path!r} at {path[pos:]!r}")
        pos = step.end()
        key = next(
            (step.group(g) for g in ("name", "single", "double") if step.group(g) is not None),
            None,
        )
        if key is not None:
            matches = [m[key] for m in matches if isinstance(m, dict) and key in m]
        elif step.group("index") is not None:
            index = int(step.group("index"))
            matches = [
                m[index] for m in matches if isinstance(m, list) and -len(m) <= index < len(m)
            ]
        elif step.group("deep") is not None:
            definite = False
            matches = [found for m in matches for found in _descend(m, step.group("deep"))]
        else:
            definite = False
            matches = [child for m in matches for child in _children(m)]
    if definite:
        return (True, matches[0]) if matches else (False, None)
    return True, JsonArray(matches)


def select_json_path(document: Any, path: str) -> tuple[bool, Any]:
    """(found, value) of a JSONPath in a parsed JSON document, as `$input.path` selects it."""
    return _select(document, path)


def _children(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return list(value.values())
    if isinstance(value, list):
        return list(value)
    return []


def _descend(value: Any, key: str) -> Iterator[Any]:
    if isinstance(value, dict):
        if key == "*":
            yield from value.values()
        elif key in value:
            yield value[key]
    elif isinstance(value, list) and key == "*":
        yield from value
    for child in _children(value):
        yield from _descend(child, key)


# ---------------------------------------------------------------------------------------------
# API Gateway's variables.


class MappingTemplateInput:
    """`$input`: the payload (request body, or the integration's response) and the parameters."""

    def __init__(self, body: str, params: Mapping[str, Mapping[str, str]]):
        self._body = body
        self._params = params
        self._document: Any = _MISSING

    @property
    def body(self) -> str:
        # API Gateway gives "{}" for an empty payload, whatever its content type.
        return self._body or "{}"

    def _parsed(self) -> Any:
        if self._document is _MISSING:
            try:
                self._document = _json_view(json.loads(self.body))
            except ValueError as exc:
                raise ValueError(f"the payload is not valid JSON: {exc}") from exc
        return self._document

    def json(self, path: str = "$") -> str:
        """The JSON text of what the JSONPath selects; `""` when it selects nothing."""
        found, value = _select(self._parsed(), path)
        return _to_json(value if found else "")

    def path(self, path: str = "$") -> Any:
        """What the JSONPath selects, as a value the template can use further; null if nothing."""
        found, value = _select(self._parsed(), path)
        return value if found else None

    def params(self, name: str | None = None) -> Any:
        """All parameters, or one by name: path first, then query string, then header."""
        if name is None:
            return self._params
        for source in ("path", "querystring"):
            value = self._params[source].get(name)
            if value is not None:
                return value
        headers = self._params["header"]
        lowered = name.lower()
        return next((v for k, v in headers.items() if k.lower() == lowered), "")

    def __str__(self) -> str:
        return self.body


class MappingTemplateUtil:
    """`$util`: API Gateway's helper functions."""

    def escapeJavaScript(self, value: Any) -> str | None:  # noqa: N802 - API Gateway's names
        """JavaScript string escaping, as API Gateway does it (a quote becomes \\')."""
        if value is None:
            return None
        return _escape_javascript(java_str(value))

    def parseJson(self, text: Any) -> Any:  # noqa: N802
        try:
            return _json_view(json.loads(java_str(text)))
        except ValueError as exc:
            raise ValueError(f"not valid JSON: {exc}") from exc

    def urlEncode(self, text: Any) -> str:  # noqa: N802
        # Java's URLEncoder: '*' stays, '~' is encoded, a space becomes '+'.
        return quote_plus(java_str(text), safe="*").replace("~", "%7E")

    def urlDecode(self, text: Any) -> str:  # noqa: N802
        return unquote_plus(java_str(text))

    def base64Encode(self, text: Any) -> str:  # noqa: N802
        return base64.b64encode(java_str(text).encode()).decode()

    def base64Decode(self, text: Any) -> str:  # noqa: N802
        return base64.b64decode(java_str(text)).decode()


def _escape_javascript(text: str) -> str:
    out = []
    for unit in _utf16_units(text):
        if unit < 32:
            named = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(unit)
            out.append(named or f"\\u{unit:04X}")
        elif unit > 0x7F:
            out.append(f"\\u{unit:04X}")
        else:
            char = chr(unit)
            out.append("\\" + char if char in "'\"\\/" else char)
    return "".join(out)


def _utf16_units(text: str) -> Iterator[int]:
    data = text.encode("utf-16-be", "surrogatepass")
    for i in range(0, len(data), 2):
        yield data[i] << 8 | data[i + 1]


def apigateway_variables(
    *,
    body: str,
    path_parameters: Mapping[str, str],
    query_parameters: Mapping[str, str],
    headers: Mapping[str, str],
    context: Mapping[str, Any],
    stage_variables: Mapping[str, str],
) -> dict[str, Any]:
    """The variables API Gateway gives a mapping template: input, util, context, stageVariables.

    `context` is copied, with empty `requestOverride` / `responseOverride` maps added when
    absent, so a template can `#set($context.responseOverride.status = 404)`; read the
    overrides back from the returned `["context"]` after rendering.
    """
    params = {
        "path": dict(path_parameters),
        "querystring": dict(query_parameters),
        "header": dict(headers),
    }
    context_copy = copy.deepcopy(dict(context))
    context_copy.setdefault("requestOverride", {"header": {}, "path": {}, "querystring": {}})
    context_copy.setdefault("responseOverride", {"header": {}})
    return {
        "input": MappingTemplateInput(body, params),
        "util": MappingTemplateUtil(),
        "context": context_copy,
        "stageVariables": dict(stage_variables),
    }
