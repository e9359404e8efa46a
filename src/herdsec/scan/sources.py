"""Where log bytes come from: plain files (read by range in the worker processes), gzip files and standard input
(read here and handed over in chunks of whole lines), and a growing file (``--follow``).

Bad input is reported, not fatal: a binary file is skipped, a truncated or corrupt gzip file is scanned up to the
damage, a line longer than :data:`MAX_LINE` is cut (its pieces are scanned as lines of their own).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

CHUNK = 8 * 1024 * 1024
MAX_LINE = 64 * 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"
STDIN = "-"


class SourceProblem(Exception):
    """A file could not be (fully) read; the message says why and how much was scanned."""


@dataclass(frozen=True, slots=True)
class Range:
    """Bytes ``[start, end)`` of a plain file; the chunk holds the lines that start in that range."""

    path: str
    start: int
    end: int


def head_of(data: bytes) -> list[str]:
    """The first lines of a sample, decoded leniently (for format detection)."""
    lines = data.split(b"\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the last one may be cut
    return [line.decode("utf-8", "replace") for line in lines[:50]]


def is_binary(sample: bytes) -> bool:
    """NUL bytes in the first kilobytes: not a text log (UTF-16 logs must be converted first)."""
    return b"\x00" in sample[:8192]


def sample(path: str) -> bytes:
    """The first 64 KiB of a file (decompressed when gzip)."""
    with open(path, "rb") as handle:
        start = handle.read(2)
    opener = gzip.open if start == GZIP_MAGIC else open
    try:
        with opener(path, "rb") as handle:
            return bytes(handle.read(65536))
    except (OSError, EOFError, zlib.error):
        return b""


def is_gzip(path: str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(2) == GZIP_MAGIC


def ranges(path: str, size: int, chunk: int = CHUNK) -> list[Range]:
    return [Range(path, start, min(start + chunk, size)) for start in range(0, size, chunk)]


def read_range(handle: BinaryIO, part: Range) -> bytes:
    """The whole lines that start in ``part`` (the last one read to its end, even past ``part.end``)."""
    if part.start > 0:
        handle.seek(part.start - 1)
        handle.readline(MAX_LINE)  # the rest of the line that started before (just the newline if it ended there)
    else:
        handle.seek(0)
    position = handle.tell()
    if position >= part.end:
        return b""
    data = handle.read(part.end - position)
    if data and not data.endswith(b"\n"):
        data += handle.readline(MAX_LINE)
    return data


def chunks(handle: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    """Chunks of whole lines from a stream (gzip, standard input)."""
    while True:
        data = handle.read(chunk)
        if not data:
            return
        if not data.endswith(b"\n"):
            data += handle.readline(MAX_LINE)
        yield data


def gzip_chunks(path: str, chunk: int = CHUNK) -> Iterator[bytes]:
    """Decompressed chunks of whole lines, read in small pieces so that a truncated or corrupt file loses only what
    follows the damage: its readable part is yielded, then :class:`SourceProblem` is raised."""
    pending = bytearray()
    try:
        with gzip.open(path, "rb") as handle:
            while piece := handle.read(65536):
                pending += piece
                if len(pending) >= chunk:
                    cut = pending.rfind(b"\n") + 1
                    if cut == 0 and len(pending) < MAX_LINE:
                        continue
                    cut = cut or len(pending)
                    yield bytes(pending[:cut])
                    del pending[:cut]
    except (EOFError, OSError, zlib.error) as exc:
        if pending:
            yield bytes(pending)
        raise SourceProblem(f"damaged gzip data ({exc}); the readable part was scanned") from None
    if pending:
        yield bytes(pending)


def expand(paths: list[str]) -> Iterator[str]:
    """Files named, directories walked (sorted), ``-`` for standard input."""
    for name in paths:
        if name == STDIN or not Path(name).is_dir():
            yield name
            continue
        for root, dirs, files in os.walk(name):
            dirs.sort()
            for file in sorted(files):
                yield str(Path(root) / file)
