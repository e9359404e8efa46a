"""The shape of an export format: named parts (one file each), each a pure writer from values to text chunks."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from herdsec.core.errors import N_, InvalidInput
from herdsec.ioc.types import IocType


@dataclass(frozen=True, slots=True)
class ExportOptions:
    """Knobs some formats read. ``serial`` and ``token`` are derived from the export's state by the service."""

    sid_base: int = 1_000_000  # first Suricata signature id
    zone: str = "rpz.herdsec"  # the RPZ zone the file is loaded as (names are relative to it)
    serial: int = 1  # the RPZ zone's SOA serial
    token: str = ""  # a digest of the export's state (the STIX bundle id derives from it)
    generated: datetime | None = None


Writer = Callable[[Iterable[Any], ExportOptions], Iterator[str]]


@dataclass(frozen=True, slots=True)
class Part:
    """One file of a format: its name, the value types it carries (empty: no values), its writer."""

    name: str
    filename: str
    types: tuple[IocType, ...]
    write: Writer


@dataclass(frozen=True, slots=True)
class ExportFormat:
    name: str
    description: str
    media_type: str
    parts: tuple[Part, ...]
    objects: bool = False  # True: the writer reads STIX objects (JSON text), not values
    aliases: tuple[str, ...] = field(default=())

    def part(self, name: str | None) -> Part:
        """The part asked for (the first one by default)."""
        if name is None:
            return self.parts[0]
        for part in self.parts:
            if part.name == name:
                return part
        raise InvalidInput(
            N_("format %(format)s has no part %(part)r; expected one of %(parts)s"),
            where="part",
            format=self.name,
            part=name[:40],
            parts=", ".join(p.name for p in self.parts),
        )


# What a host name may be in a rule, a zone or a hosts file: lowercase A-labels (the normaliser's output).
_HOST = re.compile(r"(?=.{1,253}\Z)[a-z0-9_](?:[a-z0-9_-]{0,62})(?:\.[a-z0-9_](?:[a-z0-9_-]{0,62}))+")


def safe_host(value: str) -> bool:
    """True for a domain that can be written into a rule, a zone or a hosts file as it is (anything else, such as a
    value with quotes, semicolons, spaces or newlines, is left out by the writers)."""
    return _HOST.fullmatch(value) is not None and not value.replace(".", "").isdigit()


def safe_address(value: str, *, network: bool = False) -> str | None:
    """The canonical text of an IP address (or network, when allowed), or None when ``value`` is not one."""
    try:
        if network and "/" in value:
            return str(ipaddress.ip_network(value, strict=False))
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def has_control(value: str) -> bool:
    """Tabs, newlines and other control characters break every line-oriented format."""
    return _CONTROL.search(value) is not None
