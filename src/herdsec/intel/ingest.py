"""Ingest of STIX 2.1 bundles: streamed, validated per object, stored in batches, idempotent on (id, modified).

A bundle is read with a streaming parser (``ijson``'s C backend), so a 1 GB bundle needs memory for one batch of
objects, not for the file. Valid objects are stored, invalid ones reported with their index, id and reason.
The whole bundle is one unit of work: a JSON syntax error anywhere rejects it and stores nothing.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
import orjson
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core import counters
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.identity.visibility import Distribution, Tlp, effective_tlp, normalise_marking
from herdsec.intel import sightings, stix
from herdsec.intel.extract import ObjectRejected, value_key, values_of
from herdsec.intel.models import Observable, Sighting, StixObject
from herdsec.intel.schemas import IngestFailure, IngestStatus
from herdsec.ioc.warninglists import WarninglistSet, shipped

BATCH = 2000
MAX_FAILURES_LISTED = 10_000
SYNTAX_DETAIL_LIMIT = 64 * 1024 * 1024  # re-read files up to this size to give the line and column of an error
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Audience:
    """Who a submission is for: the defaults for objects that carry no marking, and the distribution."""

    tlp: Tlp
    distribution: Distribution
    sharing_group_id: int | None

    @classmethod
    def parse(cls, actor: Principal, tlp: str | None, distribution: str | None) -> Audience:
        level = Tlp.parse(tlp) if tlp else Tlp.AMBER
        dist, group = Distribution.parse(distribution or "community")
        if group is not None and group not in actor.group_ids:
            raise PermissionDenied(N_("your organization is not a member of sharing group %(id)s"), id=group)
        return cls(level, dist, group)


@dataclass(slots=True)
class _Row:
    index: int
    stix_id: str
    obj_type: str
    modified: datetime
    created: datetime | None
    revoked: bool
    tlp: int
    name: str | None
    data: str
    values: list[Any]


@dataclass
class _Run:
    session: Session
    actor: Principal
    audience: Audience
    warninglists: WarninglistSet
    status: IngestStatus = field(default_factory=IngestStatus)
    statements: set[str] = field(default_factory=set)
    pending: list[_Row] = field(default_factory=list)

    def fail(self, index: int, obj: object, reason: str) -> None:
        self.status.failure_count += 1
        if len(self.status.failures) < MAX_FAILURES_LISTED:
            obj_id = obj.get("id") if isinstance(obj, dict) else None
            self.status.failures.append(
                IngestFailure(index=index, id=obj_id if isinstance(obj_id, str) else None, reason=reason)
            )


def ingest_bundle(
    session: Session,
    actor: Principal,
    stream: IO[bytes],
    *,
    tlp: str | None = None,
    distribution: str | None = None,
    source: str = "bundle",
) -> IngestStatus:
    """Store the objects of a STIX 2.1 bundle shared by ``actor``'s organization (analysts and admins)."""
    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("sharing needs the analyst or admin role in a member organization"))
    run = _Run(session, actor, Audience.parse(actor, tlp, distribution), shipped())
    run.statements = _known_statements(session)
    stream = _seekable(stream)
    _check_header(stream)
    try:
        for index, obj in enumerate(ijson.items(stream, "objects.item", use_float=True)):
            run.status.total_count += 1
            _accept(run, index, obj)
            if len(run.pending) >= BATCH:
                _flush(run)
    except ijson.JSONError as exc:
        raise _syntax_error(stream, exc) from None
    _flush(run)
    run.status.success_count = run.status.total_count - run.status.failure_count
    identity.audit_record(
        session,
        actor,
        "intel.ingest",
        "bundle",
        None,
        target_org_id=actor.org_id,
        source=source,
        total=run.status.total_count,
        stored=run.status.stored_count,
        failed=run.status.failure_count,
        tlp=run.audience.tlp.label,
        distribution=run.audience.distribution.value,
    )
    return run.status


def ingest_objects(session: Session, actor: Principal, objects: list[dict[str, Any]], **options: Any) -> IngestStatus:
    """Store objects already in memory (freetext and single-indicator forms, the CLI's plain lists)."""
    body = orjson.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})
    return ingest_bundle(session, actor, io.BytesIO(body), **options)


