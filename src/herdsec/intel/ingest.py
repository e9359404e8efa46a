"""Ingest of STIX 2.1 bundles: streamed, validated per object, stored in batches, idempotent on (id, modified).

A bundle is read with a streaming parser (``ijson``'s C backend), so a 1 GB bundle needs memory for one batch of
objects, not for the file. Valid objects are stored, invalid ones reported with their index, id and reason.
The whole bundle is one unit of work: a JSON syntax error anywhere rejects it and stores nothing.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
import orjson
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core import counters, events
from herdsec.core.bulk import fewer_collections, insert_rows, page_cache_for
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput, PermissionDenied, Text
from herdsec.identity import Principal, Role
from herdsec.identity.visibility import Distribution, Tlp, effective_tlp
from herdsec.intel import sightings
from herdsec.intel.access import visible_objects
from herdsec.intel.models import ObjectTag, Sighting, StixObject
from herdsec.intel.prepare import (
    BATCH,
    PRECHECK_MAX_BYTES,
    TOO_DEEP,
    Built,
    Context,
    Prepared,
    Preparer,
    Refused,
    SyntaxProblem,
    listed_in,
    prechecked,
    prepared_batches,
    remaining,
    runs_in_parallel,
    tags_of,
)
from herdsec.intel.reference import reference_org_ids
from herdsec.intel.schemas import IngestFailure, IngestStatus
from herdsec.ioc.types import IocType
from herdsec.ioc.warninglists import shipped

OBJECT_COLUMNS = (
    "id",
    "seq",
    "stix_id",
    "type",
    "spec_version",
    "created",
    "modified",
    "date_added",
    "current",
    "revoked",
    "creator_org_id",
    "tlp",
    "distribution",
    "sharing_group_id",
    "name",
    "data",
)
OBSERVABLE_COLUMNS = ("object_id", "type", "value_key", "value", "problem", "warninglists")
# SQLite's driver binds exact ints and strings directly, but looks up an adapter for None and for bools (about half a
# microsecond each): rows carry 0/1 for booleans, and leave out the columns that are usually NULL (a batch's sharing
# group, most values' problem and warninglists).
GROUPLESS_COLUMNS = tuple(c for c in OBJECT_COLUMNS if c != "sharing_group_id")
PLAIN_OBSERVABLE_COLUMNS = OBSERVABLE_COLUMNS[:4]
MAX_FAILURES_LISTED = 10_000
IOC_TYPES = {t.value: t for t in IocType}
VERSIONS_SQL = {
    "postgresql": "SELECT id, stix_id, modified, current, creator_org_id FROM stix_objects WHERE stix_id = ANY(%s)",
    "sqlite": "SELECT id, stix_id, modified, current, creator_org_id FROM stix_objects"
    " WHERE stix_id IN (SELECT value FROM json_each(?))",
}
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


@dataclass
class _Run:
    session: Session
    actor: Principal
    audience: Audience
    status: IngestStatus = field(default_factory=IngestStatus)
    statements: set[str] = field(default_factory=set)
    pending: list[Prepared] = field(default_factory=list)
    defined: set[str] = field(default_factory=set)  # statement markings stored by this submission
    unresolved: list[tuple[int, tuple[str, ...]]] = field(default_factory=list)  # (row, markings) of unknown TLP
    match_lists: bool = False  # the values were prepared without the warninglist check: the writer does it

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
    parallel: bool = True,
) -> IngestStatus:
    """Store the objects of a STIX 2.1 bundle shared by ``actor``'s organization (analysts and admins).

    Large bundles on disk are read and validated in a second process while this one writes (both cores)."""
    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("sharing needs the analyst or admin role in a member organization"))
    run = _Run(session, actor, Audience.parse(actor, tlp, distribution))
    run.statements = _known_statements(session, actor.org_id)
    stream = _seekable(stream)
    size = remaining(stream)
    if size is not None and size <= PRECHECK_MAX_BYTES and not runs_in_parallel(stream, parallel):
        try:
            stream = prechecked(stream)
        except SyntaxProblem as exc:
            if str(exc).startswith("nested deeper"):
                raise InvalidInput(N_("malformed JSON: %(reason)s"), where="bundle", reason=str(exc)) from None
            raise _syntax_error(stream, exc) from None
    _check_header(stream)
    try:
        context = _context(run)
        with page_cache_for(session, size), fewer_collections():
            for batch in prepared_batches(stream, context, parallel=parallel):
                run.status.total_count += len(batch)
                for item in batch:
                    if type(item) is Refused:
                        run.fail(item.position, {"id": item.id}, item.reason)
                    else:
                        run.pending.append(item)  # type: ignore[arg-type]
                if len(run.pending) >= BATCH:
                    _flush(run)
            _flush(run)
            _resolve_markings(run)
    except SyntaxProblem as exc:
        if str(exc).startswith(("nested deeper", TOO_DEEP)):
            reason = Text(TOO_DEEP) if str(exc) == TOO_DEEP else str(exc)  # the reader's refusal, translatable
            raise InvalidInput(N_("malformed JSON: %(reason)s"), where="bundle", reason=reason) from None
        raise _syntax_error(stream, exc) from None
    return _finish(run, source, run.audience.tlp, run.audience.distribution.value)


def _finish(run: _Run, source: str, tlp: Tlp, distribution: str) -> IngestStatus:
    """Count the successes and record the submission in the audit log (same transaction)."""
    run.status.success_count = run.status.total_count - run.status.failure_count
    identity.audit_record(
        run.session,
        run.actor,
        "intel.ingest",
        "bundle",
        None,
        target_org_id=run.actor.org_id,
        source=source,
        total=run.status.total_count,
        stored=run.status.stored_count,
        failed=run.status.failure_count,
        tlp=tlp.label,
        distribution=distribution,
    )
    return run.status


def _context(run: _Run) -> Context:
    orgs = identity.list_orgs(run.session)
    return Context(
        default_tlp=run.audience.tlp,
        statements=frozenset(run.statements),
        own_identity=next(f"identity--{o.uuid}" for o in orgs if o.id == run.actor.org_id),
        member_identities=frozenset(f"identity--{o.uuid}" for o in orgs),
        dialect=run.session.get_bind().dialect.name,
    )


def ingest_items(
    session: Session,
    actor: Principal,
    items: Iterable[tuple[dict[str, Any], Audience, Built | None]],
    *,
    tlp: str | None = None,
    source: str = "items",
) -> IngestStatus:
    """Store objects built in memory, each with its own audience (MISP attributes carry their own distribution),
    through the same validation, ownership, idempotence and visibility as a bundle. ``items`` may be a generator:
    objects are prepared and written in batches, so memory holds one batch per audience, not the whole import.
    Failure positions count the items from 0. The caller checks sharing-group membership of each audience.
    An item's :class:`~herdsec.intel.prepare.Built` (None for anything not built by the hub itself from checked
    parts) says what its builder already knows: such an object skips the per-object STIX and ownership checks."""
    run = _items_run(session, actor, tlp)
    preparer = Preparer(_context(run))
    prepared = ((audience, preparer(index, obj, built)) for index, (obj, audience, built) in enumerate(items))
    return _store_items(run, prepared, source, BATCH)


def items_context(session: Session, actor: Principal, *, tlp: str | None = None) -> Context:
    """What a second process needs to prepare items exactly as :func:`ingest_items` would for ``actor``
    (then stored with :func:`ingest_prepared`)."""
    return _context(_items_run(session, actor, tlp))


def ingest_prepared(
    session: Session,
    actor: Principal,
    items: Iterable[tuple[Audience, Prepared | Refused] | None],
    *,
    tlp: str | None = None,
    source: str = "items",
    batch: int = BATCH,
    prepared_with: Context | None = None,
) -> IngestStatus:
    """Store items a second process prepared with :func:`items_context` (each with its audience), as
    :func:`ingest_items` stores them; up to ``batch`` objects of an audience are written at a time, and a None among
    the items writes what is pending at once (so that the writing overlaps the preparing). ``prepared_with``: the
    context the items were prepared with; when its ``match_lists`` is False, their values are checked against the
    warninglists here."""
    run = _items_run(session, actor, tlp)
    run.match_lists = prepared_with is not None and not prepared_with.match_lists
    return _store_items(run, items, source, batch)


def _items_run(session: Session, actor: Principal, tlp: str | None) -> _Run:
    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("sharing needs the analyst or admin role in a member organization"))
    run = _Run(session, actor, Audience.parse(actor, tlp, None))
    run.statements = _known_statements(session, actor.org_id)
    return run


def _store_items(
    run: _Run, items: Iterable[tuple[Audience, Prepared | Refused] | None], source: str, batch: int
) -> IngestStatus:
    """Write the items in batches of ``batch`` per audience; a None among them means "write what is pending now"
    (the reader of a second process says so when it has nothing waiting: the writing then overlaps the preparing)."""
    default = run.audience
    pending: dict[Audience, list[Prepared]] = {}
    total = 0  # counted here: IngestStatus is a pydantic model, each attribute assignment validates
    with fewer_collections():
        for entry in items:
            if entry is None:
                for audience, group in pending.items():
                    run.audience, run.pending = audience, group
                    _flush(run)
                pending.clear()
                continue
            audience, item = entry
            total += 1
            if type(item) is Refused:
                run.fail(item.position, {"id": item.id}, item.reason)
                continue
            group = pending.setdefault(audience, [])
            group.append(item)  # type: ignore[arg-type]
            if len(group) >= batch:
                run.audience, run.pending = audience, pending.pop(audience)
                _flush(run)
        for audience, group in pending.items():
            run.audience, run.pending = audience, group
            _flush(run)
    run.status.total_count += total
    run.audience = default
    _resolve_markings(run)
    return _finish(run, source, default.tlp, "per object")


def ingest_objects(session: Session, actor: Principal, objects: list[dict[str, Any]], **options: Any) -> IngestStatus:
    """Store objects already in memory (freetext and single-indicator forms, the CLI's plain lists)."""
    body = orjson.dumps({"type": "bundle", "id": "bundle--00000000-0000-4000-8000-000000000000", "objects": objects})
    return ingest_bundle(session, actor, io.BytesIO(body), **options)


def ingest_new(session: Session, actor: Principal, objects: list[dict[str, Any]], **options: Any) -> IngestStatus:
    """Store the objects whose ids the actor's organization has not stored yet and count the others as already
    known: objects built with ids derived from (organization, type, value), so that sharing the same value again is
    a no-op (an id another organization holds goes to ingest, which refuses it and says so)."""
    ids = [o["id"] for o in objects]
    known: set[str] = set()
    for start in range(0, len(ids), 500):
        known.update(
            session.scalars(
                select(StixObject.stix_id).where(
                    StixObject.stix_id.in_(ids[start : start + 500]), StixObject.creator_org_id == actor.org_id
                )
            )
        )
    fresh = [o for o in objects if o["id"] not in known]
    status = ingest_objects(session, actor, fresh, **options)
    status.total_count += len(objects) - len(fresh)
    status.success_count += len(objects) - len(fresh)
    return status


# --- reading -----------------------------------------------------------------------------------------------------


def _seekable(stream: IO[bytes]) -> IO[bytes]:
    if stream.seekable():
        return stream
    buffered = io.BytesIO(stream.read())
    return buffered


def _check_header(stream: IO[bytes]) -> None:
    """The document must be a JSON object with ``"type": "bundle"``. Read with the prefix-free event parser (the
    prefixed one needs memory growing with the square of the nesting depth) and never building the objects."""
    start = stream.tell()
    kind: object = None
    spec: object = None
    depth = 0
    key: object = None
    try:
        for event, value in ijson.basic_parse(stream):
            if depth == 0 and event != "start_map":
                raise InvalidInput(N_("the document is not a STIX bundle (a JSON object was expected)"), where="$")
            if event in ("start_map", "start_array"):
                depth += 1
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif depth == 1 and event == "map_key":
                key = value
                if value == "objects" and kind is not None:
                    break  # never walk the objects when the type is already known
            elif depth == 1 and key == "type":
                kind = value
            elif depth == 1 and key == "spec_version":
                spec = value
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


def _known_statements(session: Session, org_id: int) -> set[str]:
    """Statement markings (e.g. copyright) this organization itself stored: they restrict nothing. Another
    organization's definitions are not trusted (they could declare someone else's marking harmless)."""
    rows = session.execute(
        select(StixObject.stix_id, StixObject.data).where(
            StixObject.type == "marking-definition", StixObject.creator_org_id == org_id
        )
    )
    return {sid for sid, data in rows if '"definition_type":"statement"' in data}


# --- writing -----------------------------------------------------------------------------------------------------


def _flush(run: _Run) -> None:
    if not run.pending:
        return
    rows, run.pending = run.pending, []
    session = run.session
    # Take the counter lock before reading what exists: concurrent ingests of the same ids are serialised, so
    # ownership and "current" are decided on committed data.
    counters.reserve(session, "stix_seq", 0)
    # Versions are compared as integer microseconds (what the reading process sends: cheap to pickle).
    known = existing_versions(session, sorted({r.stix_id for r in rows}))
    newest: dict[str, int] = {sid: max(v[1] for v in versions) for sid, versions in known.items()}
    accepted: list[Prepared] = []
    seen_versions: set[tuple[str, int]] = {(sid, v[1]) for sid, versions in known.items() for v in versions}
    for row in rows:
        versions = known.get(row.stix_id, ())
        if versions and any(owner != run.actor.org_id for _pk, _m, _c, owner in versions):
            run.fail(
                row.position,
                {"id": row.stix_id},
                "the object belongs to another organization; only its creator may publish new versions or revoke it",
            )
            continue
        if (row.stix_id, row.modified_us) in seen_versions:
            continue  # already stored: idempotent
        seen_versions.add((row.stix_id, row.modified_us))
        accepted.append(row)
        if row.modified_us > newest.get(row.stix_id, -1):
            newest[row.stix_id] = row.modified_us
    if not accepted:
        return
    top = counters.reserve(session, "stix_seq", len(accepted))
    now_us = int(utcnow().timestamp() * 1_000_000)
    last_us = counters.reserve(session, "stix_added_us", 0)
    base_us = max(now_us, last_us + 1)
    counters.advance_to(session, "stix_added_us", base_us + len(accepted) - 1)
    first_seq = top - len(accepted) + 1
    audience = run.audience
    org_id, distribution, group_id = run.actor.org_id, audience.distribution.value, audience.sharing_group_id
    dialect = session.get_bind().dialect.name
    # The counter lock serialises writers, so the sequence number is also a safe primary key: no RETURNING.
    pks = range(first_seq, top + 1)
    added = added_times(dialect, base_us, len(accepted))
    group = () if group_id is None else (group_id,)  # a NULL column is left out
    objects = [
        (
            pk,
            pk,
            row.stix_id,
            row.obj_type,
            "2.1",
            row.created_db,
            row.modified_db,
            when,
            1 if row.modified_us == newest[row.stix_id] else 0,
            1 if row.revoked else 0,
            org_id,
            row.tlp,
            distribution,
            *group,
            row.name,
            row.data,
        )
        for pk, when, row in zip(pks, added, accepted, strict=True)
    ]
    insert_rows(session, "stix_objects", OBJECT_COLUMNS if group else GROUPLESS_COLUMNS, objects)
    events.append(session, "objects", org_id=run.actor.org_id, first_seq=first_seq, last_seq=top, count=len(accepted))
    replaced = {
        pk: sid
        for sid, versions in known.items()
        for pk, modified, current, _owner in versions
        if current and modified != newest[sid]
    }
    superseded = list(replaced)
    for start in range(0, len(superseded), 500):
        session.execute(
            update(StixObject).where(StixObject.id.in_(superseded[start : start + 500])).values(current=False)
        )
    # An object's values keep their order (their ids): those of an object with a value that has a problem or is on
    # a warninglist are written together with all six columns, the others (most) with four.
    plain: list[tuple[int, str, str, str]] = []
    marked: list[tuple[int, str, str, str, str | None, str | None]] = []
    flagged_values = 0
    match = shipped().match_text if run.match_lists else None
    for pk, row in zip(pks, accepted, strict=True):
        start = len(plain)
        found: list[tuple[int, str, str, str, str | None, str | None]] | None = None
        for value_type, value, key, problem, flagged in row.values:
            if match is not None and (hits := match(IOC_TYPES[value_type], value)):
                flagged = listed_in(hits)
            if found is None and (flagged or problem):  # this object's values all go with six columns
                found = [(*earlier, None, None) for earlier in plain[start:]]
                del plain[start:]
            if found is None:
                plain.append((pk, value_type, key, value))
            else:
                found.append((pk, value_type, key, value, problem, flagged))
                if flagged or problem:
                    flagged_values += 1
        if found is not None:
            marked.extend(found)
    run.status.flagged_values += flagged_values
    for pk, row in zip(pks, accepted, strict=True):
        if row.unresolved:
            run.unresolved.append((pk, row.unresolved))
        if row.obj_type == "marking-definition" and '"definition_type":"statement"' in row.data:
            run.defined.add(row.stix_id)
    insert_rows(session, "observables", PLAIN_OBSERVABLE_COLUMNS, plain)
    insert_rows(session, "observables", OBSERVABLE_COLUMNS, marked)
    _record_stix_sightings(run, [row for row in accepted if row.obj_type == "sighting"])
    _drop_superseded_tags(run, replaced, accepted, newest)
    _record_tags(run, [row for row in accepted if row.modified_us == newest[row.stix_id]])
    run.status.stored_count += len(accepted)


def _resolve_markings(run: _Run) -> None:
    """Objects whose marking was unknown when read may reference a statement marking this same submission stored
    later in the bundle (a streamed bundle is read once): their TLP is computed again now, in the same transaction.
    Only definitions actually stored for the sharer count; any other unknown marking still fails closed."""
    if not run.unresolved or not run.defined:
        return
    known = run.statements | run.defined
    resolved: dict[int, list[int]] = {}
    for pk, markings in run.unresolved:
        level = effective_tlp(markings, known_other=known, default=run.audience.tlp)
        if level is not Tlp.UNKNOWN:
            resolved.setdefault(int(level), []).append(pk)
    for tlp, pks in resolved.items():
        for start in range(0, len(pks), 500):
            run.session.execute(update(StixObject).where(StixObject.id.in_(pks[start : start + 500])).values(tlp=tlp))


def _us(moment: datetime) -> int:
    return (moment - EPOCH) // timedelta(microseconds=1)


def existing_versions(session: Session, ids: list[str]) -> dict[str, list[tuple[int, int, bool, int]]]:
    """Stored versions of these STIX ids: (primary key, modified in microseconds, current, creator organization).

    One driver-level query per batch (the id list is one parameter: an array on PostgreSQL, a JSON array read by
    ``json_each`` on SQLite), both served by the unique (stix_id, modified) index."""
    found: dict[str, list[tuple[int, int, bool, int]]] = {}
    if not ids:
        return found
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "postgresql":
            cursor.execute(VERSIONS_SQL["postgresql"], (ids,))
        else:
            cursor.execute(VERSIONS_SQL["sqlite"], (orjson.dumps(ids).decode(),))
        for pk, sid, modified, current, owner in cursor.fetchall():
            if isinstance(modified, str):  # SQLite: naive UTC text
                modified = datetime.fromisoformat(modified)
            if modified.tzinfo is None:
                modified = modified.replace(tzinfo=UTC)
            found.setdefault(sid, []).append((pk, _us(modified), bool(current), owner))
    finally:
        cursor.close()
    return found


def added_times(dialect: str, base_us: int, count: int) -> list[Any]:
    """``date_added`` of ``count`` new rows, one microsecond apart from ``base_us``, in the form bulk inserts write
    (SQLite's naive UTC text, PostgreSQL's ISO text with offset); the text of each second is built once."""
    out: list[Any] = []
    prefix_second, prefix = -1, ""
    suffix = "" if dialect == "sqlite" else "+00:00"
    for us in range(base_us, base_us + count):
        second, micro = divmod(us, 1_000_000)
        if second != prefix_second:
            moment = EPOCH + timedelta(seconds=second)
            prefix_second, prefix = second, moment.strftime("%Y-%m-%d %H:%M:%S.")
        out.append(f"{prefix}{micro:06d}{suffix}")
    return out


def _drop_superseded_tags(
    run: _Run, replaced: dict[int, str], accepted: list[Prepared], newest: dict[str, int]
) -> None:
    """Search reflects current versions: the labels and techniques a superseded version carried and the new
    current one does not are removed (a technique stays while a current relationship of the sharer still links
    the object to it)."""
    if not replaced:
        return
    session = run.session
    new_tags = {row.stix_id: set(row.tags) for row in accepted if row.modified_us == newest[row.stix_id]}
    stale: set[tuple[str, str, str]] = set()
    for pk, data in session.execute(select(StixObject.id, StixObject.data).where(StixObject.id.in_(list(replaced)))):
        sid = replaced[pk]
        stale.update((sid, kind, value) for kind, value in set(tags_of(orjson.loads(data))) - new_tags.get(sid, set()))
    for sid, kind, value in sorted(stale):
        if kind == "technique" and _linked_by_relationship(run, sid, value):
            continue
        session.execute(
            delete(ObjectTag).where(ObjectTag.stix_id == sid, ObjectTag.kind == kind, ObjectTag.value == value)
        )


def _linked_by_relationship(run: _Run, source: str, technique: str) -> bool:
    """Whether a current relationship of the sharer links ``source`` to an attack pattern tagged ``technique``."""
    targets = {
        orjson.loads(data).get("target_ref")
        for (data,) in run.session.execute(
            select(StixObject.data).where(
                StixObject.type == "relationship",
                StixObject.current.is_(True),
                StixObject.creator_org_id == run.actor.org_id,
                StixObject.data.contains(f'"source_ref":"{source}"'),
            )
        )
    }
    patterns = sorted(t for t in targets if isinstance(t, str) and t.startswith("attack-pattern--"))
    if not patterns:
        return False
    found = run.session.scalar(
        select(ObjectTag.id).where(
            ObjectTag.stix_id.in_(patterns), ObjectTag.kind == "technique", ObjectTag.value == technique
        )
    )
    return found is not None


def _record_tags(run: _Run, rows: list[Prepared]) -> None:
    """Labels and techniques for search, from the objects that are current after this batch (an older version
    arriving late adds nothing). A relationship to an ATT&CK technique tags its source object only when
    the sharer owns that object (its own statement) and the technique is public reference data or its own."""
    tags = {(row.stix_id, kind, value) for row in rows for kind, value in row.tags}
    links = [row.technique_link for row in rows if row.technique_link is not None]
    if links:
        session, org_id = run.session, run.actor.org_id
        trusted = {org_id} | reference_org_ids(session)
        targets = sorted({target for _source, target in links})
        known = dict(
            session.execute(
                select(ObjectTag.stix_id, ObjectTag.value)
                .join(StixObject, StixObject.stix_id == ObjectTag.stix_id)
                .where(
                    ObjectTag.kind == "technique",
                    ObjectTag.stix_id.in_(targets),
                    StixObject.current.is_(True),
                    StixObject.creator_org_id.in_(sorted(trusted)),
                )
            ).all()
        )
        own = {row.stix_id: value for row in rows for kind, value in row.tags if kind == "technique"}
        sources = sorted({source for source, _target in links})
        owned = {row.stix_id for row in rows} | set(
            session.scalars(
                select(StixObject.stix_id).where(
                    StixObject.stix_id.in_(sources), StixObject.creator_org_id == org_id, StixObject.current.is_(True)
                )
            )
        )
        for source, target in links:
            technique = known.get(target) or own.get(target)
            if technique and source in owned:
                tags.add((source, "technique", technique))
    if tags:
        _insert_tags(run.session, sorted(tags))


def _insert_tags(session: Session, tags: list[tuple[str, str, str]]) -> None:
    """Add (stix id, kind, value) rows to ``object_tags``, those already there left alone; at driver level, one
    statement (PostgreSQL: the three columns as arrays) or one ``executemany`` (SQLite)."""
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        if connection.dialect.name == "postgresql":
            cursor.execute(
                "INSERT INTO object_tags (stix_id, kind, value)"
                " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[]) ON CONFLICT DO NOTHING",
                tuple(list(column) for column in zip(*tags, strict=True)),
            )
        else:
            cursor.executemany(
                "INSERT INTO object_tags (stix_id, kind, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", tags
            )
    finally:
        cursor.close()


def _record_stix_sightings(run: _Run, rows: list[Prepared]) -> None:
    """STIX sighting objects also count in the sightings table (who saw what, when)."""
    if not rows:
        return
    now = utcnow()
    found = [sightings.from_stix(orjson.loads(row.data), run.actor.org_id, now) for row in rows]
    targets = {f["stix_id"] for f in found}
    # Only sightings of objects the sharer may see count: no probing or touching what one cannot see.
    current = dict(
        run.session.execute(
            select(StixObject.stix_id, StixObject.id).where(
                StixObject.stix_id.in_(sorted(targets)),
                StixObject.current.is_(True),
                visible_objects(identity.viewer_for(run.actor)),
            )
        ).all()
    )
    found = [item for item in found if item["stix_id"] in current]
    for item in found:
        item["object_id"] = current[item["stix_id"]]
    if found:
        run.session.execute(insert(Sighting), found)
