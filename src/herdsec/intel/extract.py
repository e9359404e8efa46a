"""The observable values an object carries: from indicator patterns, from SCOs, from vulnerabilities."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from herdsec.core.errors import InvalidInput
from herdsec.intel.stix import category
from herdsec.ioc.pattern import PatternError, indexable, parse, simple_indexable
from herdsec.ioc.sco import values_from_path, values_from_sco, values_from_sdo
from herdsec.ioc.types import Value

KEY_LIMIT = 200  # values longer than this are indexed by their SHA-256


class ObjectRejected(InvalidInput):
    """The object cannot be stored (the ingest reports it and goes on)."""


def value_key(value: str) -> str:
    """The indexed form of a normalised value (long URLs and user agents are keyed by their hash)."""
    if len(value) <= KEY_LIMIT:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def values_of(obj: dict[str, Any], pairs: Iterable[tuple[str, str]] | None = None) -> list[Value]:
    """Every indexable value of ``obj`` (deduplicated, in order). Raises ObjectRejected for an invalid pattern.

    ``pairs``, for an indicator the hub built itself, are its pattern's ``indexable(parse(pattern))`` pairs, known
    by the builder: the pattern is then not parsed again (the values are normalised all the same)."""
    obj_type = obj["type"]
    found: list[Value] = []
    if obj_type == "indicator":
        if obj.get("pattern_type") != "stix":
            return []  # Sigma, YARA, Snort… are kept verbatim, not indexed
        if pairs is None:
            text = obj["pattern"]
            pairs = simple_indexable(text) if isinstance(text, str) else None
        if pairs is None:
            try:
                pairs = indexable(parse(obj["pattern"]))
            except PatternError as exc:
                raise ObjectRejected("invalid pattern: %(reason)s", reason=exc.render()) from None
        for path, literal in pairs:
            value = values_from_path(path, literal)
            if value is not None:
                found.append(value)
    elif obj_type == "vulnerability":
        found.extend(values_from_sdo(obj))
    elif category(obj_type) == "sco":
        found.extend(values_from_sco(obj))
    if len(found) < 2:
        return found
    seen: set[tuple[str, str]] = set()
    unique = []
    for value in found:
        key = (value.type.value, value.value)
        if key not in seen:
            seen.add(key)
            unique.append(value)
    return unique
