"""Windows event logs exported as JSON lines (Sysmon through winlogbeat, NXLog or ``Get-WinEvent | ConvertTo-Json``):
the time from ``UtcTime``, ``TimeCreated``, ``@timestamp`` or ``EventTime``; hashes (``Hashes: SHA256=…``), query
names, image paths and addresses are scanned as the rest of the line."""

from __future__ import annotations

from herdsec.scan.readers.base import Reader
from herdsec.scan.readers.jsonlines import JsonLines, objects

_MARKERS = ("EventID", "EventId", "event_id", "winlog", "Channel", "EventCode")


class Sysmon(JsonLines):
    name = "sysmon"
    description = "Windows Sysmon/Event log JSON"
    time_keys = (
        "UtcTime",
        "EventData.UtcTime",
        "winlog.event_data.UtcTime",
        "TimeCreated",
        "@timestamp",
        "EventTime",
        "TimeGenerated",
    )


def detect(head: list[str]) -> Reader | None:
    found = objects(head)
    return Sysmon() if found and all(any(key in obj for key in _MARKERS) for obj in found) else None
