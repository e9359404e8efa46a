"""``stix``: a STIX 2.1 bundle of the visible current objects, written object by object."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator

from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part

NAMESPACE = uuid.UUID("0d5b8a4e-2f6c-4c1e-9d55-7d2f1f5b6c01")


def write(objects: Iterable[str], options: ExportOptions) -> Iterator[str]:
    """``objects`` are stored canonical JSON texts; the bundle id derives from the export's state."""
    bundle_id = uuid.uuid5(NAMESPACE, options.token) if options.token else uuid.uuid4()
    yield f'{{"type":"bundle","id":"bundle--{bundle_id}","objects":['
    separator = ""
    for data in objects:
        yield separator + data
        separator = ","
    yield "]}\n"


FORMAT = ExportFormat(
    name="stix",
    description="STIX 2.1 bundle of every visible current object (indicators, reports, sightings, ...).",
    media_type="application/stix+json;version=2.1",
    parts=(Part("bundle", "herdsec-bundle.json", (), write),),
    objects=True,
)
