"""MISP warninglists: lists of well-known values (private and reserved ranges, public DNS resolvers, top domains,
cloud and CDN ranges, hashes of empty files...) that would cause false positives if blocked.

:func:`load` parses one list in the MISP warninglist JSON format (``name``, ``version``, ``description``, ``type``,
``matching_attributes``, ``list``); :class:`WarninglistSet` compiles many lists for fast matching and
:meth:`WarninglistSet.match` tells which lists a :class:`~herdsec.ioc.types.Value` is on; :func:`shipped` is the set
of lists shipped in ``herdsec/ioc/data/warninglists`` (see ``SOURCES.md`` there).

Matching per list type (entries and values compare case-insensitively):

* ``string``: the value equals an entry.  A URL is also compared by its host, an email address by its domain.  An
  entry written with a leading dot (``.google.ad``) is the domain ``google.ad``, matched exactly.
* ``hostname``: the value's host (a domain, a URL's host, an email's domain) is an entry or a subdomain of one,
  found by a walk over its label suffixes.  When the set knows the public suffixes (the shipped set does), the walk
  stops at a public suffix: ``evil.github.io`` is not "a subdomain of a top domain" because ``github.io`` is a public
  suffix; ``github.io`` itself still matches.
* ``substring``: an entry occurs in the value; all entries are compiled into one trie-shaped regular expression.
* ``cidr``: an IPv4/IPv6 address is inside a listed network; a queried network matches when it lies entirely inside
  a listed one.  A URL whose host is an IP literal is checked as that IP.  Networks are held as sorted integer
  ranges searched with :mod:`bisect`.
* ``regex``: ``re.search`` with the MISP/PCRE ``/pattern/flags`` syntax.  Patterns with backreferences or nested
  unbounded quantifiers (catastrophic backtracking) are refused and recorded in :attr:`WarninglistSet.problems`,
  as is any entry that cannot be used; values longer than :data:`REGEX_MAX_INPUT` are not run through regexes.

Which lists apply to which value type follows each list's ``matching_attributes`` (MISP attribute types) through
:data:`MISP_ATTRIBUTE_TYPES`; a list without ``matching_attributes`` applies to every type.

``python -m herdsec.ioc.warninglists refresh LISTS_DIR`` rebuilds the shipped data from a misp-warninglists
checkout's ``lists`` folder (see :data:`SHIPPED`).
"""

from __future__ import annotations

import bisect
import gzip
import ipaddress
import json
import os
import re
import socket
import sys
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from herdsec.core.errors import N_, InvalidInput
from herdsec.ioc.types import IocType, Value

__all__ = [
    "MISP_ATTRIBUTE_TYPES",
    "REGEX_MAX_INPUT",
    "REGEX_MAX_PATTERN",
    "Hit",
    "ListType",
    "LoadProblem",
    "Warninglist",
    "WarninglistSet",
    "ioc_types_for",
    "load",
    "load_directory",
    "shipped",
]

REGEX_MAX_PATTERN = 1000
"""Longest regex entry accepted (characters)."""
REGEX_MAX_INPUT = 2048
"""Values longer than this are not matched against regex lists."""
_BIG_REPEAT = 100  # a bounded repeat above this counts as unbounded for the backtracking check


class ListType(StrEnum):
    """The five MISP warninglist types."""

    STRING = "string"
    SUBSTRING = "substring"
    HOSTNAME = "hostname"
    CIDR = "cidr"
    REGEX = "regex"


_IP = frozenset({IocType.IPV4, IocType.IPV6, IocType.CIDR})

MISP_ATTRIBUTE_TYPES: Mapping[str, frozenset[IocType]] = {
    # addresses and networks
    "ip-src": _IP,
    "ip-dst": _IP,
    "ip-src|port": _IP,
    "ip-dst|port": _IP,
    "domain|ip": _IP | {IocType.DOMAIN},
    # names
    "domain": frozenset({IocType.DOMAIN}),
    "hostname": frozenset({IocType.DOMAIN}),
    "hostname|port": frozenset({IocType.DOMAIN}),
    "url": frozenset({IocType.URL}),
    "uri": frozenset({IocType.URL}),
    "link": frozenset({IocType.URL}),
    # e-mail addresses
    "email": frozenset({IocType.EMAIL}),
    "email-src": frozenset({IocType.EMAIL}),
    "email-dst": frozenset({IocType.EMAIL}),
    "email-reply-to": frozenset({IocType.EMAIL}),
    "target-email": frozenset({IocType.EMAIL}),
    "whois-registrant-email": frozenset({IocType.EMAIL}),
    "dns-soa-email": frozenset({IocType.EMAIL}),
    # file hashes (the filename|hash composites carry the same hash)
    "md5": frozenset({IocType.MD5}),
    "filename|md5": frozenset({IocType.MD5}),
    "sha1": frozenset({IocType.SHA1}),
    "filename|sha1": frozenset({IocType.SHA1}),
    "sha256": frozenset({IocType.SHA256}),
    "filename|sha256": frozenset({IocType.SHA256}),
    "sha512": frozenset({IocType.SHA512}),
    "filename|sha512": frozenset({IocType.SHA512}),
    # the rest of the vocabulary
    "filename": frozenset({IocType.FILENAME}),
    "mutex": frozenset({IocType.MUTEX}),
    "regkey": frozenset({IocType.REGKEY}),
    "regkey|value": frozenset({IocType.REGKEY}),
    "user-agent": frozenset({IocType.USER_AGENT}),
    "ja3-fingerprint-md5": frozenset({IocType.JA3}),
    "vulnerability": frozenset({IocType.CVE}),
}
"""MISP attribute types (as in ``matching_attributes``) onto the hub's value types; others (sha224, ssdeep,
x509 fingerprints, phone numbers...) have no hub type and are ignored."""


