"""Pure rules of STIX 2.1 objects: categories, identifiers, timestamps, required properties, references.

``check(obj)`` returns the first problem of an object as text (None when the object is acceptable). It is strict
where interoperability needs it (ids, timestamps, spec_version, required properties, reference syntax, pattern
syntax) and lenient elsewhere: unknown properties, custom objects (``x-…`` types) and extensions are kept verbatim.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

SCO_TYPES = frozenset(
    {
        "artifact",
        "autonomous-system",
        "directory",
        "domain-name",
        "email-addr",
        "email-message",
        "file",
        "ipv4-addr",
        "ipv6-addr",
        "mac-addr",
        "mutex",
        "network-traffic",
        "process",
        "software",
        "url",
        "user-account",
        "windows-registry-key",
        "x509-certificate",
    }
)
SRO_TYPES = frozenset({"relationship", "sighting"})
META_TYPES = frozenset({"marking-definition", "language-content", "extension-definition"})
SDO_REQUIRED: dict[str, tuple[str, ...]] = {
    "attack-pattern": ("name",),
    "campaign": ("name",),
    "course-of-action": ("name",),
    "grouping": ("context", "object_refs"),
    "identity": ("name",),
    "incident": ("name",),
    "indicator": ("pattern", "pattern_type", "valid_from"),
    "infrastructure": ("name",),
    "intrusion-set": ("name",),
    "location": (),
    "malware": ("is_family",),
    "malware-analysis": ("product",),
    "note": ("content", "object_refs"),
    "observed-data": ("first_observed", "last_observed", "number_observed"),
    "opinion": ("opinion", "object_refs"),
    "report": ("name", "published", "object_refs"),
    "threat-actor": ("name",),
    "tool": ("name",),
    "vulnerability": ("name",),
    "relationship": ("relationship_type", "source_ref", "target_ref"),
    "sighting": ("sighting_of_ref",),
}
TYPE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,248}[a-z0-9]$")
ID_RE = re.compile(
    r"^(?P<type>[a-z0-9][a-z0-9-]{1,248}[a-z0-9])--"
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
TS_RE = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d+)?Z$")
MAX_DEPTH = 32
MAX_STRING = 1_000_000  # one property value; a whole object is limited by the reader
TIMESTAMP_PROPS = (
    "created",
    "modified",
    "valid_from",
    "valid_until",
    "first_seen",
    "last_seen",
    "published",
    "first_observed",
    "last_observed",
    "start_time",
    "stop_time",
)


def category(obj_type: str) -> str:
    """``sco``, ``sro``, ``meta`` or ``sdo`` (custom ``x-`` types count as SDOs unless they look like SCOs)."""
    if obj_type in SCO_TYPES:
        return "sco"
    if obj_type in SRO_TYPES:
        return "sro"
    if obj_type in META_TYPES:
        return "meta"
    return "sdo"


# Timestamps recur (an object's created, modified and valid_from are often equal; a producer writes a bundle in a
# few instants): the parsed form of recent ones is kept, bounded in count and length.
_PARSED: dict[str, datetime | None] = {}
_PARSED_KEPT = 65_536
_PARSED_LENGTH = 40


def parse_timestamp(value: object) -> datetime | None:
    """A STIX timestamp (RFC 3339, UTC, ``Z``) as an aware datetime (sub-microsecond digits are truncated)."""
    if not isinstance(value, str):
        return None
    try:
        return _PARSED[value]
    except KeyError:
        pass
    moment = _parse_timestamp(value)
    if len(value) <= _PARSED_LENGTH:
        if len(_PARSED) >= _PARSED_KEPT:
            _PARSED.clear()
        _PARSED[value] = moment
    return moment


def _parse_timestamp(value: str) -> datetime | None:
    if TS_RE.match(value) is None:
        return None
    try:
        return datetime.fromisoformat(value)  # the regex made sure it is strict RFC 3339 in UTC
    except ValueError:
        return None


def format_timestamp(value: datetime) -> str:
    """Millisecond precision, as STIX producers usually write it (more digits are kept when present)."""
    text = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return (text[:-3] if text.endswith("000") else text) + "Z"


def is_identifier(value: object) -> bool:
    return isinstance(value, str) and ID_RE.match(value) is not None


TIMESTAMP_SET = frozenset(TIMESTAMP_PROPS)


def _walk_problem(stack: list[tuple[Any, int]]) -> str | None:
    """Nested containers, iteratively (no recursion): depth, oversized strings, NUL, long property names."""
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(node, dict):
            if any(len(k) > 250 for k in node):
                return "a property name is longer than 250 characters"
            children = node.values()
        else:
            children = node
        for value in children:
            if isinstance(value, str):
                if len(value) > MAX_STRING:
                    return f"a string is longer than {MAX_STRING:,} characters"
                if "\x00" in value:
                    return "a string contains a NUL character"
            elif isinstance(value, dict | list):
                stack.append((value, depth + 1))
    return None


# What a top-level property name asks to be checked (names recur: classified once, bounded in count).
_PLAIN, _TIMESTAMP, _REF, _REFS, _LONG = range(5)
_KINDS: dict[str, int] = {}
_KINDS_KEPT = 4096


def _kind_of(key: str) -> int:
    kind = _KINDS.get(key)
    if kind is None:
        if len(key) > 250:
            return _LONG
        kind = (
            _TIMESTAMP
            if key in TIMESTAMP_SET
            else _REF
            if key.endswith("_ref")
            else _REFS
            if key.endswith("_refs")
            else _PLAIN
        )
        if len(_KINDS) < _KINDS_KEPT:
            _KINDS[key] = kind
    return kind


def _properties_problem(obj: dict[str, Any]) -> str | None:
    """One pass over the top-level properties: strings, timestamps, references; then the nested containers."""
    stack: list[tuple[Any, int]] = []
    for key, value in obj.items():
        kind = _kind_of(key)
        if kind == _LONG:
            return "a property name is longer than 250 characters"
        if isinstance(value, str):
            if len(value) > MAX_STRING:
                return f"a string is longer than {MAX_STRING:,} characters"
            if "\x00" in value:
                return f"{key} contains a NUL character"
            if kind == _PLAIN:
                continue
            if kind == _TIMESTAMP and parse_timestamp(value) is None:
                return f"{key} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)"
            if kind == _REF and (len(value) > 120 or ID_RE.match(value) is None):
                return (
                    f"{key} is not a STIX identifier"
                    if len(value) <= 120
                    else f"{key} holds an identifier longer than 120 characters"
                )
            continue
        if kind == _TIMESTAMP:
            return f"{key} is not a STIX timestamp (YYYY-MM-DDTHH:MM:SS[.s+]Z)"
        if kind == _REF:
            return f"{key} is not a STIX identifier"
        if kind == _REFS:
            if not isinstance(value, list) or not all(map(is_identifier, value)):
                return f"{key} must be a list of STIX identifiers"
            if max(map(len, value), default=0) > 120:
                return f"{key} holds an identifier longer than 120 characters"
        if isinstance(value, dict | list):
            stack.append((value, 2))
    return _walk_problem(stack)


def check(obj: object) -> str | None:
    """The first problem that makes ``obj`` unacceptable, or None."""
    if not isinstance(obj, dict):
        return "not a JSON object"
    obj_type = obj.get("type")
    if not isinstance(obj_type, str) or not TYPE_RE.match(obj_type):
        return "type is missing or malformed"
    if len(obj_type) > 80:
        return "type is longer than 80 characters"
    obj_id = obj.get("id")
    if isinstance(obj_id, str) and len(obj_id) > 120:
        return "id is longer than 120 characters"
    match = ID_RE.match(obj_id) if isinstance(obj_id, str) else None
    if match is None:
        return "id is missing or not of the form <type>--<uuid>"
    if match.group("type") != obj_type:
        return f"id prefix {match.group('type')!r} does not match type {obj_type!r}"
    kind = category(obj_type)
    spec = obj.get("spec_version")
    if kind == "sco":
        if spec is not None and spec != "2.1":
            return f"spec_version {spec!r} is not 2.1"
    elif spec != "2.1":
        return "spec_version must be '2.1'" if spec is None else f"spec_version {spec!r} is not 2.1"
    problem = _properties_problem(obj)
    if problem:
        return problem
    if kind in ("sdo", "sro"):
        for prop in ("created", "modified"):
            if prop not in obj:
                return f"{prop} is required"
        created, modified = parse_timestamp(obj["created"]), parse_timestamp(obj["modified"])
        if created is not None and modified is not None and modified < created:
            return "modified is earlier than created"
    elif kind == "meta" and obj_type == "marking-definition" and "created" not in obj:
        return "created is required"
    for prop in SDO_REQUIRED.get(obj_type, ()):
        if prop not in obj:
            return f"{prop} is required for {obj_type}"
    if obj_type == "indicator":
        return _indicator_problem(obj)
    if obj_type in ("report", "grouping", "note", "opinion") and not obj.get("object_refs"):
        return "object_refs must not be empty"
    if obj_type == "sighting" and not (
        isinstance(obj.get("count", 1), int) and 0 <= obj.get("count", 1) <= 999_999_999
    ):
        return "count must be an integer from 0 to 999,999,999"
    return None


def _indicator_problem(obj: dict[str, Any]) -> str | None:
    if not isinstance(obj.get("pattern"), str):
        return "pattern must be a string"
    valid_from = parse_timestamp(obj["valid_from"])
    valid_until = parse_timestamp(obj.get("valid_until"))
    if valid_until is not None and valid_from is not None and valid_until <= valid_from:
        return "valid_until must be later than valid_from"
    return None  # the pattern itself is parsed (once) when its values are extracted


def version_key(obj: dict[str, Any]) -> datetime | None:
    """The version of an object: ``modified`` (SDO/SRO), else ``created`` (marking definitions), else None (SCOs
    have a single version, keyed by a fixed epoch)."""
    return parse_timestamp(obj.get("modified") or obj.get("created"))


def display_name(obj: dict[str, Any]) -> str | None:
    for prop in ("name", "value", "pattern", "key", "relationship_type"):
        value = obj.get(prop)
        if isinstance(value, str) and value:
            return value[:300]
    return None
