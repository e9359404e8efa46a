"""Running an export: the state it is a function of (ETag, RPZ serial), the values it selects, the files it writes."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput
from herdsec.identity import Principal
from herdsec.intel.exportable import ExportState, export_state, exportable_values, parse_types, visible_object_data
from herdsec.intel.exports import ExportFormat, ExportOptions, Part, get_format
from herdsec.intel.exports.rpz import check_zone

# Decay is evaluated at the start of the current hour: an export is then a function of the stored state, the viewer
# and the hour, so polling within the hour without changes gets 304 (an indicator may outlive its expiry by an hour).
BUCKET = timedelta(hours=1)
VERSION = "1"  # bump when a writer's output changes, so that cached copies are refetched
CHUNK = 64 * 1024
_RELATIVE = re.compile(r"(\d{1,6})([mhdw])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True, slots=True)
class ExportRequest:
    format: str
    part: str | None = None
    types: tuple[str, ...] = ()
    since: datetime | None = None
    include_warninglisted: bool = False
    include_expired: bool = False
    include_false_positive: bool = False
    include_malformed: bool = False
    sid_base: int = 1_000_000
    zone: str = "rpz.herdsec"


@dataclass(frozen=True, slots=True)
class PreparedExport:
    format: ExportFormat
    part: Part
    request: ExportRequest
    state: ExportState
    now: datetime
    etag: str
    options: ExportOptions = field(default_factory=ExportOptions)

    @property
    def media_type(self) -> str:
        return self.format.media_type

    @property
    def filename(self) -> str:
        return self.part.filename


def parse_since(text: str | None, now: datetime | None = None) -> datetime | None:
    """ISO 8601 (UTC when no offset is given) or a relative age such as ``30m``, ``24h``, ``7d``, ``2w``. Ages count
    back from the start of the current hour, so that a poller asking for ``since=24h`` keeps its ETag within the
    hour."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    relative = _RELATIVE.fullmatch(text)
    if relative:
        return _bucket(now or utcnow()) - timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        raise InvalidInput(
            N_("%(value)r is not a time: give ISO 8601 (2026-11-30T00:00:00Z) or an age such as 24h or 7d"),
            where="since",
            value=text[:40],
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _bucket(moment: datetime) -> datetime:
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((moment - epoch) // BUCKET) * BUCKET


def _check(request: ExportRequest) -> tuple[ExportFormat, Part, ExportOptions]:
    fmt = get_format(request.format)
    part = fmt.part(request.part)
    if not 1 <= request.sid_base <= 2**32 - 1:
        raise InvalidInput(N_("sid_base must be between 1 and 4294967295"), where="sid_base")
    parse_types(request.types)
    return fmt, part, ExportOptions(sid_base=request.sid_base, zone=check_zone(request.zone))


def prepare(
    session: Session, actor: Principal, request: ExportRequest, *, now: datetime | None = None
) -> PreparedExport:
    """Check the request and compute what the export will be a function of: cheap (no value is read)."""
    fmt, part, options = _check(request)
    state = export_state(session, actor)
    moment = _bucket(now or utcnow())
    digest = hashlib.sha256(
        repr(
            (
                VERSION,
                fmt.name,
                part.name,
                request,
                actor.org_id,
                sorted(actor.group_ids),
                state.max_object_id,
                state.max_sighting_id,
                state.current_objects,
                moment.isoformat(),
            )
        ).encode()
    ).hexdigest()[:40]
    newest = state.newest_change or moment
    serial = max(int(moment.timestamp()), int(newest.timestamp()))
    options = replace(options, serial=serial, token=digest, generated=moment)
    return PreparedExport(fmt, part, request, state, moment, f'"{digest}"', options)


def _counted(values: Iterable[Any], tick: Callable[[], None] | None) -> Iterator[Any]:
    for value in values:
        if tick is not None:
            tick()
        yield value


def _source(session: Session, actor: Principal, prepared: PreparedExport) -> Iterator[Any]:
    request = prepared.request
    if prepared.format.objects:
        return visible_object_data(session, actor, since=request.since, as_of=prepared.state)
    part_types = {t.value for t in prepared.part.types}
    if not part_types:
        return iter(())
    wanted = [t for t in parse_types(request.types) if t.value in part_types]
    if not wanted:
        return iter(())
    return exportable_values(
        session,
        actor,
        types=wanted,
        since=request.since,
        include_warninglisted=request.include_warninglisted,
        include_expired=request.include_expired,
        include_false_positive=request.include_false_positive,
        include_malformed=request.include_malformed,
        now=prepared.now,
        as_of=prepared.state,
    )


def chunks(
    session: Session, actor: Principal, prepared: PreparedExport, *, tick: Callable[[], None] | None = None
) -> Iterator[str]:
    """The export's text in chunks of about 64 KiB; ``tick`` is called once per value or object read."""
    buffer: list[str] = []
    size = 0
    for piece in prepared.part.write(_counted(_source(session, actor, prepared), tick), prepared.options):
        buffer.append(piece)
        size += len(piece)
        if size >= CHUNK:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def write_files(
    session: Session,
    actor: Principal,
    request: ExportRequest,
    directory: Path,
    *,
    tick: Callable[[], None] | None = None,
) -> list[Path]:
    """Every part of the format (or the one asked for) as files in ``directory``."""
    fmt, _part, _options = _check(request)
    directory.mkdir(parents=True, exist_ok=True)
    parts = [fmt.part(request.part)] if request.part else list(fmt.parts)
    written = []
    for part in parts:
        prepared = prepare(session, actor, replace(request, part=part.name))
        path = directory / part.filename
        write_text(path, chunks(session, actor, prepared, tick=tick))
        written.append(path)
    return written


def write_text(path: Path, pieces: Iterable[str]) -> None:
    """Write to a temporary file beside ``path``, then rename: a consumer never reads half a blocklist."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        for piece in pieces:
            handle.write(piece)
    partial.replace(path)
