"""The scan set: the indicator values an organization's log scanner should look for, in full or as the changes
since a cursor (``herdsec scan --hub``).

A value is in the scan set when it is carried by the current version of an ``indicator`` that the caller may see
(:func:`herdsec.intel.access.visible_objects`, on the bulk channel: a scan set is an export, so TLP:RED objects
never leave the hub this way), that is not revoked, whose value is well-formed, on no warninglist and
of a type the scanner matches, that is not expired (:func:`herdsec.intel.decay.evaluate`, sightings included) and
that no organization visible to the caller reported as a false positive.

Changes since a cursor: the cursor holds the last object version and the last sighting the caller was sent, and
when its last full answer was. An object with a newer version (updated, revoked, superseded) or a newer sighting
(which may expire it, refresh it or flag it) is re-sent: a ``remove`` for each value of its versions the caller could
see before, then an ``add`` for each value of its current version if that is in the scan set. Removals are sent only
for versions the caller could see, so they reveal nothing new.

Limits (exact and cheap otherwise): expiry by the mere passing of time, visibility changes (a sharing group joined or
left) and warninglist updates are not changes of an object; so a cursor older than :data:`FULL_REFRESH` gets a full
answer (``"full": true``), which replaces the client's cache.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput
from herdsec.core.text import ascii_digits
from herdsec.identity import Principal
from herdsec.intel import sightings
from herdsec.intel.access import visible_objects
from herdsec.intel.exportable import export_state
from herdsec.intel.models import Observable, Sighting, StixObject

SCANNED_TYPES = ("ipv4", "ipv6", "cidr", "domain", "url", "email", "md5", "sha1", "sha256", "sha512", "ja3")
FULL_REFRESH = timedelta(hours=24)
BATCH = 500


@dataclass(frozen=True, slots=True)
class Cursor:
    objects: int
    sightings: int
    full_at: int  # epoch seconds of the last full answer

    def encode(self) -> str:
        return f"{self.objects}.{self.sightings}.{self.full_at}"

    @staticmethod
    def decode(text: str) -> Cursor:
        parts = text.split(".")
        if len(parts) != 3 or not all(ascii_digits(part) and len(part) <= 19 for part in parts):
            raise InvalidInput(N_("invalid scan set cursor"), where="after")
        return Cursor(int(parts[0]), int(parts[1]), int(parts[2]))


def changes(session: Session, actor: Principal, after: str | None) -> Iterator[dict[str, Any]]:
    """NDJSON records: ``{"full": bool}``, then ``{"op", "type", "value", "id"}`` lines, then ``{"cursor", "full"}``."""
    now = utcnow()
    cursor = Cursor.decode(after) if after else None
    state = export_state(session, actor)  # only what the caller may see moves the cursor
    top_object, top_sighting = state.max_object_id, state.max_sighting_id
    full = cursor is None or now.timestamp() - cursor.full_at > FULL_REFRESH.total_seconds()
    yield {"full": full}
    if full or cursor is None:
        yield from _adds(session, actor, None, top_object, now)
        full_at = int(now.timestamp())
    else:
        yield from _incremental(session, actor, cursor, top_object, top_sighting, now)
        full_at = cursor.full_at
    yield {"cursor": Cursor(top_object, top_sighting, full_at).encode(), "full": full}


def _incremental(
    session: Session, actor: Principal, cursor: Cursor, top_object: int, top_sighting: int, now: datetime
) -> Iterator[dict[str, Any]]:
    # Only changes the caller may see: a hidden new version or sighting must not show through (a hidden version
    # that supersedes a visible one is caught by the next full answer).
    visible = visible_objects(identity.viewer_for(actor, bulk=True))
    changed = set(
        session.scalars(
            select(StixObject.stix_id).where(
                StixObject.type == "indicator", StixObject.id > cursor.objects, StixObject.id <= top_object, visible
            )
        )
    )
    changed.update(
        session.scalars(
            select(Sighting.stix_id).where(
                Sighting.id > cursor.sightings,
                Sighting.id <= top_sighting,
                Sighting.object_id.in_(select(StixObject.id).where(visible)),
                sightings.visible_reports(actor, objects=[visible]),
            )
        )
    )
    ordered = sorted(changed)
    for start in range(0, len(ordered), BATCH):
        batch = ordered[start : start + BATCH]
        before = session.execute(
            select(Observable.type, Observable.value, StixObject.stix_id)
            .join(StixObject, StixObject.id == Observable.object_id)
            .where(
                StixObject.stix_id.in_(batch),
                StixObject.type == "indicator",
                StixObject.id <= cursor.objects,
                Observable.type.in_(SCANNED_TYPES),
                visible,
            )
            .distinct()
        ).all()
        for kind, value, stix_id in before:
            yield {"op": "remove", "type": kind, "value": value, "id": stix_id}
        yield from _adds(session, actor, batch, top_object, now)


def _adds(
    session: Session, actor: Principal, stix_ids: list[str] | None, top_object: int, now: datetime
) -> Iterator[dict[str, Any]]:
    """``add`` lines for the scan-set values of current indicators (all of them, or those of ``stix_ids``)."""
    query = (
        select(Observable.type, Observable.value, StixObject.stix_id, StixObject.data, StixObject.modified)
        .join(StixObject, StixObject.id == Observable.object_id)
        .where(
            StixObject.type == "indicator",
            StixObject.current.is_(True),
            StixObject.revoked.is_(False),
            StixObject.id <= top_object,
            Observable.type.in_(SCANNED_TYPES),
            Observable.problem.is_(None),
            or_(Observable.warninglists.is_(None), Observable.warninglists == ""),
            visible_objects(identity.viewer_for(actor, bulk=True)),
        )
        .order_by(StixObject.id)
    )
    if stix_ids is not None:
        query = query.where(StixObject.stix_id.in_(stix_ids))
    pending: list[Any] = []
    for row in session.execute(query).yield_per(5000):
        pending.append(row)
        if len(pending) >= BATCH:
            yield from _active(session, actor, pending, now)
            pending = []
    yield from _active(session, actor, pending, now)


def _active(session: Session, actor: Principal, rows: list[Any], now: datetime) -> Iterator[dict[str, Any]]:
    """The rows whose indicator is neither expired nor reported as a false positive, as ``add`` lines."""
    if not rows:
        return
    inputs = sightings.decay_inputs(session, actor, sorted({row.stix_id for row in rows}), bulk=True)
    verdicts: dict[str, bool] = {}
    for row in rows:
        active = verdicts.get(row.stix_id)
        if active is None:
            active = verdicts[row.stix_id] = _is_active(row, inputs.get(row.stix_id), now)
        if active:
            yield {"op": "add", "type": row.type, "value": row.value, "id": row.stix_id}


def _is_active(row: Any, inputs: sightings.DecayInputs | None, now: datetime) -> bool:
    if inputs is not None and inputs[1]:  # reported as a false positive
        return False
    return not sightings.decay_of(row.data, row.modified, row.type, inputs, now).expired
