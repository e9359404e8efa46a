"""Squid native access log::

1701412345.123    120 10.0.0.5 TCP_MISS/200 1532 GET http://evil.example/x.exe - HIER_DIRECT/203.0.113.9 text/html
"""

from __future__ import annotations

import re
from datetime import datetime

from herdsec.scan.readers.base import Reader, epoch

_LINE = re.compile(r"^\d{9,11}\.\d{3}\s+\d+ \S+ [A-Z_]+/\d{3} \d+ [A-Z]+ \S+")


class Squid(Reader):
    name = "squid"
    description = "Squid native access log"

    def timestamp(self, line: str) -> datetime | None:
        return epoch(line.split(None, 1)[0]) if line[:1].isdigit() else None


def detect(head: list[str]) -> Reader | None:
    return Squid() if head and all(_LINE.match(line) for line in head) else None