# --- reading -----------------------------------------------------------------------------------------------------


def _seekable(stream: IO[bytes]) -> IO[bytes]:
    if stream.seekable():
        return stream
    buffered = io.BytesIO(stream.read())
    return buffered


def _check_header(stream: IO[bytes]) -> None:
    """The document must be a JSON object with ``"type": "bundle"`` (read without building the objects)."""
    start = stream.tell()
    kind: object = None
    spec: object = None
    try:
        for prefix, event, value in ijson.parse(stream):
            if prefix == "" and event not in ("start_map", "map_key", "end_map"):
                raise InvalidInput(N_("the document is not a STIX bundle (a JSON object was expected)"), where="$")
            if prefix == "type" and event == "string":
                kind = value
            elif prefix == "spec_version" and event == "string":
                spec = value
            elif prefix == "" and event == "map_key" and value == "objects":
                break  # never walk the objects here
    except ijson.JSONError as exc:
        raise _syntax_error(stream, exc) from None
    if kind is None:  # "type" comes after "objects": one scan in C, building nothing but that string
        stream.seek(start)
        try:
            kind = next(ijson.items(stream, "type"), None)
        except ijson.JSONError as exc:
            raise _syntax_error(stream, exc) from None
    stream.seek(start)
    if kind != "bundle":
        raise InvalidInput(N_("the document is not a STIX bundle (its type is %(type)r)"), where="type", type=kind)
    if spec is not None and spec != "2.1":
        raise InvalidInput(
            N_("this is a STIX %(version)s bundle; the hub takes STIX 2.1"), where="spec_version", version=spec
        )


def _syntax_error(stream: IO[bytes], exc: Exception) -> InvalidInput:
    """A syntax error with its line and column (found by re-reading the document when it is not huge)."""
    try:
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
        if size <= SYNTAX_DETAIL_LIMIT:
            stream.seek(0)
            json.loads(stream.read())
    except json.JSONDecodeError as detail:
        return InvalidInput(
            N_("malformed JSON: %(reason)s"), where=f"line {detail.lineno}, column {detail.colno}", reason=detail.msg
        )
    except (OSError, UnicodeDecodeError, RecursionError):
        pass
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return InvalidInput(N_("malformed JSON: %(reason)s"), where="bundle", reason=first)


# --- per object --------------------------------------------------------------------------------------------------


def _known_statements(session: Session) -> set[str]:
    """Marking definitions that restrict nothing (statements, e.g. copyright) already in the store."""
    rows = session.execute(select(StixObject.stix_id, StixObject.data).where(StixObject.type == "marking-definition"))
    return {sid for sid, data in rows if '"definition_type":"statement"' in data}


def _accept(run: _Run, index: int, obj: Any) -> None:
    problem = stix.check(obj)
    if problem is not None:
        run.fail(index, obj, problem)
        return
    try:
        values = values_of(obj)
    except ObjectRejected as exc:
        run.fail(index, obj, exc.render())
        return
    if obj.get("type") == "marking-definition" and obj.get("definition_type") == "statement":
        run.statements.add(obj["id"])
    markings = [normalise_marking(m) for m in obj.get("object_marking_refs", [])]
    if markings != obj.get("object_marking_refs", markings):
        obj["object_marking_refs"] = markings
    level = effective_tlp(markings, known_other=run.statements, default=run.audience.tlp)
    modified = stix.version_key(obj) or EPOCH
    run.pending.append(
        _Row(
            index=index,
            stix_id=obj["id"],
            obj_type=obj["type"],
            modified=modified,
            created=stix.parse_timestamp(obj.get("created")),
            revoked=obj.get("revoked") is True,
            tlp=int(level),
            name=stix.display_name(obj),
            data=orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode(),
            values=values,
        )
    )


# --- writing -----------------------------------------------------------------------------------------------------


