"""STIX 2.1 patterning language: a hand-written parser, the values an indicator pattern carries, and a regex check.

``parse(text)`` turns a pattern into a :class:`Pattern` (an immutable tree) or raises :class:`PatternError` naming
the 1-based column and what was expected and found.  :func:`comparisons` lists every comparison with its object type,
object path, operator, negation and constant(s) as Python values; :func:`indexable` lists the (object path, literal)
pairs the hub indexes: every positive ``=``, every element of a positive ``IN (...)`` and the network of a positive
``ISSUBSET``, wherever they sit (inside AND/OR, nested observations).  Other comparisons are kept, not indexed.

The grammar is the one of STIX 2.1 section 9 as the OASIS reference grammar (``STIXPattern.g4``) writes it: a
tokenizer made of one compiled regex (one ``findall``; a token-by-token twin explains lexical errors) and a recursive
descent parser that refuses nesting deeper than :data:`MAX_DEPTH` before Python's stack could suffer.  Keywords are
upper case and case-sensitive, ``true``/``false`` lower case; ``==`` and ``<>`` are accepted for ``=`` and ``!=``;
``/* */`` and ``//`` comments are skipped like whitespace; list indexes are integers from 0 or ``*`` (the reference
grammar admits negative ones, which its validator then crashes on).  A plain ``[type:path = 'literal']`` takes a fast
path: one regex match, no tokenizer.

Beyond the reference grammar, :func:`parse` enforces these rules of the specification (``PatternError.rule`` names
which one failed; ``"syntax"`` is the grammar itself):

* ``object-type``: object type names are ``[a-z0-9-]+`` (the reference grammar also takes ``_`` and upper case);
* ``same-type``: comparisons joined by ``AND`` inside one ``[...]`` must all be about the same object type;
* ``timestamp``: timestamps must be real instants (no 30 February, no leap second ``:60``);
* ``qualifier``: ``WITHIN`` and ``REPEATS`` take positive numbers (not 0);
* ``regex``: a ``MATCHES`` regex must pass :func:`check_regex` (valid, RE2-compatible, no catastrophic backtracking);
* ``limit``: at most :data:`MAX_PATTERN_LENGTH` characters and :data:`MAX_DEPTH` nested brackets/parentheses.

Unlike the reference validator, hash values (``file:hashes.MD5 = 'xyz'``) are not checked here: a malformed value
is flagged when indexed, not fatal to the pattern.

Pure and light: standard library only.
"""

from __future__ import annotations

import base64
import binascii
import functools
import importlib
import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Final, Literal, TypeAlias

from herdsec.core.errors import InvalidInput

__all__ = [
    "MAX_DEPTH",
    "MAX_PATTERN_LENGTH",
    "MAX_REGEX_LENGTH",
    "Comparison",
    "ComparisonExpression",
    "Constant",
    "Junction",
    "Observation",
    "ObservationExpression",
    "ObservationJoin",
    "Operator",
    "PathStep",
    "Pattern",
    "PatternError",
    "Qualified",
    "Qualifier",
    "Repeats",
    "StartStop",
    "Within",
    "check_regex",
    "comparisons",
    "indexable",
    "literal_text",
    "parse",
    "simple_indexable",
]

MAX_PATTERN_LENGTH: Final = 10_000
MAX_DEPTH: Final = 50
MAX_REGEX_LENGTH: Final = 1_000
_MAX_REPEAT_COUNT: Final = 1_000  # RE2 refuses counted repetitions above 1000

Constant: TypeAlias = str | int | float | bool | bytes | datetime
"""A constant as a Python value: str, int, float, bool, bytes (``h'..'`` and ``b'..'``), aware UTC datetime."""

PathStep: TypeAlias = str | int | None
"""One step of an object path: a property name, a list index, or None for ``[*]``."""

Operator: TypeAlias = Literal[
    "=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET", "EXISTS"
]


class PatternError(InvalidInput):
    """A pattern that is not valid STIX 2.1: ``detail`` says what was expected and found, ``column`` is 1-based.

    ``position`` is the 0-based offset in the pattern text; ``rule`` is ``"syntax"`` for the grammar or the name of
    the extra rule that failed (see the module documentation).
    """

    def __init__(self, message: str, position: int, *, rule: str = "syntax") -> None:
        self.detail = message
        self.position = position
        self.column = position + 1
        self.rule = rule
        super().__init__(
            "%(detail)s at column %(column)s", where=f"pattern:{self.column}", detail=message, column=self.column
        )


# --------------------------------------------------------------------------------------------------------------------
# The tree


@dataclass(frozen=True, slots=True)
class Comparison:
    """``object_path [NOT] op constant`` or ``EXISTS object_path``.

    ``object_path`` is the canonical text, e.g. ``file:hashes.'SHA-256'`` (property names are quoted only when they
    need it); ``steps`` are its property steps.  ``value`` is a constant, a tuple of constants for ``IN``, None for
    ``EXISTS``.
    """

    object_type: str
    object_path: str
    steps: tuple[PathStep, ...]
    op: Operator
    negated: bool
    value: Constant | tuple[Constant, ...] | None
    position: int = field(default=0, compare=False)


@dataclass(frozen=True, slots=True)
class Junction:
    """Comparisons joined by ``AND`` or ``OR`` inside one observation expression."""

    op: Literal["AND", "OR"]
    operands: tuple[ComparisonExpression, ...]


@dataclass(frozen=True, slots=True)
class Observation:
    """``[ comparison expression ]``."""

    expression: ComparisonExpression


@dataclass(frozen=True, slots=True)
class ObservationJoin:
    """Observation expressions joined by ``AND``, ``OR`` or ``FOLLOWEDBY``."""

    op: Literal["AND", "OR", "FOLLOWEDBY"]
    operands: tuple[ObservationExpression, ...]


