"""Shared helpers of the scanner tests: compile indicators from lines, scan bytes in this process."""

from __future__ import annotations

from herdsec.scan.engine import scan_chunk
from herdsec.scan.iocs import Loaded, load_lines
from herdsec.scan.matcher import COMPILED, Matcher
from herdsec.scan.readers.base import Reader
from herdsec.scan.readers.plain import Plain

STAGE = {"compiled": COMPILED}
"""The first stage the matchers of :func:`compile_lines` use (the exact-semantics tests run with both)."""


def compile_lines(*lines: str, compiled: bool | None = None) -> Matcher:
    """A frozen matcher of indicator lines; ``compiled`` picks the first stage (default: :data:`STAGE`)."""
    loaded = Loaded()
    load_lines(lines, "test", loaded)
    assert not loaded.problems, loaded.problems
    matcher = Matcher(compiled=STAGE["compiled"] if compiled is None else compiled)
    for kind, text in loaded.canonical:
        matcher.add_canonical(kind, text)
    for value in loaded.values:
        assert matcher.add(value), value
    return matcher.freeze()


def hits(matcher: Matcher, log: bytes, reader: Reader | None = None) -> list[tuple[int, str, str, str]]:
    """(line, type, indicator, observed) of every match in ``log``."""
    chunk = scan_chunk(matcher, reader or Plain(), log)
    return [(line, hit.type, hit.indicator, hit.observed) for line, _time, found in chunk.found for hit in found]
