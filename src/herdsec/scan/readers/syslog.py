"""syslog lines (BSD ``<pri>Mmm dd hh:mm:ss host tag:`` and RFC 5424 ``<pri>1 2026-12-01T06:12:33Z host …``), firewall
``key=value`` messages (iptables, pfSense, FortiGate …) and CEF (``CEF:0|vendor|product|…|src=… dst=…``)."""

from __future__ import annotations

import re
from datetime import datetime

from herdsec.scan.readers.base import Reader, bsd_syslog, epoch, iso, iso_anywhere

_BSD = re.compile(r"^(?:<\d{1,3}>)?([A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2}) ")
_RFC5424 = re.compile(r"^<\d{1,3}>\d (\S+) ")
_CEF_TIME = re.compile(r"\brt=(\d{10,13}|\S+ \d+ \d{4} \d{2}:\d{2}:\d{2})")


class Syslog(Reader):
    name = "syslog"
    description = "syslog / CEF firewall lines"

    def timestamp(self, line: str) -> datetime | None:
        match = _BSD.match(line)
        if match:
            return bsd_syslog(match[1])
        match = _RFC5424.match(line)
        if match:
            return iso(match[1])
        match = _CEF_TIME.search(line)
        if match and match[1].isdigit():
            value = int(match[1])
            return epoch(str(value / 1000 if value > 10**11 else value))
        return iso_anywhere(line)


def detect(head: list[str]) -> Reader | None:
    if not head:
        return None
    hits = sum(1 for line in head if _BSD.match(line) or _RFC5424.match(line) or "CEF:" in line[:200])
    return Syslog() if hits * 2 > len(head) else None
