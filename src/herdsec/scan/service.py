"""What ``herdsec scan`` does, without the command line: gather the indicator set (files, or the hub's cached and
updated scan set), compile it, and summarise matches per indicator for the report and for sightings."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from herdsec.core.errors import N_, InvalidInput
from herdsec.ioc.normalise import normalise
from herdsec.ioc.types import IocType
from herdsec.scan.engine import Match
from herdsec.scan.hub import Hub, HubUnreachable, ScanSet
from herdsec.scan.iocs import Loaded, load_file
from herdsec.scan.matcher import COMPILED, Matcher


@dataclass(slots=True)
class IndicatorSet:
    """The compiled matcher, where each indicator came from (hub object ids), and what loading reported."""

    matcher: Matcher
    ids: dict[tuple[str, str], set[str]]
    problems: list[str]
    notices: list[str]
    skipped_types: int
    seconds: float
    cpu_seconds: float


def load(iocs: Iterable[Path], hub: Hub | None, *, compiled: bool = COMPILED) -> IndicatorSet:
    """Indicators from files and/or the hub; :class:`InvalidInput` when the set is empty. ``compiled=False`` uses
    the pure-Python first stage (the benchmark compares the two)."""
    enabled = gc.isenabled()
    gc.disable()  # a million values make no reference cycles; collecting while they are built costs ~15%
    try:
        return _load(iocs, hub, compiled)
    finally:
        if enabled:
            gc.enable()


def _load(iocs: Iterable[Path], hub: Hub | None, compiled: bool) -> IndicatorSet:
    started, cpu_started = time.perf_counter(), time.process_time()
    loaded = Loaded()
    for path in iocs:
        load_file(path, loaded)
    matcher = Matcher(compiled=compiled)
    ids: dict[tuple[str, str], set[str]] = {}
    by_kind: dict[IocType, list[str]] = {}
    for kind, text in loaded.canonical:
        by_kind.setdefault(kind, []).append(text)
    for kind, texts in by_kind.items():
        matcher.add_many_canonical(kind, texts)
    skipped = sum(0 if matcher.add(value) else 1 for value in loaded.values)
    notices: list[str] = []
    if hub is not None:
        scanset, notice = _hub_set(hub)
        if notice:
            notices.append(notice)
        for (type_name, value), object_ids in scanset.entries.items():
            try:
                typed = normalise(IocType(type_name), value)
            except ValueError:
                skipped += 1
                continue
            if matcher.add(typed):
                ids.setdefault((typed.type.value, typed.value), set()).update(object_ids)
            else:
                skipped += 1
    if matcher.count == 0:
        raise InvalidInput(
            N_("no indicator to scan for: the lists given hold no IP, domain, URL, e-mail or hash"),
            where="--iocs" if hub is None else "--hub",
        )
    matcher.freeze()
    return IndicatorSet(
        matcher,
        ids,
        loaded.problems,
        notices,
        skipped,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
    )


def _hub_set(hub: Hub) -> tuple[ScanSet, str | None]:
    cached = hub.load_cache()
    try:
        return hub.fetch(cached), None
    except HubUnreachable as exc:
        if cached is None:
            raise
        notice = f"{exc.render()}; using the cached scan set of {cached.fetched_at} ({len(cached.entries)} values)"
        return cached, notice


@dataclass(slots=True)
class Seen:
    """One indicator's matches: how many lines, in which files, first and last seen."""

    type: str
    indicator: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    files: set[str] = field(default_factory=set)

    def add(self, match: Match, now: datetime) -> None:
        stamp = match.time or now
        self.count += 1
        self.first = stamp if self.first is None or stamp < self.first else self.first
        self.last = stamp if self.last is None or stamp > self.last else self.last
        self.files.add(match.file)


class Summary:
    """Matches folded per indicator, in order of first appearance."""

    def __init__(self) -> None:
        self.seen: dict[tuple[str, str], Seen] = {}
        self.now = datetime.now(UTC)

    def add(self, match: Match) -> None:
        key = (match.type, match.indicator)
        entry = self.seen.get(key)
        if entry is None:
            entry = self.seen[key] = Seen(match.type, match.indicator)
        entry.add(match, self.now)

    @property
    def total(self) -> int:
        return sum(entry.count for entry in self.seen.values())


def sightings(summary: Summary, ids: dict[tuple[str, str], set[str]]) -> list[dict[str, Any]]:
    """The sighting reports for the hub: counts and first/last seen per indicator (by object id when known)."""
    reports: list[dict[str, Any]] = []
    for key, entry in summary.seen.items():
        common = {
            "count": entry.count,
            "first_seen": (entry.first or summary.now).isoformat(),
            "last_seen": (entry.last or summary.now).isoformat(),
            "kind": "sighting",
        }
        object_ids = ids.get(key)
        if object_ids:
            reports.extend({"object_id": object_id, **common} for object_id in sorted(object_ids))
        else:
            reports.append({"value": entry.indicator, "type": entry.type, **common})
    return reports