@dataclass(frozen=True, slots=True)
class Within:
    """``WITHIN n SECONDS``."""

    seconds: int | float


@dataclass(frozen=True, slots=True)
class Repeats:
    """``REPEATS n TIMES``."""

    times: int


@dataclass(frozen=True, slots=True)
class StartStop:
    """``START t'..' STOP t'..'``."""

    start: datetime
    stop: datetime


Qualifier: TypeAlias = Within | Repeats | StartStop


@dataclass(frozen=True, slots=True)
class Qualified:
    """An observation expression with one qualifier; several qualifiers nest, the innermost written first."""

    expression: ObservationExpression
    qualifier: Qualifier


ComparisonExpression: TypeAlias = Comparison | Junction
ObservationExpression: TypeAlias = Observation | ObservationJoin | Qualified


@dataclass(frozen=True, slots=True)
class Pattern:
    """A parsed pattern: the tree and the text it came from."""

    expression: ObservationExpression
    text: str = field(default="", compare=False)

    def comparisons(self) -> list[Comparison]:
        """Every comparison, in the order written."""
        found: list[Comparison] = []
        stack: list[ObservationExpression | ComparisonExpression] = [self.expression]
        while stack:
            node = stack.pop()
            if isinstance(node, Comparison):
                found.append(node)
            elif isinstance(node, Observation | Qualified):
                stack.append(node.expression)
            else:
                stack.extend(reversed(node.operands))
        return found

    def indexable(self) -> list[tuple[str, str]]:
        """(object path, literal) of every positive ``=``, ``IN`` element and ``ISSUBSET`` network, without repeats."""
        pairs: dict[tuple[str, str], None] = {}
        for comparison in self.comparisons():
            if comparison.negated:
                continue
            op = comparison.op
            value = comparison.value
            if op == "=" or op == "ISSUBSET":
                if not isinstance(value, tuple) and value is not None:
                    pairs[comparison.object_path, literal_text(value)] = None
            elif op == "IN" and isinstance(value, tuple):
                for item in value:
                    pairs[comparison.object_path, literal_text(item)] = None
        return list(pairs)


def comparisons(pattern: Pattern) -> list[Comparison]:
    """Every comparison of ``pattern``, in the order written."""
    return pattern.comparisons()


def indexable(pattern: Pattern) -> list[tuple[str, str]]:
    """The (object path, literal) pairs of ``pattern`` to index (see :meth:`Pattern.indexable`)."""
    return pattern.indexable()


