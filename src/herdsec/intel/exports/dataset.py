"""``suricata-dataset``: Suricata dataset files and the rules that load them.

Parts: ``rules`` (``herdsec-datasets.rules``), ``domains`` (a ``string`` dataset: each line the base64 of a domain,
as Suricata's dataset files want it; matched exactly against DNS queries, TLS SNI and HTTP hosts), ``ips`` (an
``ip`` dataset: IPv4 and IPv6 addresses, one per line, matched with ``ip.src``/``ip.dst``) and ``user-agents``
(a ``string`` dataset of HTTP user agents). Networks are not dataset material: use ``suricata`` or ``nft``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Iterator

from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, has_control, safe_address, safe_host
from herdsec.ioc.types import IocType

DOMAINS, IPS, AGENTS = "herdsec-domains", "herdsec-ips", "herdsec-user-agents"


def _rule(options: ExportOptions, n: int, proto: str, label: str, buffer: str, dataset: str, kind: str) -> str:
    return (
        f'alert {proto} any any -> any any (msg:"HerdSec {label} listed in dataset {dataset}"; {buffer}; '
        f"dataset:isset,{dataset},type {kind},load {dataset}.lst; classtype:trojan-activity; "
        f"sid:{options.sid_base + n}; rev:1;)\n"
    )


def write_rules(values: Iterable[object], options: ExportOptions) -> Iterator[str]:
    yield "# HerdSec dataset rules for Suricata 7: put the .lst files in the rules directory\n"
    specs = [
        ("dns", "DNS query", "dns.query", DOMAINS, "string"),
        ("tls", "TLS SNI", "tls.sni", DOMAINS, "string"),
        ("http", "HTTP host", "http.host", DOMAINS, "string"),
        ("ip", "source IP", "ip.src", IPS, "ip"),
        ("ip", "destination IP", "ip.dst", IPS, "ip"),
        ("http", "HTTP user agent", "http.user_agent", AGENTS, "string"),
    ]
    for n, (proto, label, buffer, dataset, kind) in enumerate(specs):
        yield _rule(options, n, proto, label, buffer, dataset, kind)


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii") + "\n"


def write_domains(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    for value in values:
        if value.type is IocType.DOMAIN and safe_host(value.value):
            yield _b64(value.value)


def write_ips(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    for value in values:
        address = safe_address(value.value) if value.type in (IocType.IPV4, IocType.IPV6) else None
        if address is not None:
            yield address + "\n"


def write_agents(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    for value in values:
        if value.type is IocType.USER_AGENT and not has_control(value.value):
            yield _b64(value.value)


FORMAT = ExportFormat(
    name="suricata-dataset",
    description="Suricata datasets (domains base64, IPs, user agents) and the rules that load them.",
    media_type="text/plain; charset=utf-8",
    parts=(
        Part("rules", "herdsec-datasets.rules", (), write_rules),
        Part("domains", f"{DOMAINS}.lst", (IocType.DOMAIN,), write_domains),
        Part("ips", f"{IPS}.lst", (IocType.IPV4, IocType.IPV6), write_ips),
        Part("user-agents", f"{AGENTS}.lst", (IocType.USER_AGENT,), write_agents),
    ),
)
