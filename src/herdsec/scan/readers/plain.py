"""Plain text: the fallback for any log; every line is scanned, ISO 8601 times are read when present."""

from __future__ import annotations

from herdsec.scan.readers.base import Reader


class Plain(Reader):
    name = "plain"


def detect(head: list[str]) -> Reader | None:
    return Plain()