def literal_text(value: Constant) -> str:
    """A constant as index text: strings as they are, bytes in lower-case hex, timestamps in RFC 3339 with Z."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes):
        return value.hex()
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


# --------------------------------------------------------------------------------------------------------------------
# Tokens

_KEYWORDS: Final = frozenset(
    {
        "AND",
        "OR",
        "NOT",
        "FOLLOWEDBY",
        "LIKE",
        "MATCHES",
        "ISSUPERSET",
        "ISSUBSET",
        "EXISTS",
        "LAST",
        "IN",
        "START",
        "STOP",
        "SECONDS",
        "WITHIN",
        "REPEATS",
        "TIMES",
    }
)
_RESERVED: Final = _KEYWORDS | {"true", "false"}

# The reference grammar's whitespace, and its comments, are skipped before every token.
_WS: Final = "[ \t\r\n\x0b\x0c\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
_SKIP: Final = rf"(?:{_WS}+|/\*[\s\S]*?\*/|//[^\r\n]*)*"
_SKIP_RE: Final = re.compile(_SKIP)
_TOKEN_RE: Final = re.compile(
    _SKIP
    + r"""(?:
      (?P<str>'(?:[^'\\]|\\[\s\S])*')
    | (?P<pfx>[htb]'[^']*')
    | (?P<num>[+-]?(?:[0-9]*\.[0-9]+|[0-9]+))
    | (?P<word>[A-Za-z_][A-Za-z0-9_-]*)
    | (?P<op><=|>=|<>|!=|==|[=<>])
    | (?P<punct>[\[\]():.,*])
    | (?P<end>\Z)
    )""",
    re.VERBOSE,
)
# The same tokens in one ``findall``: (skipped whitespace, token) pairs; anything else is one "bad" character, so
# the pairs are contiguous and positions add up.  A bad character sends the text to the precise tokenizer.
_WS_CHARS: Final = _WS[1:-1]
_FINDALL_RE: Final = re.compile(
    rf"({_WS}*)([htb]'[^']*'|[A-Za-z_][A-Za-z0-9_-]*|[+-]?(?:[0-9]*\.[0-9]+|[0-9]+)|[\[\]():.,*]"
    rf"|'[^'\\]*(?:\\[\s\S][^'\\]*)*'|<=|>=|<>|!=|==|[=<>]|/\*[\s\S]*?\*/|//[^\r\n]*|[^{_WS_CHARS}])"
)
_OPS: Final = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_IDENT_START: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_PUNCTUATION: Final = frozenset("[]():.,*")
_OP_START: Final = frozenset("=<>!")
_NUMBER_START: Final = frozenset("0123456789+-.")
_INT_RE: Final = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")
_HEX_RE: Final = re.compile(r"h'((?:[0-9A-Fa-f]{2})*)'")
_BIN_RE: Final = re.compile(r"b'((?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==))'")
_TS_RE: Final = re.compile(
    r"t'([0-9]{4})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):([0-5][0-9]):([0-5][0-9]|60)(?:\.([0-9]+))?Z'"
)
_ESCAPE_RE: Final = re.compile(r"\\([\s\S])")
_IDENT_RE: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TYPE_RE: Final = re.compile(r"[a-z0-9-]+")

# (kind, value, start, end): kind is a keyword, an operator, a punctuation mark, or STR INT FLOAT HEX BIN TS BOOL
# IDENT EOF; value is the constant or identifier for the literal kinds.
_Token: TypeAlias = tuple[str, Constant | None, int, int]


def _unescape(raw: str, start: int) -> str:
    for match in _ESCAPE_RE.finditer(raw):
        if match.group(1) not in "'\\":
            raise PatternError(
                f"invalid escape '\\{match.group(1)}' in string: only \\' and \\\\ are allowed", start + match.start()
            )
    return _ESCAPE_RE.sub(r"\1", raw)


def _timestamp(token_text: str, start: int) -> datetime:
    match = _TS_RE.fullmatch(token_text)
    if match is None:
        raise PatternError(f"invalid timestamp {_show(token_text)}: expected t'YYYY-MM-DDTHH:MM:SS[.fraction]Z'", start)
    year, month, day, hour, minute, second, fraction = match.groups()
    micro = int((fraction + "000000")[:6]) if fraction else 0
    try:
        return datetime(int(year), int(month), int(day), int(hour), int(minute), int(second), micro, tzinfo=UTC)
    except ValueError:
        raise PatternError(f"timestamp {_show(token_text)} is not a real instant", start, rule="timestamp") from None


def _prefixed(token_text: str, start: int) -> _Token:
    end = start + len(token_text)
    kind = token_text[0]
    if kind == "t":
        return ("TS", _timestamp(token_text, start), start, end)
    if kind == "h":
        match = _HEX_RE.fullmatch(token_text)
        if match is None:
            raise PatternError(f"invalid hex literal {_show(token_text)}: expected pairs of hex digits", start)
        return ("HEX", bytes.fromhex(match.group(1)), start, end)
    match = _BIN_RE.fullmatch(token_text)
    if match is None:
        raise PatternError(f"invalid binary literal {_show(token_text)}: expected padded base64", start)
    try:
        return ("BIN", base64.b64decode(match.group(1), validate=True), start, end)
    except binascii.Error:  # pragma: no cover - the regex admits only valid base64
        raise PatternError(f"invalid binary literal {_show(token_text)}", start) from None


def _show(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    append = tokens.append
    keywords = _KEYWORDS
    pos = 0
    for skipped, lexeme in _FINDALL_RE.findall(text):
        start = pos + len(skipped)
        pos = start + len(lexeme)
        first = lexeme[0]
        if first in _IDENT_START:
            if lexeme[-1] == "'" and len(lexeme) > 1 and lexeme[1] == "'":
                append(_prefixed(lexeme, start))
            elif lexeme in keywords:
                append((lexeme, None, start, pos))
            elif lexeme == "true" or lexeme == "false":
                append(("BOOL", lexeme == "true", start, pos))
            else:
                append(("IDENT", lexeme, start, pos))
        elif first in _PUNCTUATION and len(lexeme) == 1:
            append((first, None, start, pos))
        elif first == "'":
            if len(lexeme) == 1:
                return _tokenize_precise(text)
            raw = lexeme[1:-1]
            append(("STR", _unescape(raw, start + 1) if "\\" in raw else raw, start, pos))
        elif first in _OP_START:
            op = _OPS.get(lexeme)
            if op is None:
                return _tokenize_precise(text)
            append((op, None, start, pos))
        elif first in _NUMBER_START and lexeme not in "+-":
            if "." in lexeme:
                append(("FLOAT", float(lexeme), start, pos))
            elif _INT_RE.fullmatch(lexeme):
                append(("INT", int(lexeme), start, pos))
            else:
                raise PatternError(f"invalid integer {_show(lexeme)}: leading zeros are not allowed", start)
        elif first == "/" and len(lexeme) > 1:
            continue  # a comment
        else:
            return _tokenize_precise(text)
    append(("EOF", None, len(text), len(text)))
    return tokens


def _tokenize_precise(text: str) -> list[_Token]:
    """Token by token with ``match``: the reference tokenizer, and the one that explains a lexical error."""
    tokens: list[_Token] = []
    append = tokens.append
    match = _TOKEN_RE.match
    pos = 0
    while True:
        m = match(text, pos)
        if m is None:
            skipped = _SKIP_RE.match(text, pos)
            start = skipped.end() if skipped else pos
            char = text[start]
            if char == "'":
                raise PatternError("unterminated string: no closing quote", start)
            raise PatternError(f"unexpected character {char!r}", start)
        group = m.lastgroup or "end"
        start = m.start(group)
        pos = end = m.end()
        if group == "word":
            word = m.group(group)
            if word in _KEYWORDS:
                append((word, None, start, end))
            elif word == "true" or word == "false":
                append(("BOOL", word == "true", start, end))
            else:
                append(("IDENT", word, start, end))
        elif group == "str":
            raw = text[start + 1 : end - 1]
            append(("STR", _unescape(raw, start + 1) if "\\" in raw else raw, start, end))
        elif group == "op":
            append((_OPS[m.group(group)], None, start, end))
        elif group == "punct":
            append((text[start], None, start, end))
        elif group == "num":
            number = text[start:end]
            if "." in number:
                append(("FLOAT", float(number), start, end))
            elif _INT_RE.fullmatch(number):
                append(("INT", int(number), start, end))
            else:
                raise PatternError(f"invalid integer {_show(number)}: leading zeros are not allowed", start)
        elif group == "pfx":
            append(_prefixed(text[start:end], start))
        else:
            append(("EOF", None, start, start))
            return tokens


# --------------------------------------------------------------------------------------------------------------------
# Parser

_COMPARISON_OPS: Final[dict[str, Operator]] = {
    "=": "=",
    "!=": "!=",
    "<": "<",
    "<=": "<=",
    ">": ">",
    ">=": ">=",
    "IN": "IN",
    "LIKE": "LIKE",
    "MATCHES": "MATCHES",
    "ISSUBSET": "ISSUBSET",
    "ISSUPERSET": "ISSUPERSET",
}
_STRING_OPS: Final = frozenset({"LIKE", "MATCHES", "ISSUBSET", "ISSUPERSET"})
_ORDERABLE: Final = frozenset({"STR", "INT", "FLOAT", "HEX", "BIN", "TS"})
_PRIMITIVE: Final = _ORDERABLE | {"BOOL"}
_STRING: Final = frozenset({"STR"})
_QUALIFIER_KEYWORDS: Final = frozenset({"WITHIN", "REPEATS", "START"})


def _render_step(name: str) -> str:
    if _IDENT_RE.fullmatch(name) and name not in _RESERVED:
        return name
    return "'" + name.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _render_path(object_type: str, steps: Iterable[PathStep]) -> str:
    parts = [object_type, ":"]
    first = True
    for step in steps:
        if isinstance(step, str):
            if not first:
                parts.append(".")
            parts.append(_render_step(step))
        else:
            parts.append("[*]" if step is None else f"[{step}]")
        first = False
    return "".join(parts)


# Rendered object paths: a feed uses a handful of paths over and over.
_PATHS: dict[tuple[str, tuple[PathStep, ...]], str] = {}
_FastPath: TypeAlias = tuple[tuple[PathStep, ...], str]  # a fast-path object path's steps and canonical text
_FAST_PATHS: dict[str, _FastPath] = {}
_FastComparison: TypeAlias = tuple[str, _FastPath, str | int, int]  # object type, path, literal, position
_PATHS_KEPT: Final = 4096
_PATH_KEPT_LENGTH: Final = 200


class _Parser:
    __slots__ = ("depth", "i", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0
        self.depth = 0

    # -- helpers

    def _found(self, token: _Token) -> str:
        if token[0] == "EOF":
            return "end of pattern"
        return _show(self.text[token[2] : token[3]])

    def _fail(self, expected: str, token: _Token) -> PatternError:
        return PatternError(f"expected {expected}, found {self._found(token)}", token[2])

    def _enter(self, token: _Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise PatternError(
                f"brackets and parentheses nested deeper than {MAX_DEPTH} levels", token[2], rule="limit"
            )

    # -- observation expressions

    def pattern(self) -> ObservationExpression:
        expression = self.followedby()
        token = self.tokens[self.i]
        if token[0] != "EOF":
            raise self._fail("AND, OR, FOLLOWEDBY, a qualifier or the end after observation expression", token)
        return expression

    def followedby(self) -> ObservationExpression:
        first = self.obs_or()
        if self.tokens[self.i][0] != "FOLLOWEDBY":
            return first
        operands = [first]
        while self.tokens[self.i][0] == "FOLLOWEDBY":
            self.i += 1
            operands.append(self.obs_or())
        return ObservationJoin("FOLLOWEDBY", tuple(operands))

    def obs_or(self) -> ObservationExpression:
        first = self.obs_and()
        if self.tokens[self.i][0] != "OR":
            return first
        operands = [first]
        while self.tokens[self.i][0] == "OR":
            self.i += 1
            operands.append(self.obs_and())
        return ObservationJoin("OR", tuple(operands))

    def obs_and(self) -> ObservationExpression:
        first = self.qualified()
        if self.tokens[self.i][0] != "AND":
            return first
        operands = [first]
        while self.tokens[self.i][0] == "AND":
            self.i += 1
            operands.append(self.qualified())
        return ObservationJoin("AND", tuple(operands))

    def qualified(self) -> ObservationExpression:
        tokens = self.tokens
        token = tokens[self.i]
        if token[0] == "[":
            self._enter(token)
            self.i += 1
            inner = self.comparison_or()
            closing = tokens[self.i]
            if closing[0] != "]":
                raise self._fail("']' after comparison", closing)
            self.i += 1
            self.depth -= 1
            expression: ObservationExpression = Observation(inner)
            seen: set[str] | None = set()  # a qualifier type may qualify a [...] only once
        elif token[0] == "(":
            self._enter(token)
            self.i += 1
            expression = self.followedby()
            closing = tokens[self.i]
            if closing[0] != ")":
                raise self._fail("')' after observation expression", closing)
            self.i += 1
            self.depth -= 1
            seen = None
        else:
            raise self._fail("'[' or '(' to start an observation expression", token)
        while tokens[self.i][0] in _QUALIFIER_KEYWORDS:
            keyword = tokens[self.i]
            qualifier = self.qualifier()
            if seen is not None:
                if keyword[0] in seen:
                    raise PatternError(f"duplicate {keyword[0]} qualifier on one observation", keyword[2])
                seen.add(keyword[0])
            expression = Qualified(expression, qualifier)
        return expression

    def qualifier(self) -> Qualifier:
        tokens = self.tokens
        keyword = tokens[self.i][0]
        self.i += 1
        token = tokens[self.i]
        if keyword == "START":
            if token[0] != "TS":
                raise self._fail("a timestamp t'...' after START", token)
            stop = tokens[self.i + 1]
            if stop[0] != "STOP":
                raise self._fail("STOP after START timestamp", stop)
            end = tokens[self.i + 2]
            if end[0] != "TS":
                raise self._fail("a timestamp t'...' after STOP", end)
            self.i += 3
            assert isinstance(token[1], datetime)
            assert isinstance(end[1], datetime)
            return StartStop(token[1], end[1])
        if keyword == "WITHIN":
            if token[0] not in ("INT", "FLOAT") or self.text[token[2]] == "-":
                raise self._fail("a positive number of seconds after WITHIN", token)
            unit = tokens[self.i + 1]
            if unit[0] != "SECONDS":
                raise self._fail("SECONDS after WITHIN number", unit)
            seconds = token[1]
            assert isinstance(seconds, int | float)
            if seconds <= 0:
                raise PatternError("WITHIN needs a positive number of seconds", token[2], rule="qualifier")
            self.i += 2
            return Within(seconds)
        if token[0] != "INT" or self.text[token[2]] == "-":
            raise self._fail("a positive integer after REPEATS", token)
        unit = tokens[self.i + 1]
        if unit[0] != "TIMES":
            raise self._fail("TIMES after REPEATS count", unit)
        times = token[1]
        assert isinstance(times, int)
        if times <= 0:
            raise PatternError("REPEATS needs a positive count", token[2], rule="qualifier")
        self.i += 2
        return Repeats(times)

    # -- comparison expressions

    def comparison_or(self) -> ComparisonExpression:
        first = self.comparison_and()
        if self.tokens[self.i][0] != "OR":
            return first
        operands = [first]
        while self.tokens[self.i][0] == "OR":
            self.i += 1
            operands.append(self.comparison_and())
        return Junction("OR", tuple(operands))

    def comparison_and(self) -> ComparisonExpression:
        first = self.comparison()
        if self.tokens[self.i][0] != "AND":
            return first
        operands = [first]
        while self.tokens[self.i][0] == "AND":
            self.i += 1
            operands.append(self.comparison())
        junction = Junction("AND", tuple(operands))
        _check_same_type(junction)
        return junction

    def comparison(self) -> ComparisonExpression:
        tokens = self.tokens
        token = tokens[self.i]
        kind = token[0]
        if kind == "(":
            self._enter(token)
            self.i += 1
            inner = self.comparison_or()
            closing = tokens[self.i]
            if closing[0] != ")":
                raise self._fail("')' after comparison expression", closing)
            self.i += 1
            self.depth -= 1
            return inner
        if kind == "EXISTS":
            self.i += 1
            object_type, steps, path = self.object_path()
            return Comparison(object_type, path, steps, "EXISTS", False, None, token[2])
        if kind != "IDENT":
            raise self._fail("a comparison (object path, EXISTS or '(')", token)
        object_type, steps, path = self.object_path()
        negated = False
        op_token = tokens[self.i]
        if op_token[0] == "NOT":
            negated = True
            self.i += 1
            op_token = tokens[self.i]
        op = _COMPARISON_OPS.get(op_token[0])
        if op is None:
            raise self._fail(f"a comparison operator after {_show(path)}", op_token)
        self.i += 1
        literal = tokens[self.i]
        value: Constant | tuple[Constant, ...]
        if op == "IN":
            value = self.set_literal()
        else:
            lkind = literal[0]
            if op in _STRING_OPS:
                allowed, what = _STRING, "a string"
            elif op == "=" or op == "!=":
                allowed, what = _PRIMITIVE, "a constant"
            else:
                allowed, what = _ORDERABLE, "a string, number, hex, binary or timestamp constant"
            if lkind not in allowed:
                raise self._fail(f"{what} after {op_token[0]}", literal)
            self.i += 1
            assert literal[1] is not None
            value = literal[1]
            if op == "MATCHES":
                assert isinstance(value, str)
                problem = check_regex(value)
                if problem is not None:
                    raise PatternError(f"MATCHES regex refused: {problem}", literal[2], rule="regex")
        return Comparison(object_type, path, steps, op, negated, value, token[2])

    def set_literal(self) -> tuple[Constant, ...]:
        tokens = self.tokens
        token = tokens[self.i]
        if token[0] != "(":
            raise self._fail("'(' after IN", token)
        self.i += 1
        values: list[Constant] = []
        token = tokens[self.i]
        if token[0] == ")":
            self.i += 1
            return ()
        while True:
            if token[0] not in _PRIMITIVE:
                raise self._fail("a constant in the IN list", token)
            assert token[1] is not None
            values.append(token[1])
            token = tokens[self.i + 1]
            self.i += 2
            if token[0] == ")":
                return tuple(values)
            if token[0] != ",":
                raise self._fail("',' or ')' in the IN list", token)
            token = tokens[self.i]

    def object_path(self) -> tuple[str, tuple[PathStep, ...], str]:
        tokens = self.tokens
        token = tokens[self.i]
        if token[0] != "IDENT":
            raise self._fail("an object type", token)
        object_type = token[1]
        assert isinstance(object_type, str)
        colon = tokens[self.i + 1]
        if colon[0] != ":":
            raise self._fail(f"':' after object type {_show(object_type)}", colon)
        if not _TYPE_RE.fullmatch(object_type):
            raise PatternError(
                f"object type {_show(object_type)} may only use a-z, 0-9 and '-'", token[2], rule="object-type"
            )
        self.i += 2
        steps: list[PathStep] = [self._property_name(tokens[self.i], "':'")]
        self.i += 1
        while True:
            token = tokens[self.i]
            if token[0] == ".":
                steps.append(self._property_name(tokens[self.i + 1], "'.'"))
                self.i += 2
            elif token[0] == "[":
                index = tokens[self.i + 1]
                if index[0] == "*":
                    steps.append(None)
                elif index[0] == "INT" and self.text[index[2]] != "-":
                    assert isinstance(index[1], int)
                    steps.append(index[1])
                else:
                    raise self._fail("a list index (an integer from 0, or '*') after '['", index)
                closing = tokens[self.i + 2]
                if closing[0] != "]":
                    raise self._fail("']' after list index", closing)
                self.i += 3
            else:
                break
        key = (object_type, tuple(steps))
        path = _PATHS.get(key)
        if path is None:
            path = _render_path(*key)
            if len(_PATHS) < _PATHS_KEPT and len(path) <= _PATH_KEPT_LENGTH:
                _PATHS[key] = path
        return object_type, key[1], path

    def _property_name(self, token: _Token, after: str) -> str:
        kind = token[0]
        if kind == "STR":
            assert isinstance(token[1], str)
            return token[1]
        if kind == "IDENT":
            name = token[1]
            assert isinstance(name, str)
            if "-" in name:
                raise PatternError(
                    f"property name {_show(name)} contains '-': quote it as {_render_step(name)}", token[2]
                )
            return name
        raise self._fail(f"a property name after {after}", token)


def _check_same_type(junction: Junction) -> None:
    """Every comparison under an AND must be about one object type (STIX 2.1, comparison expressions)."""
    stack: list[ComparisonExpression] = list(reversed(junction.operands))
    expected: str | None = None
    while stack:
        node = stack.pop()
        if isinstance(node, Junction):
            stack.extend(reversed(node.operands))
            continue
        if expected is None:
            expected = node.object_type
        elif node.object_type != expected:
            raise PatternError(
                f"comparisons joined by AND must use one object type: {_show(expected)} and "
                f"{_show(node.object_type)} (use separate observations [..] AND [..])",
                node.position,
                rule="same-type",
            )


# The fast path: the commonest shape, [type:path = 'literal'], in one regex match.
_FAST_RE: Final = re.compile(
    r" *\[ *([a-z][a-z0-9-]*):([A-Za-z_][A-Za-z0-9_]*)((?:\.(?:[A-Za-z_][A-Za-z0-9_]*|'[^'\\]*'))*)"
    r" *= *'((?:[^'\\]|\\['\\])*)' *\] *"
)
_FAST_STEP_RE: Final = re.compile(r"\.(?:([A-Za-z_][A-Za-z0-9_]*)|'([^']*)')")
# The next commonest shape (composite values: a file's name and hash, an address and port): two or three such
# comparisons, with string or unsigned integer literals, joined all by AND (one object type) or all by OR.
_FAST_COMPARISON: Final = (
    r"([a-z][a-z0-9-]*):([A-Za-z_][A-Za-z0-9_]*)((?:\.(?:[A-Za-z_][A-Za-z0-9_]*|'[^'\\]*'))*)"
    r" *= *(?:'([^'\\]*(?:\\['\\][^'\\]*)*)'|(0|[1-9][0-9]{0,17}))"  # integers of at most 18 digits
)
_FAST_JUNCTION_RE: Final = re.compile(
    rf" *\[ *{_FAST_COMPARISON} +(AND|OR) +{_FAST_COMPARISON}(?: +(AND|OR) +{_FAST_COMPARISON})? *\] *"
)


def _fast_path(object_type: str, first: str, rest: str) -> tuple[tuple[PathStep, ...], str] | None:
    """Steps and canonical text of a fast-path object path, or None when a name is reserved."""
    if object_type in _RESERVED or first in _RESERVED:
        return None
    steps: list[PathStep] = [first]
    if not rest:
        return (first,), f"{object_type}:{first}"
    if "'" not in rest:
        names = rest[1:].split(".")
        if not _RESERVED.isdisjoint(names):
            return None
        steps.extend(names)
        return tuple(steps), f"{object_type}:{first}{rest}"
    for name, quoted in _FAST_STEP_RE.findall(rest):
        if name in _RESERVED:
            return None
        steps.append(name or quoted)
    return tuple(steps), _render_path(object_type, steps)


def _fast_parts(text: str) -> tuple[str, tuple[tuple[PathStep, ...], str], str, int] | None:
    """Object type, (steps, canonical path), literal and position of a fast-path pattern, or None."""
    match = _FAST_RE.fullmatch(text)
    if match is None:
        return None
    object_type, first, rest, value = match.groups()
    known = _known_path(text, match.start(1), match.end(3), object_type, first, rest)
    if known is None:
        return None
    if "\\" in value:
        value = _ESCAPE_RE.sub(r"\1", value)
    return object_type, known, value, match.start(1)


def _known_path(text: str, start: int, end: int, object_type: str, first: str, rest: str) -> _FastPath | None:
    raw = text[start:end]
    known = _FAST_PATHS.get(raw)
    if known is None:
        known = _fast_path(object_type, first, rest)
        if known is None:
            return None
        if len(_FAST_PATHS) < _PATHS_KEPT and len(raw) <= _PATH_KEPT_LENGTH:
            _FAST_PATHS[raw] = known
    return known


def _fast_junction(text: str) -> tuple[Literal["AND", "OR"], list[_FastComparison]] | None:
    """The operator and comparisons (object type, path, value, position) of a pattern of the second fast shape (see
    ``_FAST_JUNCTION_RE``), or None."""
    match = _FAST_JUNCTION_RE.fullmatch(text)
    if match is None:
        return None
    groups = match.groups()
    op = groups[5]
    if groups[11] is not None and groups[11] != op:
        return None  # AND and OR mixed: precedence is the general parser's business
    comparisons: list[_FastComparison] = []
    for base in (0, 6, 12) if groups[12] is not None else (0, 6):
        object_type, first, rest, string, number = groups[base : base + 5]
        if op == "AND" and comparisons and object_type != comparisons[0][0]:
            return None  # refused by the general parser, which explains why
        known = _known_path(text, match.start(base + 1), match.end(base + 3), object_type, first, rest)
        if known is None:
            return None
        if string is not None and "\\" in string:
            string = _ESCAPE_RE.sub(r"\1", string)
        comparisons.append((object_type, known, int(number) if string is None else string, match.start(base + 1)))
    return ("AND" if op == "AND" else "OR"), comparisons


def _parse_fast(text: str) -> Pattern | None:
    parts = _fast_parts(text)
    if parts is None:
        junction = _fast_junction(text)
        if junction is None:
            return None
        operands = tuple(Comparison(t, known[1], known[0], "=", False, v, at) for t, known, v, at in junction[1])
        return Pattern(Observation(Junction(junction[0], operands)), text)
    object_type, known, value, position = parts
    comparison = Comparison(object_type, known[1], known[0], "=", False, value, position)
    return Pattern(Observation(comparison), text)


def simple_indexable(text: str) -> list[tuple[str, str]] | None:
    """``indexable(parse(text))`` for a pattern of the two commonest shapes, ``[type:path = 'literal']`` and two or
    three such comparisons joined by AND or OR, without building its tree (bulk ingest); None for any other text,
    which :func:`parse` must then take (and may refuse)."""
    if len(text) > MAX_PATTERN_LENGTH:
        return None
    parts = _fast_parts(text)
    if parts is not None:
        return [(parts[1][1], parts[2])]
    junction = _fast_junction(text)
    if junction is None:
        return None
    pairs = {(known[1], value if type(value) is str else str(value)): None for _t, known, value, _at in junction[1]}
    return list(pairs)


def _parse_general(text: str) -> Pattern:
    parser = _Parser(text)
    return Pattern(parser.pattern(), text)


def parse(pattern: str) -> Pattern:
    """Parse a STIX 2.1 pattern; raise :class:`PatternError` (with the column) when it is not valid."""
    if not isinstance(pattern, str):
        raise PatternError("a pattern must be a string", 0)
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise PatternError(f"pattern longer than {MAX_PATTERN_LENGTH} characters", MAX_PATTERN_LENGTH, rule="limit")
    return _parse_fast(pattern) or _parse_general(pattern)


# --------------------------------------------------------------------------------------------------------------------
# MATCHES regexes

_sre: Final[ModuleType] = importlib.import_module("re._parser")  # the standard library's regex parser (sre_parse)
_LITERAL: Final = _sre.LITERAL
_NOT_LITERAL: Final = _sre.NOT_LITERAL
_ANY: Final = _sre.ANY
_IN: Final = _sre.IN
_RANGE: Final = _sre.RANGE
_NEGATE: Final = _sre.NEGATE
_CATEGORY: Final = _sre.CATEGORY
_BRANCH: Final = _sre.BRANCH
_SUBPATTERN: Final = _sre.SUBPATTERN
_AT: Final = _sre.AT
_REPEATS: Final = (_sre.MAX_REPEAT, _sre.MIN_REPEAT)
_UNBOUNDED: Final[int] = _sre.MAXREPEAT
_BACKREFERENCES: Final = (_sre.GROUPREF, _sre.GROUPREF_EXISTS)
_LOOKAROUND: Final = (_sre.ASSERT, _sre.ASSERT_NOT)
_ATOMIC: Final = (_sre.ATOMIC_GROUP, _sre.POSSESSIVE_REPEAT)
_SINGLE_CHAR: Final = (_LITERAL, _NOT_LITERAL, _ANY, _IN)
_MAX_REGEX_NESTING: Final = 50


def _anything(_char: str) -> bool:
    return True


def _is_word(char: str) -> bool:
    return char.isalnum() or char == "_"


_CATEGORIES: Final[dict[str, Callable[[str], bool]]] = {
    "CATEGORY_DIGIT": lambda c: c.isdecimal() or c.isdigit(),
    "CATEGORY_NOT_DIGIT": lambda c: not c.isdecimal(),
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_NOT_SPACE": lambda c: not c.isspace(),
    "CATEGORY_WORD": _is_word,
    "CATEGORY_NOT_WORD": lambda c: not _is_word(c),
}


def _member(op: Any, av: Any, char: str) -> bool:
    """Whether a single-character element can match ``char`` (True when unsure)."""
    code = ord(char)
    if op is _LITERAL:
        return bool(av == code)
    if op is _NOT_LITERAL:
        return bool(av != code)
    if op is _IN:
        negate = False
        hit = False
        for item_op, item_av in av:
            if item_op is _NEGATE:
                negate = True
            elif item_op is _LITERAL:
                hit = hit or item_av == code
            elif item_op is _RANGE:
                hit = hit or item_av[0] <= code <= item_av[1]
            elif item_op is _CATEGORY:
                hit = hit or _CATEGORIES.get(str(item_av), _anything)(char)
            else:
                return True
        return hit != negate
    return True


def _finite_chars(op: Any, av: Any) -> list[str] | None:
    """The characters a single-character element matches, when it is a short explicit list."""
    if op is _LITERAL:
        return [chr(av)]
    if op is _IN:
        chars: list[str] = []
        for item_op, item_av in av:
            if item_op is _LITERAL:
                chars.append(chr(item_av))
            elif item_op is _RANGE and item_av[1] - item_av[0] < 256:
                chars.extend(chr(code) for code in range(item_av[0], item_av[1] + 1))
            else:
                return None
            if len(chars) > 256:
                return None
        return chars
    return None


def _overlap(first: tuple[Any, Any] | None, second: tuple[Any, Any] | None, ignorecase: bool) -> bool:
    """Whether two single-character elements may match a common character (True when unsure)."""
    if first is None or second is None:
        return True
    for finite, other in ((first, second), (second, first)):
        chars = _finite_chars(*finite)
        if chars is not None:
            variants = {v for c in chars for v in (c, c.lower(), c.upper(), c.swapcase())} if ignorecase else chars
            return any(_member(other[0], other[1], c) for c in variants)
    return True


def _class_string(items: Any) -> list[tuple[Any, Any]] | None:
    """``ab[0-9]{2}`` as a fixed sequence of single-character elements, or None when its length can vary."""
    out: list[tuple[Any, Any]] = []
    for op, av in items:
        if op in _SINGLE_CHAR:
            out.append((op, av))
        elif op is _SUBPATTERN or (op in _REPEATS and av[0] == av[1]):
            inner = _class_string(av[3] if op is _SUBPATTERN else av[2])
            if inner is None:
                return None
            out.extend(inner if op is _SUBPATTERN else inner * av[0])
        else:
            return None
        if len(out) > MAX_REGEX_LENGTH:
            return None
    return out


def _ambiguous_alternation(alternatives: Any, ignorecase: bool) -> bool:
    """Whether a repeated alternation may split one text in several ways (True when unsure).

    Alternatives of fixed length are fine when none can match the beginning of another (a prefix code: one way to
    split); alternatives whose length varies, such as ``(ab?|b)+``, are refused.
    """
    fixed = [word for word in (_class_string(alt) for alt in alternatives) if word is not None]
    if len(fixed) < len(alternatives):
        return True
    if all(op is _LITERAL for word in fixed for op, _ in word):
        texts = sorted("".join(chr(av) for _, av in word) for word in fixed)
        if ignorecase:
            texts = sorted(text.lower() for text in texts)
        return any(later.startswith(text) for text, later in itertools.pairwise(texts))
    if len(fixed) > 64:
        return True
    for i, first in enumerate(fixed):
        for second in fixed[i + 1 :]:
            short, long = (first, second) if len(first) <= len(second) else (second, first)
            if all(_overlap(a, b, ignorecase) for a, b in zip(short, long, strict=False)):
                return True
    return False


def _unwrap(items: Any) -> list[tuple[Any, Any]]:
    """A group's items, looking through groups that hold a single group."""
    result: list[tuple[Any, Any]] = list(items)
    while len(result) == 1 and result[0][0] is _SUBPATTERN:
        result = list(result[0][1][3])
    return result