def ioc_types_for(matching_attributes: Iterable[str]) -> frozenset[IocType]:
    """The value types a list with these ``matching_attributes`` applies to (every type when there are none)."""
    attributes = list(matching_attributes)
    if not attributes:
        return frozenset(IocType)
    found: set[IocType] = set()
    for attribute in attributes:
        found |= MISP_ATTRIBUTE_TYPES.get(attribute.strip().lower(), frozenset())
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Warninglist:
    """One MISP warninglist as written (entries stripped, blanks and duplicates dropped)."""

    name: str
    version: int
    description: str
    type: ListType
    matching_attributes: tuple[str, ...]
    entries: tuple[str, ...]
    source: str = "<dict>"

    @property
    def ioc_types(self) -> frozenset[IocType]:
        return ioc_types_for(self.matching_attributes)


@dataclass(frozen=True, slots=True)
class Hit:
    """A value is on the list ``list_name`` because of ``entry`` (as written in the list)."""

    list_name: str
    list_type: ListType
    entry: str


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """An entry that could not be used (skipped) when compiling a :class:`WarninglistSet`."""

    list_name: str
    where: str
    entry: str
    reason: str


# ---------------------------------------------------------------------------------------------------------------
# Loading


def load(source: str | os.PathLike[str] | Traversable | Mapping[str, Any], *, where: str | None = None) -> Warninglist:
    """Parse one warninglist from a file (``.json`` or ``.json.gz``) or an already decoded JSON object.

    Raises :class:`~herdsec.core.errors.InvalidInput` naming the file and field (``where="<file>:<field>"``).
    """
    if isinstance(source, Mapping):
        return _parse(source, where or "<dict>")
    resource: Traversable = Path(source) if isinstance(source, str | os.PathLike) else source
    label = where or (str(source) if isinstance(source, str | os.PathLike) else resource.name)
    try:
        data = resource.read_bytes()
    except OSError as e:
        raise InvalidInput(N_("Cannot read the warninglist: %(error)s"), where=label, error=str(e)) from e
    if resource.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as e:
            raise InvalidInput(N_("Not a valid gzip file: %(error)s"), where=label, error=str(e)) from e
    try:
        decoded = json.loads(data)
    except json.JSONDecodeError as e:
        raise InvalidInput(
            N_("Not valid JSON: %(error)s (line %(line)s, column %(column)s)"),
            where=label,
            error=e.msg,
            line=e.lineno,
            column=e.colno,
        ) from e
    except UnicodeDecodeError as e:
        raise InvalidInput(N_("Not valid UTF-8 text: %(error)s"), where=label, error=str(e)) from e
    return _parse(decoded, label)


