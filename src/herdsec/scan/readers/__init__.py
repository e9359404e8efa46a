"""Log formats: each reader in its own module with a ``detect(head) -> Reader | None``; the first that recognises a
file's first lines wins (most specific first), plain text is the fallback. ``--format NAME`` skips detection."""

from __future__ import annotations

from collections.abc import Callable

from herdsec.core.errors import N_, InvalidInput
from herdsec.scan.readers import (
    access,
    bind,
    csvlog,
    dnsmasq,
    jsonlines,
    plain,
    squid,
    suricata,
    syslog,
    sysmon,
    zeek,
    zeekjson,
)
from herdsec.scan.readers.base import Reader

DETECTORS: list[Callable[[list[str]], Reader | None]] = [
    zeek.detect,
    suricata.detect,
    zeekjson.detect,
    sysmon.detect,
    jsonlines.detect,
    access.detect,
    squid.detect,
    bind.detect,
    dnsmasq.detect,
    syslog.detect,
    csvlog.detect,
    plain.detect,
]
READERS: dict[str, Reader] = {
    reader.name: reader
    for reader in (
        access.Access(),
        access.Common(),
        squid.Squid(),
        bind.Bind(),
        dnsmasq.Dnsmasq(),
        zeek.Zeek(),
        zeekjson.ZeekJson(),
        suricata.Eve(),
        sysmon.Sysmon(),
        jsonlines.JsonLines(),
        csvlog.Csv(),
        syslog.Syslog(),
        plain.Plain(),
    )
}
HEAD_LINES = 20


def detect(head: list[str]) -> Reader:
    """The reader for a file whose first lines are ``head`` (plain text when nothing else fits)."""
    lines = [line for line in head if line.strip()][:HEAD_LINES]
    data = [line for line in lines if not line.startswith("#")] if lines and not lines[0].startswith("#sep") else lines
    for detector in DETECTORS:
        reader = detector(data)
        if reader is not None:
            return reader
    return plain.Plain()


def named(name: str, head: list[str]) -> Reader:
    """The reader called ``name`` (``--format``), configured by the file's first lines."""
    reader = READERS.get(name)
    if reader is None:
        raise InvalidInput(N_("unknown log format %(name)r (one of: %(names)s)"), name=name, names=", ".join(READERS))
    return reader.configure(head)