def _nullable(items: Any) -> bool:
    """Whether ``items`` can match the empty string (True when unsure)."""
    for op, av in items:
        if op in _SINGLE_CHAR:
            return False
        if op in _REPEATS:
            if av[0] >= 1 and not _nullable(av[2]):
                return False
        elif op is _SUBPATTERN:
            if not _nullable(av[3]):
                return False
        elif op is _BRANCH and not any(_nullable(alt) for alt in av[1]):
            return False
    return True


def _single_char_repeat(op: Any, av: Any) -> tuple[Any, Any] | None:
    """For ``x+``, ``[a-z]{1,63}`` and the like: the repeated single-character element."""
    if op not in _REPEATS:
        return None
    body = _unwrap(av[2])
    if len(body) == 1 and body[0][0] in _SINGLE_CHAR:
        return body[0]
    return None


def _delimited(body: Any, ignorecase: bool) -> bool:
    """``(\\w+\\.)+``, ``(/[^/]+)+``: a single-character repeat and a separator it cannot match; one way to split."""
    items = _unwrap(body)
    if len(items) != 2:
        return False
    for repeat, separator in ((items[0], items[1]), (items[1], items[0])):
        element = _single_char_repeat(*repeat)
        if element is not None and separator[0] in (_LITERAL, _IN):
            return not _overlap(element, separator, ignorecase)
    return False


