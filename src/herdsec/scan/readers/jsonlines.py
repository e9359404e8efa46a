"""Generic JSON lines: one object per line; every string field is scanned (the whole line is), the time is the first
of ``@timestamp``, ``timestamp``, ``time``, ``ts``, ``date``, ``datetime``, ``eventTime``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from herdsec.scan.readers.base import Reader, first_time, json_object

TIME_KEYS = ("@timestamp", "timestamp", "time", "ts", "date", "datetime", "eventTime")


class JsonLines(Reader):
    name = "json"
    description = "JSON lines (every string field)"
    time_keys: tuple[str, ...] = TIME_KEYS

    def timestamp(self, line: str) -> datetime | None:
        obj = json_object(line)
        return first_time(obj, self.time_keys) if obj is not None else None

    def urls(self, line: str) -> list[str]:
        obj = json_object(line)
        return self.urls_of(obj) if obj is not None else []

    def urls_of(self, obj: Mapping[str, Any]) -> list[str]:
        return []


def objects(head: list[str]) -> list[Mapping[str, Any]] | None:
    """The JSON objects of the first lines, or None when one of them is not a JSON object."""
    found = [json_object(line) for line in head]
    if not found or any(obj is None for obj in found):
        return None
    return [obj for obj in found if obj is not None]


def detect(head: list[str]) -> Reader | None:
    return JsonLines() if objects(head) else None
