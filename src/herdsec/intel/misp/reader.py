"""Reading MISP event JSON: ``{"Event": {...}}``, a bare event, a list of them or ``{"response": [...]}``.

Small documents are parsed at once (orjson, in C). Large ones (one event, possibly of hundreds of thousands of
attributes) are streamed: a first pass reads the event's own fields while skipping its attribute and object
lists without building them (MISP writes ``Attribute`` before ``Tag``, so the event's tags and distribution are
only known at the end), then attributes and objects are read one at a time. Memory holds one attribute, not the
event.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
import orjson

from herdsec.core.errors import N_, InvalidInput

STREAM_MIN_BYTES = 16 * 1024 * 1024  # documents larger than this are streamed
LISTS = ("Attribute", "Object")
SKIPPED = frozenset({"Attribute", "Object", "ShadowAttribute", "RelatedEvent", "EventReport"})


@dataclass
class EventDocument:
    """One event: its own fields (``header``) and its attributes and objects, read lazily."""

    header: dict[str, Any]
    attributes: Iterator[Any]
    objects: Iterator[Any]


def read_events(stream: IO[bytes], *, stream_over: int = STREAM_MIN_BYTES) -> Iterator[EventDocument]:
    """The events of a MISP JSON document. Raises InvalidInput for malformed JSON or a document of no event."""
    size = _size(stream)
    if size is None or size <= stream_over:
        yield from _whole(stream.read())
        return
    yield _streamed(stream)


def _size(stream: IO[bytes]) -> int | None:
    try:
        here = stream.tell()
        end = stream.seek(0, io.SEEK_END)
        stream.seek(here)
        return end - here
    except (OSError, ValueError):
        return None


def _whole(data: bytes) -> Iterator[EventDocument]:
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(
            N_("malformed JSON: %(reason)s"), where=f"line {exc.lineno}, column {exc.colno}", reason=exc.msg
        ) from None
    for event in _events_of(document):
        header = {k: v for k, v in event.items() if k not in LISTS}
        yield EventDocument(header, iter(_list(event, "Attribute")), iter(_list(event, "Object")))


def _list(event: dict[str, Any], key: str) -> list[Any]:
    value = event.get(key)
    return value if isinstance(value, list) else []


def _events_of(document: object) -> list[dict[str, Any]]:
    if isinstance(document, dict) and isinstance(document.get("response"), list):
        document = document["response"]
    items = document if isinstance(document, list) else [document]
    events = []
    for item in items:
        event = item.get("Event") if isinstance(item, dict) and "Event" in item else item
        if not isinstance(event, dict) or not ({"uuid", "info", "Attribute", "Object"} & event.keys()):
            raise InvalidInput(
                N_('the document is not MISP event JSON (expected {"Event": {...}} or a list of events)'),
                where="$",
            )
        events.append(event)
    if not events:
        raise InvalidInput(N_("the document holds no MISP event"), where="$")
    return events


def _prefix(stream: IO[bytes]) -> str:
    """``Event.`` for ``{"Event": {...}}``, empty for a bare event."""
    start = stream.tell()
    try:
        for event, value in ijson.basic_parse(stream):
            if event == "start_map":
                continue
            if event == "map_key":
                stream.seek(start)
                return "Event." if value == "Event" else ""
            break
    except ijson.JSONError as exc:
        raise InvalidInput(N_("malformed JSON: %(reason)s"), where="event", reason=str(exc)[:200]) from None
    raise InvalidInput(
        N_('a large MISP document must be one event ({"Event": {...}}); split lists of events'), where="$"
    )


def _streamed(stream: IO[bytes]) -> EventDocument:
    start = stream.tell()
    prefix = _prefix(stream)
    header = _header(stream, prefix)
    if not ({"uuid", "info"} & header.keys()):
        raise InvalidInput(N_("the document is not MISP event JSON (the event has no uuid)"), where="$")

    def items(name: str) -> Iterator[Any]:
        stream.seek(start)
        try:
            yield from ijson.items(stream, f"{prefix}{name}.item", use_float=True)
        except ijson.JSONError as exc:
            raise InvalidInput(N_("malformed JSON: %(reason)s"), where=name, reason=str(exc)[:200]) from None

    return EventDocument(header, items("Attribute"), items("Object"))


def _header(stream: IO[bytes], prefix: str) -> dict[str, Any]:
    """The event's own fields, skipping (without building) the attribute and object lists."""
    start = stream.tell()
    level = prefix.rstrip(".")
    header: dict[str, Any] = {}
    key: str | None = None
    builder: Any = None
    depth = 0
    skipping = False
    try:
        for path, event, value in ijson.parse(stream, use_float=True):
            if depth:
                depth += 1 if event in ("start_map", "start_array") else -1 if event in ("end_map", "end_array") else 0
                if not skipping:
                    builder.event(event, value)
                if depth == 0 and not skipping:
                    header[key or ""] = builder.value
                continue
            if event == "map_key" and path == level:
                key = value
                continue
            if key is None or path != f"{prefix}{key}":
                continue
            if event in ("start_map", "start_array"):
                depth, skipping = 1, key in SKIPPED
                if not skipping:
                    builder = ijson.ObjectBuilder()
                    builder.event(event, value)
            else:
                header[key] = value
    except ijson.JSONError as exc:
        raise InvalidInput(N_("malformed JSON: %(reason)s"), where="event", reason=str(exc)[:200]) from None
    stream.seek(start)
    return header
