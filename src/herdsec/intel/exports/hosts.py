"""``hosts``: a hosts file sending every listed domain to 0.0.0.0."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from herdsec.intel.exportable import ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, safe_host
from herdsec.ioc.types import IocType


def write(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    yield "# HerdSec blocklist (hosts format): listed domains resolve to 0.0.0.0\n"
    for value in values:
        if value.type is IocType.DOMAIN and safe_host(value.value):
            yield f"0.0.0.0 {value.value}\n"


FORMAT = ExportFormat(
    name="hosts",
    description="Hosts file: '0.0.0.0 domain' for every listed domain.",
    media_type="text/plain; charset=utf-8",
    parts=(Part("hosts", "herdsec.hosts", (IocType.DOMAIN,), write),),
)
