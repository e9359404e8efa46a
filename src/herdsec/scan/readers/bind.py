"""BIND query log::

01-Dec-2026 06:12:33.123 client @0x7f0 10.0.0.5#53211 (evil.example): query: evil.example IN A +E(0) (10.0.0.1)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from herdsec.scan.readers.base import Reader, month

_LINE = re.compile(r"client (?:@0x[0-9a-f]+ )?\S+#\d+ \([^)]*\): (?:view \S+: )?query: ")
_TIME = re.compile(r"^(\d{2})-(\w{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{3}))?")


class Bind(Reader):
    name = "bind"
    description = "BIND query log"

    def timestamp(self, line: str) -> datetime | None:
        match = _TIME.match(line)
        if not match or month(match[2]) is None:
            return None
        day, _, year, hour, minute, second, millis = match.groups()
        try:
            return datetime(
                int(year),
                month(match[2]) or 1,
                int(day),
                int(hour),
                int(minute),
                int(second),
                int(millis or 0) * 1000,
                tzinfo=UTC,
            )
        except ValueError:
            return None


def detect(head: list[str]) -> Reader | None:
    return Bind() if head and sum(1 for line in head if _LINE.search(line)) * 2 > len(head) else None
