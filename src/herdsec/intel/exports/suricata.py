"""``suricata``: one rule per value: DNS query, TLS SNI and HTTP host rules for domains (the domain and its
subdomains: ``dotprefix; content:".domain"; endswith``), HTTP host-and-URI rules for URLs, IP rules for addresses
and networks, JA3 rules. Signature ids count up from ``sid_base``; ``msg`` names the STIX indicator."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlsplit

from herdsec.identity.visibility import Tlp
from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, safe_address, safe_host
from herdsec.ioc.types import IocType

TYPES = (IocType.DOMAIN, IocType.IPV4, IocType.IPV6, IocType.CIDR, IocType.URL, IocType.JA3)
_MSG_UNSAFE = re.compile(r"[^A-Za-z0-9 ._:/@?=&%+~,()\[\]-]")
_STIX_ID = re.compile(r"[a-z0-9-]{1,100}--[0-9a-fA-F-]{36}")
_HEX = re.compile(r"[0-9a-f]{32}")
MAX_SID = 2**32 - 1


def msg_text(text: str, limit: int = 120) -> str:
    """Text for ``msg``: characters that could end an option or the rule (``"`` ``;`` ``\\`` and others) become
    ``?``."""
    return _MSG_UNSAFE.sub("?", text[:limit])


def content_text(text: str) -> str:
    """A ``content`` string: printable ASCII as it is, except ``"`` ``;`` ``\\`` ``|`` and anything else as
    ``|hex|``."""
    out = []
    for byte in text.encode("utf-8"):
        char = chr(byte)
        if 0x20 <= byte < 0x7F and char not in '";\\|':
            out.append(char)
        else:
            out.append(f"|{byte:02X}|")
    return "".join(out).replace("||", " ")


def _tail(value: ExportValue, sid: int) -> str:
    ref = value.indicator_id if _STIX_ID.fullmatch(value.indicator_id) else "unknown"
    tlp = Tlp(value.tlp).label.replace("+", "_")
    return f"classtype:trojan-activity; sid:{sid}; rev:1; metadata:herdsec_indicator {ref}, tlp {tlp};)"


def _msg(label: str, value: ExportValue) -> str:
    ref = value.indicator_id if _STIX_ID.fullmatch(value.indicator_id) else "unknown"
    return f'msg:"HerdSec {label} {msg_text(value.value)} {ref}"; '


def _domain_rules(value: ExportValue) -> Iterator[str]:
    if not safe_host(value.value):
        return
    needle = f'dotprefix; content:".{value.value}"; '
    yield "alert dns any any -> any any (" + _msg("DNS query", value) + "dns.query; " + needle + "nocase; endswith; "
    yield "alert tls any any -> any any (" + _msg("TLS SNI", value) + "tls.sni; " + needle + "nocase; endswith; "
    yield "alert http any any -> any any (" + _msg("HTTP host", value) + "http.host; " + needle + "endswith; "


def _address_rules(value: ExportValue) -> Iterator[str]:
    address = safe_address(value.value, network=value.type is IocType.CIDR)
    if address is not None:
        yield f"alert ip any any <> [{address}] any (" + _msg("IP", value)


def _url_rules(value: ExportValue) -> Iterator[str]:
    try:
        parts = urlsplit(value.value)
        host = (parts.hostname or "").lower()
    except ValueError:
        return
    if parts.scheme not in ("http", "https") or not (safe_host(host) or safe_address(host)):
        return
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    host_match = f'http.host; content:"{host}"; startswith; endswith; '
    # Over HTTPS only the SNI can be seen; the rule still names the host.
    yield (
        "alert http any any -> any any ("
        + _msg("URL", value)
        + host_match
        + f'http.uri; content:"{content_text(path)}"; startswith; '
    )


def _ja3_rules(value: ExportValue) -> Iterator[str]:
    if _HEX.fullmatch(value.value):
        yield "alert tls any any -> any any (" + _msg("JA3", value) + f'ja3.hash; content:"{value.value}"; '


RULES = {
    IocType.DOMAIN: _domain_rules,
    IocType.IPV4: _address_rules,
    IocType.IPV6: _address_rules,
    IocType.CIDR: _address_rules,
    IocType.URL: _url_rules,
    IocType.JA3: _ja3_rules,
}


def write(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    sid = options.sid_base
    yield "# HerdSec detection rules for Suricata\n"
    for value in values:
        rules = RULES.get(value.type)
        if rules is None:
            continue
        for head in rules(value):
            if sid > MAX_SID:
                return
            yield head + _tail(value, sid) + "\n"
            sid += 1


FORMAT = ExportFormat(
    name="suricata",
    description="Suricata rules: DNS query, TLS SNI and HTTP host (domains), HTTP URL, IP, JA3.",
    media_type="text/plain; charset=utf-8",
    parts=(Part("rules", "herdsec.rules", TYPES, write),),
)
