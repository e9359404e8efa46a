"""``rpz``: a DNS Response Policy Zone: ``domain CNAME .`` and ``*.domain CNAME .`` (NXDOMAIN for the domain and
its subdomains), names relative to the zone so the file loads under any zone name; SOA and NS at the apex.

The serial comes from the export's state (known before any value is read, so the zone streams with its SOA first)
and grows whenever the content can have changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from herdsec.core.errors import N_, InvalidInput
from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, safe_host
from herdsec.ioc.types import IocType

TTL = 300
_ZONE = re.compile(r"(?=.{1,200}\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*")


def check_zone(zone: str) -> str:
    """The zone name, lowercase, without a trailing dot; refused unless it is a plain host name."""
    name = zone.strip().lower().rstrip(".")
    if not _ZONE.fullmatch(name):
        raise InvalidInput(N_("%(zone)r is not a valid zone name"), where="zone", zone=zone[:80])
    return name


def fits(domain: str, zone: str) -> bool:
    """``*.domain.zone.`` must stay within DNS's 255-octet name limit (253 characters written)."""
    return len(domain) + len(zone) + 3 <= 253


def write(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    zone = check_zone(options.zone)
    yield f"; HerdSec response policy zone {zone}: listed domains and their subdomains answer NXDOMAIN\n"
    yield f"$TTL {TTL}\n"
    serial = options.serial % 2**32 or 1
    yield f"@ SOA localhost. hostmaster.localhost. {serial} 3600 600 604800 {TTL}\n"
    yield "@ NS localhost.\n"
    for value in values:
        if value.type is IocType.DOMAIN and safe_host(value.value) and fits(value.value, zone):
            yield f"{value.value} CNAME .\n*.{value.value} CNAME .\n"


FORMAT = ExportFormat(
    name="rpz",
    description="DNS response policy zone (BIND, Unbound, PowerDNS, Knot): NXDOMAIN for listed domains.",
    media_type="text/dns; charset=utf-8",
    parts=(Part("zone", "rpz.herdsec.zone", (IocType.DOMAIN,), write),),
)
