"""The scan: chunks of whole lines go to worker processes (forked, so the compiled indicator set is shared
copy-on-write), each runs the fast chunk pass and the exact line checks, and the results come back in order so that
line numbers are exact. Small inputs are scanned in this process (starting workers would cost more)."""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing.pool import AsyncResult, Pool
from typing import BinaryIO

from herdsec.scan import readers, sources
from herdsec.scan.matcher import Hit, Matcher
from herdsec.scan.readers.base import Reader

IN_PROCESS_BELOW = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Match:
    """One indicator on one line of one file (``time`` from the line when its format has one)."""

    file: str
    line: int
    type: str
    indicator: str
    observed: str
    time: datetime | None


@dataclass(slots=True)
class FileReport:
    path: str
    format: str = ""
    bytes: int = 0
    lines: int = 0
    matches: int = 0
    problem: str | None = None


@dataclass(slots=True)
class Chunk:
    """What a worker returns for one chunk: its line count and, per matching line, (line, time, hits)."""

    lines: int
    size: int
    found: list[tuple[int, datetime | None, list[Hit]]] = field(default_factory=list)


# --- the worker side: module globals set before forking ---------------------------------------------------------

_matcher: Matcher | None = None
_handles: dict[str, BinaryIO] = {}


def scan_chunk(matcher: Matcher, reader: Reader, data: bytes) -> Chunk:
    """Every match in a chunk of whole lines."""
    lines, candidates = matcher.candidate_lines(data)
    result = Chunk(lines, len(data))
    for number, raw in candidates:
        text = raw.decode("utf-8", "replace")
        hits = matcher.match_line(raw, reader.urls(text) if matcher.has_urls else ())
        if hits:
            result.found.append((number, reader.timestamp(text), hits))
    return result


def _work(task: sources.Range | bytes, reader: Reader) -> Chunk:
    assert _matcher is not None
    if isinstance(task, sources.Range):
        handle = _handles.get(task.path)
        if handle is None:
            handle = _handles[task.path] = open(task.path, "rb")  # noqa: SIM115 - kept for the worker's life
        data = sources.read_range(handle, task)
        chunk = scan_chunk(_matcher, reader, data)
        chunk.size = task.end - task.start
        return chunk
    return scan_chunk(_matcher, reader, task)


# --- the driving side -------------------------------------------------------------------------------------------