def _flush(run: _Run) -> None:
    if not run.pending:
        return
    rows, run.pending = run.pending, []
    session = run.session
    ids = sorted({r.stix_id for r in rows})
    existing: dict[str, list[tuple[int, datetime, bool, int]]] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        for pk, sid, modified, current, owner in session.execute(
            select(
                StixObject.id, StixObject.stix_id, StixObject.modified, StixObject.current, StixObject.creator_org_id
            ).where(StixObject.stix_id.in_(chunk))
        ):
            existing.setdefault(sid, []).append((pk, modified, current, owner))
    newest: dict[str, datetime] = {sid: max(v[1] for v in versions) for sid, versions in existing.items()}
    accepted: list[_Row] = []
    seen_versions: set[tuple[str, datetime]] = {(sid, v[1]) for sid, versions in existing.items() for v in versions}
    for row in rows:
        versions = existing.get(row.stix_id, [])
        if any(owner != run.actor.org_id for _pk, _m, _c, owner in versions):
            run.fail(
                row.index,
                {"id": row.stix_id},
                "the object belongs to another organization; only its creator may publish new versions or revoke it",
            )
            continue
        if (row.stix_id, row.modified) in seen_versions:
            continue  # already stored: idempotent
        seen_versions.add((row.stix_id, row.modified))
        accepted.append(row)
        if row.modified > newest.get(row.stix_id, EPOCH - timedelta(days=1)):
            newest[row.stix_id] = row.modified
    if not accepted:
        return
    top = counters.reserve(session, "stix_seq", len(accepted))
    now_us = int(utcnow().timestamp() * 1_000_000)
    last_us = counters.reserve(session, "stix_added_us", 0)
    base_us = max(now_us, last_us + 1)
    counters.advance_to(session, "stix_added_us", base_us + len(accepted) - 1)
    first_seq = top - len(accepted) + 1
    audience = run.audience
    params = [
        {
            "seq": first_seq + i,
            "stix_id": row.stix_id,
            "type": row.obj_type,
            "spec_version": "2.1",
            "created": row.created,
            "modified": row.modified,
            "date_added": EPOCH + timedelta(microseconds=base_us + i),
            "current": row.modified == newest[row.stix_id],
            "revoked": row.revoked,
            "creator_org_id": run.actor.org_id,
            "tlp": row.tlp,
            "distribution": audience.distribution.value,
            "sharing_group_id": audience.sharing_group_id,
            "name": row.name,
            "data": row.data,
        }
        for i, row in enumerate(accepted)
    ]
    pks = session.scalars(insert(StixObject).returning(StixObject.id, sort_by_parameter_order=True), params).all()
    superseded = [
        pk
        for sid, versions in existing.items()
        for pk, modified, current, _owner in versions
        if current and modified != newest[sid]
    ]
    for start in range(0, len(superseded), 500):
        session.execute(
            update(StixObject).where(StixObject.id.in_(superseded[start : start + 500])).values(current=False)
        )
    observables = []
    for pk, row in zip(pks, accepted, strict=True):
        for value in row.values:
            hits = run.warninglists.match(value)
            flagged = ",".join(sorted({h.list_name for h in hits}))[:400] or None
            if flagged or value.problem:
                run.status.flagged_values += 1
            observables.append(
                {
                    "object_id": pk,
                    "type": value.type.value,
                    "value_key": value_key(value.value),
                    "value": value.value,
                    "problem": value.problem[:200] if value.problem else None,
                    "warninglists": flagged,
                }
            )
    if observables:
        session.execute(insert(Observable), observables)
    _record_stix_sightings(run, [row for row in accepted if row.obj_type == "sighting"])
    run.status.stored_count += len(accepted)


def _record_stix_sightings(run: _Run, rows: list[_Row]) -> None:
    """STIX sighting objects also count in the sightings table (who saw what, when)."""
    if not rows:
        return
    now = utcnow()
    found = [sightings.from_stix(orjson.loads(row.data), run.actor.org_id, now) for row in rows]
    targets = {f["stix_id"] for f in found}
    current = dict(
        run.session.execute(
            select(StixObject.stix_id, StixObject.id).where(
                StixObject.stix_id.in_(sorted(targets)), StixObject.current.is_(True)
            )
        ).all()
    )
    for item in found:
        item["object_id"] = current.get(item["stix_id"])
    run.session.execute(insert(Sighting), found)
