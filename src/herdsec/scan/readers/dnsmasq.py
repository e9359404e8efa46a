"""dnsmasq query log (through syslog)::

Dec  1 06:12:33 gw dnsmasq[812]: query[A] evil.example from 10.0.0.5
"""

from __future__ import annotations

import re
from datetime import datetime

from herdsec.scan.readers.base import Reader, bsd_syslog

_LINE = re.compile(r"dnsmasq\[\d+\]: (?:query\[|reply |forwarded |cached |config |/)")


class Dnsmasq(Reader):
    name = "dnsmasq"
    description = "dnsmasq query log"

    def timestamp(self, line: str) -> datetime | None:
        return bsd_syslog(line[:15])


def detect(head: list[str]) -> Reader | None:
    return Dnsmasq() if head and sum(1 for line in head if _LINE.search(line)) * 2 > len(head) else None
