"""What a log reader is: a name, a detector over the first lines, and, for matching lines only, the line's time and
the URLs its fields spell out. Matching itself is format-free (see :mod:`herdsec.scan.matcher`)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

_MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTHS = {name: number for number, name in enumerate(_MONTH_NAMES, 1)}


class Reader:
    """A log format. Subclasses override :meth:`timestamp` and, when fields hold URL parts, :meth:`urls`."""

    name = "plain"
    description = "plain text (any line; timestamps in ISO 8601 when present)"

    def configure(self, head: list[str]) -> Reader:
        """A reader for a file whose first lines are ``head`` (header-driven formats read their columns here)."""
        return self

    def timestamp(self, line: str) -> datetime | None:
        return iso_anywhere(line)

    def urls(self, line: str) -> list[str]:
        return []


_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


def iso(text: str) -> datetime | None:
    """An ISO 8601 / RFC 3339 time; naive times are taken as UTC."""
    try:
        stamp = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def iso_anywhere(line: str) -> datetime | None:
    match = _ISO.search(line, 0, 200)
    return iso(match[0]) if match else None


def epoch(text: str) -> datetime | None:
    """Seconds since 1970 (``1701412345.123456``)."""
    try:
        return datetime.fromtimestamp(float(text), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def month(name: str) -> int | None:
    return _MONTHS.get(name[:3].lower())


def bsd_syslog(text: str, now: datetime | None = None) -> datetime | None:
    """``Dec  1 06:12:33`` (no year, local time taken as UTC): this year, or last year when that would be ahead."""
    parts = text.split()
    if len(parts) < 3 or month(parts[0]) is None:
        return None
    try:
        hour, minute, second = (int(x) for x in parts[2].split(":"))
        now = now or datetime.now(UTC)
        stamp = datetime(now.year, month(parts[0]) or 1, int(parts[1]), hour, minute, second, tzinfo=UTC)
    except ValueError:
        return None
    return stamp.replace(year=now.year - 1) if stamp > now + timedelta(days=1) else stamp


def offset_zone(text: str) -> timezone:
    """``+0700`` → UTC+07:00."""
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("+-").replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))


def json_object(line: str) -> Mapping[str, Any] | None:
    """The JSON object on a line, or None."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, Mapping) else None


def path(obj: Mapping[str, Any], dotted: str) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"``; also a flat key ``"a.b"`` (Zeek JSON writes ``id.orig_h``)."""
    if dotted in obj:
        return obj[dotted]
    current: Any = obj
    for key in dotted.split("."):
        if not isinstance(current, Mapping) or key not in current:
            return None
        current = current[key]
    return current


def first_time(obj: Mapping[str, Any], keys: tuple[str, ...]) -> datetime | None:
    """The first of ``keys`` that holds a time (ISO text or epoch number)."""
    for key in keys:
        value = path(obj, key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return epoch(str(value))
        if isinstance(value, str):
            stamp = iso(value) or (epoch(value) if value.replace(".", "", 1).isdigit() else None)
            if stamp:
                return stamp
    return None
