"""``zeek``: a Zeek Intel framework file (tab-separated, ``#fields`` header, ``-`` for an empty field)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from herdsec.identity.visibility import Tlp
from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, has_control, safe_address
from herdsec.ioc.types import IocType

INTEL_TYPES = {
    IocType.IPV4: "Intel::ADDR",
    IocType.IPV6: "Intel::ADDR",
    IocType.CIDR: "Intel::SUBNET",
    IocType.DOMAIN: "Intel::DOMAIN",
    IocType.URL: "Intel::URL",
    IocType.EMAIL: "Intel::EMAIL",
    IocType.MD5: "Intel::FILE_HASH",
    IocType.SHA1: "Intel::FILE_HASH",
    IocType.SHA256: "Intel::FILE_HASH",
    IocType.SHA512: "Intel::FILE_HASH",
    IocType.FILENAME: "Intel::FILE_NAME",
    IocType.USER_AGENT: "Intel::SOFTWARE",
}
FIELDS = ("indicator", "indicator_type", "meta.source", "meta.desc", "meta.url")
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TLP = {int(t): t.label.upper() for t in Tlp}


def field(text: str | None) -> str:
    """A field: tabs and line breaks become spaces; an empty field is ``-``."""
    cleaned = (_CONTROL.sub(" ", text) if has_control(text) else text).strip() if text else ""
    return cleaned or "-"


def indicator(value: ExportValue) -> str | None:
    """The indicator as Zeek's Intel framework sees it (URLs without their scheme, networks canonical)."""
    if has_control(value.value):
        return None
    if value.type in (IocType.IPV4, IocType.IPV6, IocType.CIDR):
        return safe_address(value.value, network=value.type is IocType.CIDR)
    if value.type is IocType.URL:
        return _SCHEME.sub("", value.value)
    return value.value


def write(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    yield "#fields\t" + "\t".join(FIELDS) + "\n"
    for value in values:
        kind = INTEL_TYPES.get(value.type)
        text = indicator(value) if kind else None
        if kind is None or text is None:
            continue
        source = field(f"HerdSec {value.source}".strip())
        desc = field(f"{value.name or value.value} [{value.indicator_id}] TLP:{_TLP.get(value.tlp, 'UNKNOWN')}")
        yield f"{text}\t{kind}\t{source}\t{desc}\t-\n"


FORMAT = ExportFormat(
    name="zeek",
    description="Zeek Intel framework file (Intel::ADDR, SUBNET, DOMAIN, URL, EMAIL, FILE_HASH, ...).",
    media_type="text/plain; charset=utf-8",
    parts=(Part("intel", "herdsec.intel", tuple(INTEL_TYPES), write),),
)
