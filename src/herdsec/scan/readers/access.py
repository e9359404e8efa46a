"""nginx and Apache access logs, combined and common formats::

    203.0.113.7 - - [01/Dec/2026:06:12:33 +0700] "GET /a?b=c HTTP/1.1" 200 512 "https://ref/" "Mozilla/5.0"

The request line (``GET http://host/path`` when the server is a proxy) and the referer are scanned like the rest of
the line; a log of ``$host`` lines carries no host, so URL indicators match only full URLs written in it.
"""

from __future__ import annotations

import re
from datetime import datetime

from herdsec.scan.readers.base import Reader, month, offset_zone

_LINE = re.compile(r'^\S+ \S+ \S+ \[([^\]]+)\] "[^"]*" \d{3} (?:\d+|-)(?P<combined> "[^"]*" "[^"]*")?')
_TIME = re.compile(r"(\d{2})/(\w{3})/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})")


class Access(Reader):
    name = "combined"
    description = "nginx/Apache access log, combined format"

    def timestamp(self, line: str) -> datetime | None:
        match = _TIME.search(line, 0, 120)
        if not match or month(match[2]) is None:
            return None
        day, _, year, hour, minute, second, zone = match.groups()
        try:
            return datetime(
                int(year), month(match[2]) or 1, int(day), int(hour), int(minute), int(second), tzinfo=offset_zone(zone)
            )
        except ValueError:
            return None


class Common(Access):
    name = "common"
    description = "nginx/Apache access log, common format"


def detect(head: list[str]) -> Reader | None:
    matches = [_LINE.match(line) for line in head]
    if not matches or not all(matches):
        return None
    return Access() if all(m and m["combined"] for m in matches) else Common()