def _parse(data: object, label: str) -> Warninglist:
    if not isinstance(data, Mapping):
        raise InvalidInput(
            N_("A warninglist must be a JSON object, not %(kind)s"), where=label, kind=type(data).__name__
        )

    def required(field: str) -> object:
        if field not in data:
            raise InvalidInput(N_("The required field %(field)s is missing"), where=f"{label}:{field}", field=field)
        return data[field]

    def strings(field: str, value: object) -> list[str]:
        if not isinstance(value, list):
            raise InvalidInput(N_("Expected a list of strings"), where=f"{label}:{field}")
        for i, item in enumerate(value):
            if not isinstance(item, str):
                raise InvalidInput(
                    N_("Expected a string, not %(kind)s"), where=f"{label}:{field}[{i}]", kind=type(item).__name__
                )
        return value

    name = required("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(N_("The name must be a non-empty string"), where=f"{label}:name")
    raw_type = required("type")
    try:
        list_type = ListType(raw_type) if isinstance(raw_type, str) else None
    except ValueError:
        list_type = None
    if list_type is None:
        raise InvalidInput(
            N_("Unknown warninglist type %(type)s; expected one of %(expected)s"),
            where=f"{label}:type",
            type=json.dumps(raw_type),
            expected=", ".join(t.value for t in ListType),
        )
    raw_version = required("version")
    if isinstance(raw_version, int) and not isinstance(raw_version, bool):
        version = raw_version
    elif isinstance(raw_version, str) and raw_version.strip().isdigit():
        version = int(raw_version)
    else:
        raise InvalidInput(N_("The version must be an integer"), where=f"{label}:version")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise InvalidInput(N_("The description must be a string"), where=f"{label}:description")
    attributes = strings("matching_attributes", data.get("matching_attributes", []))
    entries = strings("list", required("list"))
    return Warninglist(
        name=name.strip(),
        version=version,
        description=description,
        type=list_type,
        matching_attributes=tuple(dict.fromkeys(a.strip() for a in attributes if a.strip())),
        entries=tuple(dict.fromkeys(e.strip() for e in entries if e.strip())),
        source=label,
    )


def load_directory(directory: str | os.PathLike[str] | Traversable) -> list[Warninglist]:
    """Every list in a folder, by file name: ``*.json`` and ``*.json.gz`` files, and ``<name>/list.json`` as in a
    misp-warninglists checkout's ``lists`` folder."""
    root: Traversable = Path(directory) if isinstance(directory, str | os.PathLike) else directory
    found: list[Warninglist] = []
    for item in sorted(root.iterdir(), key=lambda t: t.name):
        if item.is_file() and item.name.endswith((".json", ".json.gz")):
            found.append(load(item, where=item.name))
        elif item.is_dir() and (item / "list.json").is_file():
            found.append(load(item / "list.json", where=f"{item.name}/list.json"))
    return found


# ---------------------------------------------------------------------------------------------------------------
# Normalisation of list entries and of query values (own and local: it must agree with herdsec.ioc.normalise on
# what a normalised value looks like: domains in lowercase punycode without a trailing dot, IPv6 compressed
# lowercase, networks as network/prefix).

_DOMAINISH = re.compile(r"\.?[^\s/@:\\\[\]]+\.[^\s/@:\\\[\]]+\.?")
_NOT_IN_DOMAIN = re.compile(r"[\s/@\\]|\.\.")
_IPISH = re.compile(r"[0-9A-Fa-f.:]*[.:][0-9A-Fa-f.:]*(?:/[0-9]{1,3})?")


def _norm_domain(text: str) -> str | None:
    """A domain as compared here: lowercase punycode, no leading ``*.``/``.`` and no trailing dot."""
    s = text.strip().lower()
    if s.startswith("*."):
        s = s[2:]
    s = s.strip(".")
    if not s or _NOT_IN_DOMAIN.search(s):
        return None
    if not s.isascii():
        try:
            s = s.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return s


def _query_domain(text: str) -> str:
    """A (normally already normalised) domain of a query value; cheap when it already is."""
    s = text.lower().rstrip(".")
    if not s.isascii():
        try:
            s = s.encode("idna").decode("ascii")
        except UnicodeError:
            return s  # compared as written: it cannot be on a list in punycode
    return s


def _string_key(entry: str) -> str:
    """The key a ``string`` entry is indexed under: IPs and networks canonical, domains normalised, else lowercase."""
    if _IPISH.fullmatch(entry) and _parse_net(entry) is not None:  # written as ipaddress (and normalise) writes it
        if "/" in entry:
            return ipaddress.ip_network(entry.strip(), strict=False).compressed
        return ipaddress.ip_address(entry.strip()).compressed
    if _DOMAINISH.fullmatch(entry):
        domain = _norm_domain(entry)
        if domain is not None:
            return domain
    return entry.lower()


def _parse_ip(text: str) -> tuple[int, int] | None:
    """``(4 or 6, integer)`` for an IP address literal, else None."""
    try:
        if ":" in text:
            return 6, int.from_bytes(socket.inet_pton(socket.AF_INET6, text), "big")
        return 4, int.from_bytes(socket.inet_pton(socket.AF_INET, text), "big")
    except (OSError, ValueError):
        return None


def _parse_net(text: str) -> tuple[int, int, int] | None:
    """``(4 or 6, first, last)`` for an address or ``address/prefix`` (host bits ignored), else None."""
    address, slash, prefix = text.strip().partition("/")
    ip = _parse_ip(address)
    if ip is None:
        return None
    family, n = ip
    bits = 32 if family == 4 else 128
    if slash:
        if not (prefix.isascii() and prefix.isdigit()) or int(prefix) > bits:
            return None
        host_bits = bits - int(prefix)
    else:
        host_bits = 0
    lo = n >> host_bits << host_bits
    return family, lo, lo | ((1 << host_bits) - 1)


def _url_host(url: str) -> str:
    """The host of a URL (lowercase, without userinfo, port or IPv6 brackets); '' when there is none."""
    _, sep, rest = url.partition("://")
    if not sep:
        rest = url
    end = len(rest)
    for stop in "/?#":
        i = rest.find(stop)
        if i != -1 and i < end:
            end = i
    authority = rest[:end].rpartition("@")[2]
    if authority.startswith("["):
        return authority[1:].partition("]")[0].lower()
    return authority.partition(":")[0].lower()


# ---------------------------------------------------------------------------------------------------------------
# Compiled matchers


class _TrieNode:
    __slots__ = ("children", "terminal")

    def __init__(self) -> None:
        self.children: dict[str, _TrieNode] = {}
        self.terminal = False


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching exactly the given literals, shaped like their trie so that matching at one
    position walks the trie once (no backtracking over thousands of alternatives).  Greedy: at one position it
    matches the longest word."""
    root = _TrieNode()
    for word in words:
        node = root
        for ch in word:
            node = node.children.setdefault(ch, _TrieNode())
        node.terminal = True

    def emit(node: _TrieNode) -> str:
        alternatives = []
        for ch, child in sorted(node.children.items()):
            run = [ch]
            while len(child.children) == 1 and not child.terminal:  # a chain of single children: one literal
                next_ch, child = next(iter(child.children.items()))
                run.append(next_ch)
            alternatives.append(re.escape("".join(run)) + emit(child))
        if not alternatives:
            return ""
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        return f"(?:{body})?" if node.terminal else body

    return emit(root)


class _SubstringMatcher:
    """All needles occurring in a text, in time linear in the text (for a bounded needle length)."""

    def __init__(self, needles: Mapping[str, list[int]]) -> None:
        self._needles = needles
        self._lengths = sorted({len(n) for n in needles})
        self._rx: re.Pattern[str] | None = None
        if needles:
            self._rx = re.compile(_trie_pattern(needles))

    def find(self, text: str) -> list[int]:
        found: list[int] = []
        if self._rx is None:
            return found
        search, needles, lengths = self._rx.search, self._needles, self._lengths
        pos = 0
        while (m := search(text, pos)) is not None:
            longest = m.group()
            # every needle starting here is a prefix of the longest one (the trie walk is deterministic)
            for length in lengths:
                if length > len(longest):
                    break
                refs = needles.get(longest[:length])
                if refs:
                    found.extend(refs)
            pos = m.start() + 1
        return found


class _RangeIndex:
    """Integer ranges (with payload ids) cut into sorted, disjoint intervals, each carrying the ids of every range
    covering it; point and range-containment queries by :func:`bisect.bisect_right`."""

    def __init__(self, ranges: Iterable[tuple[int, int, int]]) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._refs: list[tuple[int, ...]] = []
        self._interned: dict[tuple[int, ...], tuple[int, ...]] = {}
        # Clusters of overlapping ranges are cut by a sweep; a range overlapping nothing (most) is one interval.
        cluster: list[tuple[int, int, int]] = []
        cluster_end = -1
        for item in sorted(ranges):
            if item[0] > cluster_end:
                self._add_cluster(cluster)
                cluster, cluster_end = [item], item[1]
            else:
                cluster.append(item)
                cluster_end = max(cluster_end, item[1])
        self._add_cluster(cluster)
        del self._interned

    def _add_cluster(self, cluster: list[tuple[int, int, int]]) -> None:
        if len(cluster) == 1:
            lo, hi, ref = cluster[0]
            self._starts.append(lo)
            self._ends.append(hi)
            self._refs.append((ref,))
            return
        opening: dict[int, list[int]] = {}
        closing: dict[int, list[int]] = {}
        for lo, hi, ref in cluster:
            opening.setdefault(lo, []).append(ref)
            closing.setdefault(hi + 1, []).append(ref)
        active: dict[int, None] = {}
        points = sorted(opening.keys() | closing.keys())
        for k, point in enumerate(points):
            for ref in closing.get(point, ()):
                del active[ref]
            for ref in opening.get(point, ()):
                active[ref] = None
            if not active:
                continue
            end = points[k + 1] - 1  # active ranges always close at a later point
            refs = tuple(sorted(active))
            refs = self._interned.setdefault(refs, refs)
            if self._ends and self._ends[-1] == point - 1 and self._refs[-1] == refs:
                self._ends[-1] = end
            else:
                self._starts.append(point)
                self._ends.append(end)
                self._refs.append(refs)

    def __len__(self) -> int:
        return len(self._starts)

    def point(self, n: int) -> tuple[int, ...]:
        i = bisect.bisect_right(self._starts, n) - 1
        if i >= 0 and n <= self._ends[i]:
            return self._refs[i]
        return ()

    def containing(self, lo: int, hi: int) -> tuple[int, ...]:
        """Ids of the ranges that contain all of ``lo..hi``."""
        first = self.point(lo)
        if not first or lo == hi:
            return first
        last = self.point(hi)
        if last is first:
            return first
        common = set(last)
        return tuple(ref for ref in first if ref in common)  # a range holding both ends holds all between


_PCRE = re.compile(r"\A([/#~%@!])(.*)\1([A-Za-z]*)\Z", re.DOTALL)  # the usual PCRE delimiters
_PCRE_FLAGS = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE, "u": 0, "g": 0, "D": 0}
_QUANTIFIER = re.compile(r"\{(\d*)(,?)(\d*)\}")


def _compile_regex(entry: str) -> re.Pattern[str]:
    """Compile a MISP regex entry (``/pattern/flags`` or a bare pattern); ValueError says why it is refused."""
    pattern, flags = entry, 0
    m = _PCRE.match(entry)
    if m:
        pattern = m.group(2)
        for letter in m.group(3):
            if letter not in _PCRE_FLAGS:
                raise ValueError(f"unsupported regex flag {letter!r}")
            flags |= _PCRE_FLAGS[letter]
    if len(pattern) > REGEX_MAX_PATTERN:
        raise ValueError(f"pattern longer than {REGEX_MAX_PATTERN} characters")
    risk = _backtracking_risk(pattern)
    if risk:
        raise ValueError(risk)
    try:
        return re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError) as e:
        raise ValueError(f"invalid regular expression: {e}") from e


def _backtracking_risk(pattern: str) -> str | None:
    """Why running ``pattern`` with a backtracking engine may take for ever, or None.

    Refused: backreferences (``\\1``, ``(?P=name)``, ``\\k<name>``, ``\\g{1}``, conditionals ``(?(1)...)``), and a
    repeated atom that itself contains a repeat where either repeat is unbounded (``(a+)+``, ``(a*b?)*``,
    ``(\\w+\\.){2,}``, ``(x{1,5})*``)."""
    # Each open group: [contains an unbounded repeat, contains a repeat of more than one]
    stack: list[list[bool]] = [[False, False]]
    atom: tuple[bool, bool] | None = None  # the last atom's [unbounded inside, multi inside]
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\":
            nxt = pattern[i + 1 : i + 2]
            if nxt in ("k", "g") or (nxt.isdigit() and nxt != "0"):
                return "backreferences are not allowed"
            atom, i = (False, False), i + 2
        elif c == "[":
            i += 1
            if pattern[i : i + 1] == "^":
                i += 1
            if pattern[i : i + 1] == "]":
                i += 1
            while i < n and pattern[i] != "]":
                i += 2 if pattern[i] == "\\" else 1
            atom, i = (False, False), i + 1
        elif c == "(":
            if pattern.startswith(("(?P=", "(?("), i):
                return "backreferences are not allowed"
            i += 1
            if pattern[i : i + 1] == "?":  # (?:, (?=, (?!, (?<=, (?<!, (?>, (?P<name>, (?<name>, (?i), (?i-s:
                i += 1
                if pattern.startswith(("<=", "<!"), i):
                    i += 2
                elif pattern.startswith(("P<", "<"), i):
                    i = pattern.find(">", i) + 1 or n
                elif pattern[i : i + 1] in ("=", "!", ">"):
                    i += 1
                else:
                    while i < n and pattern[i] in "aiLmsux-":
                        i += 1
                    if pattern[i : i + 1] == ":":
                        i += 1
            stack.append([False, False])
            atom = None
        elif c == ")":
            inner = stack.pop() if len(stack) > 1 else [False, False]
            stack[-1][0] |= inner[0]
            stack[-1][1] |= inner[1]
            atom, i = (inner[0], inner[1]), i + 1
        elif c in "*+?{":
            if c == "{":
                q = _QUANTIFIER.match(pattern, i)
                if q is None:  # a literal brace
                    atom, i = (False, False), i + 1
                    continue
                low, comma, high = q.groups()
                most = (int(high) if high else None) if comma else int(low or 0)
                i = q.end()
            else:
                most = 1 if c == "?" else None
                i += 1
            unbounded = most is None or most > _BIG_REPEAT
            multi = most is None or most > 1
            if atom is not None and ((unbounded and atom[1]) or (multi and atom[0])):
                return "nested repeats (catastrophic backtracking) are not allowed"
            stack[-1][0] |= unbounded
            stack[-1][1] |= multi
            if pattern[i : i + 1] in ("?", "+"):  # lazy or possessive
                i += 1
            atom = None
        elif c == "|":
            atom, i = None, i + 1
        else:
            atom, i = (False, False), i + 1
    return None


# ---------------------------------------------------------------------------------------------------------------
# The set


class _KeyIndex:
    """Keys to entry ids; most keys have one id, kept without a list."""

    __slots__ = ("more", "one")

    def __init__(self) -> None:
        self.one: dict[str, int] = {}
        self.more: dict[str, list[int]] = {}

    def add(self, key: str, ref: int) -> None:
        if self.one.setdefault(key, ref) != ref:
            self.more.setdefault(key, []).append(ref)

    def collect(self, key: str, into: list[int]) -> bool:
        ref = self.one.get(key)
        if ref is None:
            return False
        into.append(ref)
        if self.more:
            into.extend(self.more.get(key, ()))
        return True


class WarninglistSet:
    """Many warninglists compiled for matching.  Entries that cannot be used are skipped and listed in
    :attr:`problems`.  ``public_suffixes`` bounds the subdomain walk of ``hostname`` lists (see the module doc)."""

    def __init__(self, lists: Iterable[Warninglist], *, public_suffixes: Iterable[str] = ()) -> None:
        self.lists: tuple[Warninglist, ...] = tuple(lists)
        self._problems: list[LoadProblem] = []
        self._public_suffixes = frozenset(d for s in public_suffixes if (d := _norm_domain(s)))
        self._types = [wl.ioc_types for wl in self.lists]
        # An entry's id is its list's offset plus its position in the list.
        self._offsets: list[int] = []
        self._exact = _KeyIndex()
        self._hosts = _KeyIndex()
        needles: dict[str, list[int]] = {}
        ranges: dict[int, list[tuple[int, int, int]]] = {4: [], 6: []}
        self._regexes: list[tuple[int, re.Pattern[str]]] = []
        kinds: dict[IocType, set[ListType]] = {t: set() for t in IocType}

        count = 0
        for index, wl in enumerate(self.lists):
            self._offsets.append(count)
            for t in self._types[index]:
                kinds[t].add(wl.type)
            for ref, entry in enumerate(wl.entries, start=count):
                if wl.type is ListType.STRING:
                    self._exact.add(_string_key(entry), ref)
                elif wl.type is ListType.HOSTNAME:
                    host = _norm_domain(entry.split("://", 1)[-1].split("/", 1)[0])
                    if host is None:
                        self._problem(wl, entry, "not a hostname")
                    else:
                        self._hosts.add(host, ref)
                elif wl.type is ListType.SUBSTRING:
                    needles.setdefault(entry.lower(), []).append(ref)
                elif wl.type is ListType.CIDR:
                    net = _parse_net(entry)
                    if net is None:
                        self._problem(wl, entry, "not an IP address or network")
                    else:
                        ranges[net[0]].append((net[1], net[2], ref))
                else:
                    try:
                        self._regexes.append((ref, _compile_regex(entry)))
                    except ValueError as e:
                        self._problem(wl, entry, str(e))
            count += len(wl.entries)
        self._count = count

        self._kinds = {t: frozenset(k) for t, k in kinds.items()}
        self._url_ip_lists = ListType.CIDR in self._kinds[IocType.IPV4] | self._kinds[IocType.IPV6]
        try:
            self._substrings = _SubstringMatcher(needles)
        except (re.error, RecursionError, OverflowError) as e:  # pathological needles: match none, say so
            self._substrings = _SubstringMatcher({})
            for needle, refs in needles.items():
                wl = self.lists[bisect.bisect_right(self._offsets, refs[0]) - 1]
                self._problem(wl, needle, f"substring lists could not be compiled: {e}")
        self._v4 = _RangeIndex(ranges[4])
        self._v6 = _RangeIndex(ranges[6])

    def _problem(self, wl: Warninglist, entry: str, reason: str) -> None:
        self._problems.append(LoadProblem(wl.name, f"{wl.source}:list", entry, reason))

    @property
    def problems(self) -> tuple[LoadProblem, ...]:
        return tuple(self._problems)

    def __len__(self) -> int:
        return len(self.lists)

    @property
    def entry_count(self) -> int:
        return self._count

    def match(self, value: Value) -> list[Hit]:
        """The lists ``value`` is on (one hit per matching entry, in list order)."""
        return self.match_text(value.type, value.value)

    def match_text(self, t: IocType, text: str) -> list[Hit]:
        """The lists a normalised value of type ``t`` is on (:meth:`match` without building a Value)."""
        kinds = self._kinds[t]
        refs: list[int] = []
        host: str | None = None
        if t is IocType.DOMAIN:
            text = host = _query_domain(text)
        elif t is IocType.URL:
            host = _query_domain(_url_host(text))
        elif t is IocType.EMAIL:
            host = _query_domain(text.rpartition("@")[2])

        if ListType.STRING in kinds:
            key = text.lower()
            self._exact.collect(key, refs)
            if host and host != key:
                self._exact.collect(host, refs)
        if ListType.HOSTNAME in kinds and host:
            refs.extend(self._host_refs(host))
        if ListType.SUBSTRING in kinds:
            refs.extend(self._substrings.find(text.lower()))
        if ListType.REGEX in kinds and len(text) <= REGEX_MAX_INPUT:
            refs.extend(ref for ref, rx in self._regexes if rx.search(text))
        if ListType.CIDR in kinds:
            refs.extend(self._ip_refs(t, text))
        hits = self._hits(refs, t)
        if t is IocType.URL and host and self._url_ip_lists:
            ip = _parse_ip(host)
            if ip is not None:
                ip_type = IocType.IPV4 if ip[0] == 4 else IocType.IPV6
                hits += self._hits(list(self._ip_refs(ip_type, host)), ip_type)
        return hits

    def _host_refs(self, host: str) -> list[int]:
        collect, suffixes = self._hosts.collect, self._public_suffixes
        found: list[int] = []
        collect(host, found)
        dot = host.find(".")
        while dot != -1:
            parent = host[dot + 1 :]
            if parent in suffixes:
                break
            collect(parent, found)
            dot = host.find(".", dot + 1)
        return found

    def _ip_refs(self, t: IocType, text: str) -> Sequence[int]:
        if t is IocType.IPV4 or t is IocType.IPV6:
            ip = _parse_ip(text)
            if ip is None:
                return ()
            family, n = ip
            if family == 4:
                return self._v4.point(n)
            if n >> 32 == 0xFFFF:  # ::ffff:a.b.c.d is the IPv4 address a.b.c.d
                return self._v6.point(n) + self._v4.point(n & 0xFFFFFFFF)
            return self._v6.point(n)
        if t is IocType.CIDR:
            net = _parse_net(text)
            if net is None:
                return ()
            family, lo, hi = net
            return (self._v4 if family == 4 else self._v6).containing(lo, hi)
        return ()

    def _hits(self, refs: list[int], t: IocType) -> list[Hit]:
        if not refs:
            return []
        hits: list[Hit] = []
        for ref in sorted(set(refs)) if len(refs) > 1 else refs:
            index = bisect.bisect_right(self._offsets, ref) - 1
            if t in self._types[index]:
                wl = self.lists[index]
                hits.append(Hit(wl.name, wl.type, wl.entries[ref - self._offsets[index]]))
        return hits


# ---------------------------------------------------------------------------------------------------------------
# The shipped lists

_DATA_PACKAGE = "herdsec.ioc"
_DATA_DIR = ("data", "warninglists")
_PUBLIC_SUFFIX_FILES = ("second-level-tlds", "tlds")


def _shipped_dir() -> Traversable:
    folder = resources.files(_DATA_PACKAGE)
    for part in _DATA_DIR:
        folder = folder / part
    return folder


@cache
def shipped() -> WarninglistSet:
    """The warninglists shipped with HerdSec (loaded once).  The public suffixes bounding the hostname walk are the
    shipped ``second-level-tlds`` and ``tlds`` lists."""
    lists = load_directory(_shipped_dir())
    suffixes = [
        entry
        for wl in lists
        if wl.source.removesuffix(".gz").removesuffix(".json") in _PUBLIC_SUFFIX_FILES
        for entry in wl.entries
    ]
    return WarninglistSet(lists, public_suffixes=suffixes)


@dataclass(frozen=True, slots=True)
class _Ship:
    folder: str  # in misp-warninglists/lists
    group: str


SHIPPED: tuple[_Ship, ...] = (
    # private, reserved and special-purpose addresses and names
    _Ship("rfc1918", "reserved"),
    _Ship("rfc5735", "reserved"),
    _Ship("rfc6598", "reserved"),
    _Ship("rfc3849", "reserved"),
    _Ship("ipv6-linklocal", "reserved"),
    _Ship("multicast", "reserved"),
    _Ship("rfc6761", "reserved"),
    # public DNS resolvers
    _Ship("public-dns-v4", "dns"),
    _Ship("public-dns-v6", "dns"),
    _Ship("public-dns-hostname", "dns"),
    # top domains
    _Ship("tranco10k", "top"),
    # cloud and CDN ranges
    _Ship("amazon-aws", "cloud"),
    _Ship("microsoft-azure", "cloud"),
    _Ship("microsoft-office365-ip", "cloud"),
    _Ship("google-gcp", "cloud"),
    _Ship("oracle-oci", "cloud"),
    _Ship("cloudflare", "cloud"),
    _Ship("akamai", "cloud"),
    _Ship("fastly", "cloud"),
    # well-known benign names, addresses and hashes
    _Ship("google", "known"),
    _Ship("microsoft", "known"),
    _Ship("microsoft-office365", "known"),
    _Ship("microsoft-win10-connection-endpoints", "known"),
    _Ship("crl-hostname", "known"),
    _Ship("crl-ip", "known"),
    _Ship("captive-portals", "known"),
    _Ship("whats-my-ip", "known"),
    _Ship("findip-host", "known"),
    _Ship("security-provider-blogpost", "known"),
    _Ship("automated-malware-analysis", "known"),
    _Ship("microsoft-attack-simulator", "known"),
    _Ship("sinkholes", "known"),
    _Ship("common-contact-emails", "known"),
    _Ship("second-level-tlds", "known"),
    _Ship("tlds", "known"),
    _Ship("empty-hashes", "hashes"),
    _Ship("common-ioc-false-positive", "hashes"),
    _Ship("eicar.com", "hashes"),
    _Ship("ti-falsepositives", "hashes"),
)
"""The MISP lists shipped, from a misp-warninglists checkout, by :func:`refresh`."""

HERDSEC_IPV6_SPECIAL: Mapping[str, Any] = {
    "name": "List of IPv6 special-purpose blocks (HerdSec)",
    "version": 20260820,
    "description": (
        "IPv6 blocks that are not globally routable unicast and that no MISP list covers: unspecified, loopback, "
        "discard-only (RFC 6666), benchmarking (RFC 5180), documentation (RFC 9637), unique-local (RFC 4193), "
        "deprecated site-local (RFC 3879) and multicast (RFC 4291), per the IANA IPv6 address registries."
    ),
    "type": "cidr",
    "matching_attributes": ["ip-src", "ip-dst", "domain|ip", "ip-src|port", "ip-dst|port"],
    "list": ["::/128", "::1/128", "100::/64", "2001:2::/48", "3fff::/20", "fc00::/7", "fec0::/10", "ff00::/8"],
}
"""A list HerdSec adds (facts from the IANA registries) for the IPv6 ranges MISP has no list for."""

_GZIP_OVER = 64 * 1024  # compact JSON above this size is shipped gzipped


def refresh(lists_dir: Path, dest: Path, *, commit: str = "unknown") -> list[str]:
    """Rebuild the shipped lists in ``dest`` from a misp-warninglists ``lists`` folder and write ``SOURCES.md``.

    Hostname lists lose the entries that are dynamic-DNS provider domains (per MISP's ``dynamic-dns`` list):
    subdomains of those belong to anyone.  Returns the written file names."""
    dyn_dns_path = lists_dir / "dynamic-dns" / "list.json"
    dyn_dns = {d for e in load(dyn_dns_path).entries if (d := _norm_domain(e))} if dyn_dns_path.exists() else set()
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.iterdir():
        if old.name.endswith((".json", ".json.gz")):
            old.unlink()
    rows: list[str] = []
    written: list[str] = []
    sources = [(ship.folder, ship.group, load(lists_dir / ship.folder / "list.json")) for ship in SHIPPED]
    sources.append(("herdsec-ipv6-special", "reserved", load(HERDSEC_IPV6_SPECIAL)))
    for folder, group, wl in sources:
        entries = list(wl.entries)
        note = ""
        if wl.type is ListType.HOSTNAME and dyn_dns:
            dropped = [e for e in entries if _norm_domain(e) in dyn_dns]
            entries = [e for e in entries if _norm_domain(e) not in dyn_dns]
            if dropped:
                note = f"{len(dropped)} dynamic-DNS provider domains dropped ({', '.join(sorted(dropped))})"
        document = {
            "name": wl.name,
            "version": wl.version,
            "description": wl.description,
            "type": wl.type.value,
            "matching_attributes": list(wl.matching_attributes),
            "list": entries,
        }
        data = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
        name = f"{folder}.json"
        if len(data) > _GZIP_OVER:
            data, name = gzip.compress(data, compresslevel=9, mtime=0), name + ".gz"
        (dest / name).write_bytes(data)
        written.append(name)
        upstream = "HerdSec (IANA registries), CC0" if folder.startswith("herdsec-") else f"`lists/{folder}/list.json`"
        cells = [f"`{name}`", group, wl.name, str(wl.version), upstream, f"{len(entries):,}", f"{len(data):,}", note]
        rows.append("| " + " | ".join(cells) + " |")
    total = sum((dest / n).stat().st_size for n in written)
    (dest / "SOURCES.md").write_text(_SOURCES_HEADER.format(commit=commit, total=total) + "\n".join(rows) + "\n")
    return written


_SOURCES_HEADER = """\
# Shipped warninglists

Copied from the MISP project's misp-warninglists repository (https://github.com/MISP/misp-warninglists),
commit `{commit}`, licence CC0 1.0 Universal ("MISP warning-lists are licensed under CC0 1.0 Universal
(CC0 1.0) - Public Domain Dedication"), except `herdsec-ipv6-special`, written by HerdSec from the IANA IPv6
address registries (CC0 as well).  Some lists are derived from third-party rankings and published ranges (Tranco, cloud
providers' range files); see each list's description.

Rebuilt by `python -m herdsec.ioc.warninglists refresh <misp-warninglists>/lists --commit <sha>`: compact JSON,
gzipped above 64 KiB, entries as upstream except where the notes say.  Total size: {total:,} bytes.

Matching rules (see `herdsec/ioc/warninglists.py`): the subdomain walk of hostname lists stops at the public
suffixes of `second-level-tlds` and `tlds`, so `evil.github.io` is not flagged as a subdomain of the top-10k
domain `github.io`.

Left out on purpose: `url-shortener` and `dynamic-dns` (hostname lists: every link on a shortener and every
dynamic-DNS host would be flagged, and those are real indicators), `disposable-email`, the VPN, scanner and
iCloud Private Relay ranges (not false positives for this hub's purpose), the other top-domain rankings (Cisco
Umbrella, Cloudflare Radar, Majestic, Alexa; one ranking is enough, and DNS-query rankings carry busy malicious
domains), and the certificate-fingerprint lists (no matching value type).

| file | group | MISP list name | version | upstream path | entries | bytes | notes |
|---|---|---|---|---|---|---|---|
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) >= 2 and args[0] == "refresh":
        commit = "unknown"
        if "--commit" in args:
            at = args.index("--commit")
            commit = args[at + 1]
            del args[at : at + 2]
        dest = Path(args[2]) if len(args) > 2 else Path(__file__).parent.joinpath(*_DATA_DIR)
        for name in refresh(Path(args[1]), dest, commit=commit):
            print(name)
        return 0
    print("usage: python -m herdsec.ioc.warninglists refresh LISTS_DIR [DEST] [--commit SHA]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
