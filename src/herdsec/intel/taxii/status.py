"""Adding objects to a collection (through the one ingest path) and the status resources that report on it."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from typing import IO, Any

import ijson  # type: ignore[import-untyped]
import orjson
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, InvalidInput, NotFound, PermissionDenied
from herdsec.identity import Principal
from herdsec.intel.ingest import ingest_bundle
from herdsec.intel.stix import format_timestamp
from herdsec.intel.taxii.collections import Collection
from herdsec.intel.taxii.models import TaxiiStatus

MAX_LISTED = 10_000  # successes and failures listed per status resource (the counts are always complete)
_BUNDLE_HEAD = b'{"type":"bundle","id":"bundle--00000000-0000-4000-8000-000000000000",'


def _as_bundle(envelope: IO[bytes]) -> IO[bytes]:
    """The envelope read as a bundle by the streaming ingest: its members follow a bundle's type and id (never
    loaded whole: the body is copied once into a temporary file)."""
    head = envelope.read(64 * 1024)
    stripped = head.lstrip()
    if not stripped.startswith(b"{"):
        raise InvalidInput(N_("the body is not a TAXII envelope (a JSON object was expected)"), where="$")
    rest = stripped[1:]
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115 - returned
    out.write(_BUNDLE_HEAD[:-1] if rest.lstrip().startswith(b"}") else _BUNDLE_HEAD)
    out.write(rest)
    shutil.copyfileobj(envelope, out)
    out.seek(0)
    return out


def _versions(stream: IO[bytes]) -> list[tuple[str | None, str | None]]:
    """(id, version) of every object in the bundle, in order (what the status resource lists)."""
    found: list[tuple[str | None, str | None]] = []
    try:
        for obj in ijson.items(stream, "objects.item", use_float=True):
            if isinstance(obj, dict):
                oid, modified = obj.get("id"), obj.get("modified") or obj.get("created")
                found.append((oid if isinstance(oid, str) else None, modified if isinstance(modified, str) else None))
            else:
                found.append((None, None))
    except ijson.JSONError:
        pass  # the ingest reports the syntax error with its line and column
    stream.seek(0)
    return found


def add_objects(session: Session, actor: Principal, collection: Collection, envelope: IO[bytes]) -> dict[str, Any]:
    """Store an envelope's objects in the collection's audience; returns the status resource (stored too)."""
    if not collection.can_write or collection.distribution is None:
        raise PermissionDenied(N_("this collection is read-only for you"))
    started = utcnow()
    with _as_bundle(envelope) as bundle:
        versions = _versions(bundle)
        result = ingest_bundle(
            session, actor, bundle, distribution=collection.distribution, source="taxii", parallel=False
        )
    failed = {f.index: f.reason for f in result.failures}
    successes: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for index, (oid, version) in enumerate(versions):
        detail: dict[str, Any] = {"id": oid or "", "version": version or ""}
        if index in failed:
            if len(failures) < MAX_LISTED:
                failures.append({**detail, "message": failed[index]})
        elif len(successes) < MAX_LISTED:
            successes.append(detail)
    row = TaxiiStatus(
        id=str(uuid.uuid4()),
        org_id=actor.org_id,
        collection_id=collection.id,
        status="complete",
        request_timestamp=started,
        total_count=result.total_count,
        success_count=result.success_count,
        failure_count=result.failure_count,
        pending_count=0,
        details=orjson.dumps({"successes": successes, "failures": failures, "pendings": []}).decode(),
    )
    session.add(row)
    session.flush()
    return _resource(row)


def get_status(session: Session, actor: Principal, status_id: str) -> dict[str, Any]:
    """A status resource of the caller's own organization (any other is not found)."""
    row = session.get(TaxiiStatus, status_id[:36])
    if row is None or row.org_id != actor.org_id:
        raise NotFound(N_("no status %(id)s"), where="status", id=status_id[:60])
    return _resource(row)


def _resource(row: TaxiiStatus) -> dict[str, Any]:
    details = orjson.loads(row.details)
    return {
        "id": row.id,
        "status": row.status,
        "request_timestamp": format_timestamp(row.request_timestamp),
        "total_count": row.total_count,
        "success_count": row.success_count,
        "successes": details["successes"],
        "failure_count": row.failure_count,
        "failures": details["failures"],
        "pending_count": row.pending_count,
        "pendings": details["pendings"],
    }
