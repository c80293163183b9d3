"""CloudWatch Logs filter patterns: does a log event's message match a pattern?

Three kinds of pattern, as `FilterLogEvents`, metric filters and subscription filters read
them (matching is case-sensitive):

- terms: `ERROR` (the message contains it), `ERROR Exception` (all of them), `"Failed to
  process"` (a quoted phrase), `?ERROR ?WARN` (any of them), `ERROR -DEBUG` (the first, never
  the second), `%regex%` (a regular expression); an empty pattern matches every event;
- JSON: `{ $.level = "ERROR" }` on events whose message is a JSON object: `=` and `!=` on
  strings (`*` is a wildcard) and numbers, `<`, `<=`, `>`, `>=` on numbers, `IS NULL`,
  `IS TRUE`, `IS FALSE`, `EXISTS`, `NOT EXISTS`, combined with `&&`, `||` (`&&` binds
  tighter) and parentheses; selectors such as `$.user.id`, `$.items[0].price`;
- space-delimited: `[ip, user, ..., status = 5*, bytes > 1000]` names the fields of a message
  split on spaces (a quoted or bracketed field is one field), as many as the message has;
  `...` stands for any number of fields; each condition takes the operators above, `&&` and
  `||` included.

`compile_pattern` parses once and raises `InvalidFilterPatternError` on what CloudWatch refuses.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Callable
from typing import Any

Matcher = Callable[[str], bool]
# Whether a subject (a JSON document, or a message's named fields) meets a condition.
Condition = Callable[[Any], bool]


class InvalidFilterPatternError(ValueError):
    """CloudWatch Logs refuses the pattern (an `InvalidParameterException`)."""


def compile_pattern(pattern: str | None) -> Matcher:
    """A function telling whether a message matches `pattern` (see the module docstring)."""
    text = (pattern or "").strip()
    if not text:
        return lambda message: True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise InvalidFilterPatternError(f"unbalanced braces in {pattern!r}")
        condition = _Parser(_tokens(text[1:-1]), _json_path).parse()
        return lambda message: _json_matches(condition, message)
    if text.startswith("["):
        if not text.endswith("]"):
            raise InvalidFilterPatternError(f"unbalanced brackets in {pattern!r}")
        return _space_delimited(text[1:-1])
    return _terms(text)


def matches(pattern: str | None, message: str) -> bool:
    """Whether `message` matches `pattern` (parse once with `compile_pattern` for many)."""
    return compile_pattern(pattern)(message)


# -- terms -----------------------------------------------------------------------------------

_TERM = re.compile(
    r'\s*(?P<sign>[?-]?)(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|%(?P<regex>[^%]+)%|(?P<word>\S+))'
)


def _terms(text: str) -> Matcher:
    required: list[Matcher] = []
    optional: list[Matcher] = []
    excluded: list[Matcher] = []
    position = 0
    while position < len(text):
        found = _TERM.match(text, position)
        if found is None:
            break
        position = found.end()
        if found["regex"] is not None:
            term = _regex_matcher(found["regex"])
        else:
            word = found["quoted"] if found["quoted"] is not None else found["word"]
            word = re.sub(r"\\(.)", r"\1", word) if found["quoted"] is not None else word
            term = _contains(word)
        {"": required, "?": optional, "-": excluded}[found["sign"]].append(term)
    if optional and not required:
        # `?A ?B -C`: any of the optional terms, none of the excluded ones.
        return lambda message: (
            any(term(message) for term in optional) and not any(term(message) for term in excluded)
        )
    return lambda message: (
        all(term(message) for term in required) and not any(term(message) for term in excluded)
    )


def _contains(word: str) -> Matcher:
    return lambda message: word in message


def _regex_matcher(expression: str) -> Matcher:
    try:
        compiled = re.compile(expression)
    except re.error as error:
        raise InvalidFilterPatternError(
            f"invalid regular expression %{expression}%: {error}"
        ) from None
    return lambda message: compiled.search(message) is not None


# -- JSON and space-delimited conditions -----------------------------------------------------

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<op>&&|\|\||!=|<=|>=|=|<|>|\(|\))
      | "(?P<string>(?:[^"\\]|\\.)*)"
      | %(?P<regex>[^%]+)%
      | (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)
_COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
_MISSING = object()


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while text[position:].strip():
        found = _TOKEN.match(text, position)
        if found is None:
            raise InvalidFilterPatternError(f"unexpected {text[position:].strip()[:20]!r}")
        position = found.end()
        kind = found.lastgroup or ""
        value = found[kind]
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value)
        tokens.append((kind, value))
    return tokens


class _Parser:
    """`expression := all ('||' all)*; all := atom ('&&' atom)*;
    atom := '(' expression ')' | selector comparison`.

    `reader` turns a selector into what reads its value from the subject (a JSON document, or
    the named fields of a message), refusing a selector it cannot read.
    """

    def __init__(
        self, tokens: list[tuple[str, str]], reader: Callable[[str], Callable[[Any], Any]]
    ) -> None:
        self.tokens = tokens
        self.reader = reader
        self.position = 0

    def parse(self) -> Condition:
        if not self.tokens:
            raise InvalidFilterPatternError("an empty condition")
        condition = self._any()
        if self.position != len(self.tokens):
            raise InvalidFilterPatternError(f"unexpected {self.tokens[self.position][1]!r}")
        return condition

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _next(self) -> tuple[str, str]:
        token = self._peek()
        if token is None:
            raise InvalidFilterPatternError("the condition ends too early")
        self.position += 1
        return token

    def _any(self) -> Condition:
        parts = [self._all()]
        while self._peek() == ("op", "||"):
            self.position += 1
            parts.append(self._all())
        return parts[0] if len(parts) == 1 else lambda subject: any(part(subject) for part in parts)

    def _all(self) -> Condition:
        parts = [self._atom()]
        while self._peek() == ("op", "&&"):
            self.position += 1
            parts.append(self._atom())
        return parts[0] if len(parts) == 1 else lambda subject: all(part(subject) for part in parts)

    def _atom(self) -> Condition:
        kind, value = self._next()
        if (kind, value) == ("op", "("):
            inner = self._any()
            if self._next() != ("op", ")"):
                raise InvalidFilterPatternError("a parenthesis is not closed")
            return inner
        if kind != "word":
            raise InvalidFilterPatternError(f"expected a field, found {value!r}")
        selector = value
        read = self.reader(selector)
        kind, operator = self._next()
        if kind == "op" and operator in _COMPARISONS:
            test = _comparison(operator, self._next())
        elif (kind, operator.upper()) == ("word", "IS"):
            test = _is(self._next()[1].upper())
        elif (kind, operator.upper()) == ("word", "EXISTS"):
            test = lambda found: found is not _MISSING  # noqa: E731 - one line reads best
        elif (kind, operator.upper()) == ("word", "NOT") and self._next()[1].upper() == "EXISTS":
            test = lambda found: found is _MISSING  # noqa: E731
        else:
            raise InvalidFilterPatternError(
                f"expected an operator after {selector}, found {operator!r}"
            )
        return lambda subject: test(read(subject))


def _is(word: str) -> Callable[[Any], bool]:
    expected = {"NULL": None, "TRUE": True, "FALSE": False}
    if word not in expected:
        raise InvalidFilterPatternError(f"IS takes NULL, TRUE or FALSE, not {word}")
    wanted = expected[word]
    return lambda found: found is not _MISSING and found is wanted


def _comparison(operator: str, operand: tuple[str, str]) -> Callable[[Any], bool]:
    kind, text = operand
    if kind == "regex":
        if operator not in ("=", "!="):
            raise InvalidFilterPatternError(f"a regular expression takes = or !=, not {operator}")
        regex = _regex_matcher(text)
        return _negated(operator, lambda found: isinstance(found, str) and regex(found))
    if kind not in ("string", "word"):
        raise InvalidFilterPatternError(f"expected a value after {operator}, found {text!r}")
    number = _number(text) if kind == "word" else None
    if operator in ("<", "<=", ">", ">="):
        if number is None:
            raise InvalidFilterPatternError(f"{operator} compares numbers, not {text!r}")
        compare = {
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }[operator]
        return lambda found: (found := _as_number(found)) is not None and compare(found, number)
    if number is not None:
        return _negated(operator, lambda found: _as_number(found) == number)
    return _negated(operator, lambda found: isinstance(found, str) and _equals_text(found, text))


def _negated(operator: str, equal: Callable[[Any], bool]) -> Callable[[Any], bool]:
    if operator == "=":
        return equal
    # A field that is not there is unequal to nothing: it matches neither = nor !=.
    return lambda found: found is not _MISSING and not equal(found)


def _equals_text(found: str, expected: str) -> bool:
    if "*" in expected:
        return fnmatch.fnmatchcase(found, expected.replace("[", "[[]").replace("?", "[?]"))
    return found == expected


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _as_number(found: Any) -> float | None:
    """A JSON number (never a boolean); a space-delimited field that reads as one."""
    if isinstance(found, bool) or found is _MISSING or found is None:
        return None
    if isinstance(found, int | float):
        return float(found)
    if isinstance(found, _Field):
        return _number(found)
    return None


def _json_matches(condition: Condition, message: str) -> bool:
    try:
        document = json.loads(message)
    except ValueError:
        return False
    if not isinstance(document, dict):
        return False
    return condition(document)


_SELECTOR_PART = re.compile(r"\.(?P<key>[^.\[]+)|\[(?P<index>\d+)\]")


def _json_path(selector: str) -> Callable[[Any], Any]:
    """What reads `$.a.b[0]` from a JSON document (`_MISSING` where it is not there)."""
    if not selector.startswith("$"):
        raise InvalidFilterPatternError(f"a JSON selector starts with $: {selector}")
    path: list[str | int] = []
    position = 1
    while position < len(selector):
        part = _SELECTOR_PART.match(selector, position)
        if part is None:
            raise InvalidFilterPatternError(f"cannot read the selector {selector}")
        position = part.end()
        path.append(part["key"] if part["key"] is not None else int(part["index"]))

    def read(document: Any) -> Any:
        found = document
        for step in path:
            if isinstance(step, str):
                if not isinstance(found, dict) or step not in found:
                    return _MISSING
            elif not isinstance(found, list) or step >= len(found):
                return _MISSING
            found = found[step]
        return found

    return read


class _Field(str):
    """A field of a space-delimited message: text, compared as a number when it reads as one."""


_FIELD = re.compile(r'"(?P<quoted>[^"]*)"|\[(?P<bracketed>[^\]]*)\]|(?P<plain>\S+)')
_DECLARATION = re.compile(r"\s*(?:(?P<ellipsis>\.\.\.)|(?P<name>[\w$]+))\s*(?P<rest>.*)", re.DOTALL)


def _space_delimited(text: str) -> Matcher:
    declarations = _split_declarations(text)
    fields: list[tuple[str | None, Condition | None]] = []
    for declaration in declarations:
        found = _DECLARATION.fullmatch(declaration)
        if found is None:
            raise InvalidFilterPatternError(f"cannot read the field {declaration!r}")
        if found["ellipsis"]:
            fields.append((None, None))
            continue
        name, rest = found["name"], found["rest"].strip()
        condition = _Parser(_tokens(f"{name} {rest}"), _named_field).parse() if rest else None
        fields.append((name, condition))

    def match(message: str) -> bool:
        values = [
            _Field(next(value for value in part.groups() if value is not None))
            for part in _FIELD.finditer(message)
        ]
        bound = _bind(fields, values)
        if bound is None:
            return False
        return all(condition(bound) for _, condition in fields if condition is not None)

    return match


def _named_field(name: str) -> Callable[[dict[str, Any]], Any]:
    return lambda bound: bound.get(name, _MISSING)


def _split_declarations(text: str) -> list[str]:
    """The comma-separated field declarations, commas inside quotes left alone."""
    parts, current, quoted = [], "", False
    for character in text:
        if character == '"':
            quoted = not quoted
        if character == "," and not quoted:
            parts.append(current)
            current = ""
        else:
            current += character
    parts.append(current)
    if any(not part.strip() for part in parts):
        raise InvalidFilterPatternError("an empty field in a space-delimited pattern")
    return parts


def _bind(fields: list[tuple[str | None, Any]], values: list[_Field]) -> dict[str, Any] | None:
    """Names for the message's fields, one per declared field, the first ellipsis taking
    what is left over; None when the message's fields cannot be declared so."""
    named = [name for name, _ in fields if name is not None]
    ellipses = len(fields) - len(named)
    if len(values) < len(named) or (not ellipses and len(values) != len(named)):
        return None
    # Ellipses take the fields left over: the first one all of them, the others none.
    spare = len(values) - len(named)
    bound, position, spare_taken = {}, 0, False
    for name, _ in fields:
        if name is None:
            if not spare_taken:
                position += spare
                spare_taken = True
            continue
        bound[name] = values[position]
        position += 1
    return bound
