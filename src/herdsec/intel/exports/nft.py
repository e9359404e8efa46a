"""``nft`` and ``ipset``: address sets for Linux firewalls.

``nft`` is an nftables script: it declares ``table inet herdsec`` with the interval sets ``blocklist_v4`` and
``blocklist_v6`` (``auto-merge``, so networks and addresses inside them may overlap), flushes them and adds the
elements, all in one transaction when loaded with ``nft -f``. Rules of your own match ``ip daddr @blocklist_v4``.
``ipset`` is the same as ``ipset restore`` input (``hash:net`` sets ``herdsec-v4`` and ``herdsec-v6``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, safe_address
from herdsec.ioc.types import IocType

TYPES = (IocType.IPV4, IocType.IPV6, IocType.CIDR)
CHUNK = 1000
MAXELEM = 16_777_216


def addresses(values: Iterable[ExportValue]) -> Iterator[tuple[int, str]]:
    """(IP version, canonical address or network) of each address value."""
    for value in values:
        if value.type not in TYPES:
            continue
        text = safe_address(value.value, network=value.type is IocType.CIDR)
        if text is not None:
            yield (6 if ":" in text else 4), text


def write_nft(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    yield "#!/usr/sbin/nft -f\n# HerdSec blocklist for nftables\n"
    yield "table inet herdsec {\n"
    yield "\tset blocklist_v4 {\n\t\ttype ipv4_addr\n\t\tflags interval\n\t\tauto-merge\n\t}\n"
    yield "\tset blocklist_v6 {\n\t\ttype ipv6_addr\n\t\tflags interval\n\t\tauto-merge\n\t}\n"
    yield "}\n"
    yield "flush set inet herdsec blocklist_v4\nflush set inet herdsec blocklist_v6\n"
    pending: dict[int, list[str]] = {4: [], 6: []}
    for version, text in addresses(values):
        pending[version].append(text)
        if len(pending[version]) >= CHUNK:
            yield _add(version, pending[version])
            pending[version] = []
    for version in (4, 6):
        if pending[version]:
            yield _add(version, pending[version])


def _add(version: int, elements: list[str]) -> str:
    return f"add element inet herdsec blocklist_v{version} {{ " + ", ".join(elements) + " }\n"


def write_ipset(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    yield f"create herdsec-v4 hash:net family inet hashsize 65536 maxelem {MAXELEM} -exist\n"
    yield f"create herdsec-v6 hash:net family inet6 hashsize 65536 maxelem {MAXELEM} -exist\n"
    yield "flush herdsec-v4\nflush herdsec-v6\n"
    for version, text in addresses(values):
        yield f"add herdsec-v{version} {text} -exist\n"


NFT = ExportFormat(
    name="nft",
    description="nftables script: interval sets blocklist_v4 and blocklist_v6 in table inet herdsec.",
    media_type="text/plain; charset=utf-8",
    parts=(Part("sets", "herdsec.nft", TYPES, write_nft),),
)
IPSET = ExportFormat(
    name="ipset",
    description="ipset restore input: hash:net sets herdsec-v4 and herdsec-v6.",
    media_type="text/plain; charset=utf-8",
    parts=(Part("sets", "herdsec.ipset", TYPES, write_ipset),),
)