def _is_large(low: int, high: int) -> bool:
    return high == _UNBOUNDED or (high > 10 and high > low)


def _regex_problem(items: Any, inside: bool, ignorecase: bool, depth: int) -> str | None:
    if depth > _MAX_REGEX_NESTING:
        return f"groups nested deeper than {_MAX_REGEX_NESTING} levels"
    for op, av in items:
        if op in _BACKREFERENCES:
            return "backreferences are not supported (RE2)"
        if op in _LOOKAROUND:
            return "lookahead and lookbehind are not supported (RE2)"
        if op in _ATOMIC:
            return "atomic groups and possessive quantifiers are not supported (RE2)"
        if op in _REPEATS:
            low, high, body = av
            if low > _MAX_REPEAT_COUNT or (high != _UNBOUNDED and high > _MAX_REPEAT_COUNT):
                return f"repetition counts above {_MAX_REPEAT_COUNT} are not supported (RE2)"
            large = _is_large(low, high)
            if large and inside:
                return "nested quantifiers such as (a+)+ can backtrack for ever"
            body_inside = inside or (large and not _delimited(body, ignorecase))
            problem = _regex_problem(body, body_inside, ignorecase, depth + 1)
            if problem:
                return problem
            if large and _nullable(body):
                return "a repeated group that can match the empty string can backtrack for ever"
        elif op is _SUBPATTERN:
            problem = _regex_problem(av[3], inside, ignorecase, depth + 1)
            if problem:
                return problem
        elif op is _BRANCH:
            alternatives = av[1]
            if inside:
                if any(_nullable(alt) for alt in alternatives):
                    return "a repeated alternation with an empty alternative, such as (a|aa)+, can backtrack for ever"
                if _ambiguous_alternation(alternatives, ignorecase):
                    return "a repeated alternation whose alternatives overlap, such as (a|ab)+, can backtrack"
            for alt in alternatives:
                problem = _regex_problem(alt, inside, ignorecase, depth + 1)
                if problem:
                    return problem
    return None