class Scanner:
    """Scans files with a compiled matcher. ``on_match`` receives each match as soon as its chunk is done (in file
    order); ``on_progress`` receives byte counts."""

    def __init__(
        self,
        matcher: Matcher,
        *,
        workers: int | None = None,
        log_format: str | None = None,
        on_match: Callable[[Match], None],
        on_progress: Callable[[int], None] = lambda _n: None,
        chunk_size: int = sources.CHUNK,
    ) -> None:
        self.matcher = matcher
        self.workers = workers if workers is not None else min(2, os.cpu_count() or 1)
        self.log_format = log_format
        self.on_match = on_match
        self.on_progress = on_progress
        self.chunk_size = chunk_size
        self._pool: Pool | None = None

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()
            self._pool = None

    def _get_pool(self) -> Pool | None:
        if self.workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
            return None
        if self._pool is None:
            global _matcher
            _matcher = self.matcher
            gc.collect()
            gc.freeze()  # the indicator set stays shared with the forked workers (no copy on garbage collection)
            self._pool = multiprocessing.get_context("fork").Pool(self.workers)
            gc.unfreeze()
        return self._pool

    def reader_for(self, head: list[str]) -> Reader:
        return readers.named(self.log_format, head) if self.log_format else readers.detect(head)

    def scan_path(self, path: str) -> FileReport:
        """Scan one file (or ``-``); problems are in the report, never raised."""
        return self.scan_paths([path])[0]

    def scan_paths(self, paths: list[str]) -> list[FileReport]:
        """Scan files in order (``-`` is standard input). The chunks of all files share the workers, so that small
        files are scanned in parallel too; matches still arrive in file and line order."""
        global _matcher
        _matcher = self.matcher
        pool = None if _small(paths) else self._get_pool()
        reports: list[FileReport] = []
        window: deque[tuple[FileReport, AsyncResult[Chunk]]] = deque()
        for path in paths:
            report = FileReport(path)
            reports.append(report)
            try:
                opened = self._open(report, path)
                if opened is None:
                    continue
                reader, tasks = opened
                for task in tasks:
                    if pool is None:
                        self._collect(report, _work(task, reader))
                        continue
                    window.append((report, pool.apply_async(_work, (task, reader))))
                    while len(window) > 2 * self.workers:
                        done, result = window.popleft()
                        self._collect(done, result.get())
            except sources.SourceProblem as exc:  # a damaged gzip: what was read is still collected
                report.problem = str(exc)
            except OSError as exc:
                report.problem = f"cannot read: {exc.strerror or exc}"
        while window:
            done, result = window.popleft()
            self._collect(done, result.get())
        _close_handles()
        return reports

    def _open(self, report: FileReport, path: str) -> tuple[Reader, Iterator[sources.Range | bytes]] | None:
        """The reader and the chunks of a file; None (and the report says why) when it is not scanned."""
        if path == sources.STDIN:
            import sys

            return self._stream(report, sys.stdin.buffer)
        size = os.path.getsize(path)
        head = sources.sample(path)
        if sources.is_binary(head):
            report.problem = "binary data, not a text log: skipped"
            return None
        reader = self.reader_for(sources.head_of(head))
        report.format = reader.name
        if sources.is_gzip(path):
            return reader, sources.gzip_chunks(path, self.chunk_size)
        return reader, iter(sources.ranges(path, size, self.chunk_size))

    def _stream(self, report: FileReport, stream: BinaryIO) -> tuple[Reader, Iterator[sources.Range | bytes]] | None:
        first = next(sources.chunks(stream, self.chunk_size), b"")
        if sources.is_binary(first):
            report.problem = "binary data, not a text log: skipped"
            return None
        reader = self.reader_for(sources.head_of(first))
        report.format = reader.name

        def stream_chunks() -> Iterator[sources.Range | bytes]:
            yield first
            yield from sources.chunks(stream, self.chunk_size)

        return reader, stream_chunks()

    def _collect(self, report: FileReport, chunk: Chunk) -> None:
        for number, stamp, hits in chunk.found:
            for hit in hits:
                report.matches += 1
                self.on_match(Match(report.path, report.lines + number, hit.type, hit.indicator, hit.observed, stamp))
        report.lines += chunk.lines
        report.bytes += chunk.size
        self.on_progress(chunk.size)

    def follow(self, path: str, *, poll: float = 0.25, stop: Callable[[], bool] = lambda: False) -> FileReport:
        """Scan a file, then keep scanning what is appended (until ``stop()`` or an interrupt); a file that shrinks
        (rotated or truncated) is read again from its start."""
        report = FileReport(path)
        with open(path, "rb") as handle:
            reader = self.reader_for(sources.head_of(sources.sample(path)))
            report.format = reader.name
            pending = b""
            while not stop():
                data = handle.read(self.chunk_size)
                if not data:
                    if os.path.getsize(path) < handle.tell():
                        handle.seek(0)
                        report.lines, pending = 0, b""
                    time.sleep(poll)
                    continue
                data = pending + data
                cut = data.rfind(b"\n") + 1
                pending = data[cut:]
                if cut:
                    self._collect(report, scan_chunk(self.matcher, reader, data[:cut]))
        return report


def _small(paths: list[str]) -> bool:
    """Whether the input is too small to be worth starting worker processes (standard input never is)."""
    total = 0
    for path in paths:
        if path == sources.STDIN:
            return False
        try:
            total += os.path.getsize(path)
        except OSError:
            continue
    return total < IN_PROCESS_BELOW


def _close_handles() -> None:
    for handle in _handles.values():
        handle.close()
    _handles.clear()
