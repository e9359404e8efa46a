"""``txt``: a plain list, one value per line (values with a line break or another control character are left out)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from herdsec.intel.exportable import EXPORTABLE_TYPES, ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part, has_control


def write(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    for value in values:
        if not has_control(value.value):
            yield value.value + "\n"


FORMAT = ExportFormat(
    name="txt",
    description="Plain list: one value per line (use --type for one type per list).",
    media_type="text/plain; charset=utf-8",
    parts=(Part("values", "herdsec.txt", EXPORTABLE_TYPES, write),),
)
