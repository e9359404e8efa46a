"""CSV with a header line (firewall and proxy exports): every cell is scanned; the time is the first column named
``timestamp``, ``time``, ``date``, ``datetime`` or ``@timestamp`` (ISO 8601 or epoch seconds)."""

from __future__ import annotations

import csv
from datetime import datetime

from herdsec.scan.readers.base import Reader, epoch, iso

_TIME_COLUMNS = ("timestamp", "@timestamp", "time", "datetime", "date", "eventtime", "receive time", "generated time")


class Csv(Reader):
    name = "csv"
    description = "CSV with a header"

    def __init__(self, time_column: int | None = None) -> None:
        self.time_column = time_column

    def configure(self, head: list[str]) -> Reader:
        header = [cell.strip().lower() for cell in next(csv.reader([head[0]]), [])] if head else []
        column = next((header.index(name) for name in _TIME_COLUMNS if name in header), None)
        return Csv(column)

    def timestamp(self, line: str) -> datetime | None:
        if self.time_column is None:
            return None
        cells = next(csv.reader([line]), [])
        if self.time_column >= len(cells):
            return None
        cell = cells[self.time_column].strip()
        return iso(cell) or (epoch(cell) if cell.replace(".", "", 1).isdigit() else None)


def detect(head: list[str]) -> Reader | None:
    if len(head) < 2 or "," not in head[0]:
        return None
    widths = [len(row) for row in csv.reader(head)]
    header = head[0].lower()
    named = any(word in header for word in ("time", "date", "src", "dst", "host", "url", "ip", "action"))
    return Csv().configure(head) if named and len(set(widths)) == 1 and widths[0] > 1 else None