@functools.lru_cache(maxsize=4096)
def check_regex(regex: str) -> str | None:
    """What is wrong with a ``MATCHES`` regex, or None.

    Refused: over :data:`MAX_REGEX_LENGTH` characters; invalid for Python's ``re`` (compiled, never run); features
    RE2 lacks (backreferences, lookaround, atomic groups, possessive quantifiers, counts over 1000); and shapes that
    make a backtracking engine take exponential time, found structurally on the parsed regex: a repeated group
    holding another repeat (``(a+)+``, ``(.*)*``) unless a separator splits it (``(\\w+\\.)+`` is fine), a repeated
    group that can match nothing, and a repeated alternation whose alternatives overlap (``(a|aa)+``, ``(a|a)*``).
    """
    if len(regex) > MAX_REGEX_LENGTH:
        return f"longer than {MAX_REGEX_LENGTH} characters"
    try:
        re.compile(regex)
        parsed = _sre.parse(regex)
    except re.error as exc:
        return f"invalid regex: {exc}"
    except (RecursionError, OverflowError, MemoryError):
        return "too complex to compile"
    ignorecase = bool(parsed.state.flags & re.IGNORECASE) or re.search(r"\(\?[a-zA-Z-]*i", regex) is not None
    problem: str | None = _regex_problem(parsed, False, ignorecase, 0)
    return problem
