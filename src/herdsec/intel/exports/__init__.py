"""Export formats, looked up by name: each a small module with pure writers from values (or STIX objects) to text.

The selection of what may be exported is :mod:`herdsec.intel.exportable`; :mod:`herdsec.intel.exports.service`
joins the two (ETag, serial, files). Other formats join the registry with :func:`register`.
"""

from __future__ import annotations

from herdsec.core.errors import N_, InvalidInput
from herdsec.intel.exports import csvfile, dataset, hosts, nft, plain, rpz, stix, suricata, zeek
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part

__all__ = ["FORMATS", "ExportFormat", "ExportOptions", "Part", "get_format", "register"]

FORMATS: dict[str, ExportFormat] = {}


def register(fmt: ExportFormat) -> None:
    """Add a format to the registry (a later one with the same name replaces the earlier)."""
    FORMATS[fmt.name] = fmt


def get_format(name: str) -> ExportFormat:
    try:
        return FORMATS[name.strip().lower()]
    except KeyError:
        raise InvalidInput(
            N_("unknown export format %(format)r; expected one of %(formats)s"),
            where="format",
            format=name[:40],
            formats=", ".join(FORMATS),
        ) from None


for _fmt in (
    stix.FORMAT,
    csvfile.FORMAT,
    plain.FORMAT,
    suricata.FORMAT,
    dataset.FORMAT,
    zeek.FORMAT,
    rpz.FORMAT,
    hosts.FORMAT,
    nft.NFT,
    nft.IPSET,
):
    register(_fmt)
