"""``csv``: one row per value, with a header; cells that a spreadsheet would run as a formula are neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from herdsec.identity.visibility import Tlp
from herdsec.intel.exportable import EXPORTABLE_TYPES, ExportValue
from herdsec.intel.exports.base import ExportFormat, ExportOptions, Part

HEADER = (
    "type",
    "value",
    "indicator",
    "name",
    "organization",
    "tlp",
    "date_added",
    "modified",
    "score",
    "warninglists",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def cell(text: str) -> str:
    """A cell safe from formula injection (CSV injection): a leading ``= + - @``, tab or carriage return gets a
    leading apostrophe, so spreadsheets show the text instead of evaluating it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


_TLP = {int(t): t.label for t in Tlp}


def stamp(moment: datetime) -> str:
    """As :func:`herdsec.intel.stix.format_timestamp` (milliseconds unless more digits are set), faster."""
    text = moment.astimezone(UTC).isoformat(timespec="microseconds")[:26]
    return (text[:-3] if text.endswith("000") else text) + "Z"


def _row(value: ExportValue) -> list[str]:
    return [
        value.type.value,
        value.value,
        value.indicator_id,
        value.name or "",
        value.source,
        _TLP.get(value.tlp, "unknown"),
        stamp(value.date_added),
        stamp(value.modified),
        f"{value.score:g}",
        ",".join(value.warninglists),
    ]


def write(values: Iterable[ExportValue], options: ExportOptions) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for n, value in enumerate(values, 1):
        writer.writerow([cell(text) for text in _row(value)])
        if n % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


FORMAT = ExportFormat(
    name="csv",
    description="CSV with a header (RFC 4180), safe from formula injection.",
    media_type="text/csv; charset=utf-8",
    parts=(Part("values", "herdsec.csv", EXPORTABLE_TYPES, write),),
)
