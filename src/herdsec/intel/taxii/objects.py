"""Reads and deletes over a TAXII collection: objects, manifest, one object, its versions.

Every query goes through :func:`herdsec.intel.access.visible_objects` for the bulk viewer of the caller (TAXII
collection reads are bulk reads: RED and unknown markings never leave the hub this way), then narrows to the
collection's audience. Pages are keyset pages on ``seq`` (the primary key, strictly increasing in commit order):
no OFFSET, and a ``next`` is a signed position, so the server keeps no paging state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, false, or_, select, true, update
from sqlalchemy.orm import Session, aliased

from herdsec import identity
from herdsec.core.errors import N_, NotFound, PermissionDenied
from herdsec.identity import Principal, Role
from herdsec.identity.visibility import SharedColumns, visible_filter
from herdsec.intel.access import visible_objects
from herdsec.intel.models import ObjectTag, StixObject
from herdsec.intel.stix import format_timestamp
from herdsec.intel.taxii.collections import Collection
from herdsec.intel.taxii.logic import STIX_MEDIA, Query, read_cursor, sign_cursor

OBJECT_PARAMS = frozenset(
    {"added_after", "limit", "next", "match[id]", "match[type]", "match[version]", "match[spec_version]"}
)
ONE_OBJECT_PARAMS = frozenset({"added_after", "limit", "next", "match[version]", "match[spec_version]"})
VERSIONS_PARAMS = frozenset({"added_after", "limit", "next", "match[spec_version]"})
DELETE_PARAMS = frozenset({"match[version]", "match[spec_version]"})


@dataclass(frozen=True, slots=True)
class Page:
    """One page of rows: ``rows`` are (seq, stix_id, modified, date_added, data), or (seq, data) for object pages
    (timestamps are then read for the first and last row only: converting 2,000 of them per page cost a third of
    the page's time)."""

    rows: list[Any]
    more: bool
    next: str | None
    first_added: str | None = None
    last_added: str | None = None

    def envelope_json(self) -> str:
        """The TAXII envelope, assembled from the stored canonical JSON (never parsed and re-serialised)."""
        head = '{"more":true,"next":"' + self.next + '",' if self.more and self.next else '{"more":false,'
        return head + '"objects":[' + ",".join(r.data for r in self.rows) + "]}"

    def manifest(self) -> dict[str, Any]:
        body: dict[str, Any] = {"more": self.more}
        if self.more and self.next:
            body["next"] = self.next
        body["objects"] = [
            {
                "id": r.stix_id,
                "date_added": format_timestamp(r.date_added),
                "version": format_timestamp(r.modified),
                "media_type": STIX_MEDIA,
            }
            for r in self.rows
        ]
        return body

    def versions(self) -> dict[str, Any]:
        body: dict[str, Any] = {"more": self.more}
        if self.more and self.next:
            body["next"] = self.next
        body["versions"] = [format_timestamp(r.modified) for r in self.rows]
        return body


def _version_filter(actor: Principal, query: Query) -> ColumnElement[bool]:
    """``last`` and ``first`` among the versions the reader may see: a newer (or older) version it may not see
    neither hides the one it may see nor shows that it exists."""
    other = aliased(StixObject)
    seen = visible_filter(
        identity.viewer_for(actor, bulk=True),
        SharedColumns(other.creator_org_id, other.tlp, other.distribution, other.sharing_group_id),
    )
    parts: list[ColumnElement[bool]] = []
    for version in query.versions:
        if version == "all":
            return true()
        if version == "last":
            newer = exists().where(other.stix_id == StixObject.stix_id, other.modified > StixObject.modified, seen)
            parts.append(or_(StixObject.current.is_(True), ~newer))
        elif version == "first":
            parts.append(
                ~exists().where(other.stix_id == StixObject.stix_id, other.modified < StixObject.modified, seen)
            )
    times = query.version_times
    if times:
        parts.append(StixObject.modified.in_(times))
    return or_(*parts) if parts else false()


def first_seq_added_after(session: Session, moment: datetime) -> int | None:
    """The smallest seq whose ``date_added`` is after ``moment`` (None: none is). ``date_added`` grows with seq, so
    this is a binary search over the primary key (a few point reads), not a scan of an unindexed column."""
    lo = session.scalar(select(StixObject.id).order_by(StixObject.id).limit(1))
    hi = session.scalar(select(StixObject.id).order_by(StixObject.id.desc()).limit(1))
    if lo is None or hi is None:
        return None
    newest = session.scalar(select(StixObject.date_added).where(StixObject.id == hi))
    if newest is None or newest <= moment:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        row = session.execute(
            select(StixObject.id, StixObject.date_added).where(StixObject.id >= mid).order_by(StixObject.id).limit(1)
        ).one()
        if row.date_added > moment:
            hi = row.id
        else:
            lo = row.id + 1
    return lo


def _base(actor: Principal, collection: Collection, *columns: Any) -> Select[Any]:
    chosen = columns or (
        StixObject.seq,
        StixObject.stix_id,
        StixObject.modified,
        StixObject.date_added,
        StixObject.data,
    )
    return select(*chosen).where(visible_objects(identity.viewer_for(actor, bulk=True)), collection.where)


def _page(
    session: Session, statement: Select[Any], query: Query, cursor: str | None, *, secret: str, scope: str
) -> Page:
    digest = query.digest(scope)
    start = read_cursor(secret, cursor, digest) if cursor is not None else None
    if query.added_after is not None:
        bound = first_seq_added_after(session, query.added_after)
        if bound is None:
            return Page([], False, None)
        statement = statement.where(StixObject.id >= bound)
    if start is not None:
        statement = statement.where(StixObject.id > start)
    rows = list(session.execute(statement.order_by(StixObject.id).limit(query.limit + 1)))
    page, more = rows[: query.limit], len(rows) > query.limit
    token = sign_cursor(secret, page[-1].seq, digest) if more else None
    if not page:
        return Page(page, more, token)
    ends = dict(
        session.execute(
            select(StixObject.id, StixObject.date_added).where(StixObject.id.in_(sorted({page[0].seq, page[-1].seq})))
        ).all()
    )
    first, last = format_timestamp(ends[page[0].seq]), format_timestamp(ends[page[-1].seq])
    return Page(page, more, token, first, last)


def _filtered(actor: Principal, collection: Collection, query: Query, *columns: Any) -> Select[Any]:
    statement = _base(actor, collection, *columns).where(_version_filter(actor, query))
    if query.ids:
        statement = statement.where(StixObject.stix_id.in_(query.ids))
    if query.types:
        statement = statement.where(StixObject.type.in_(query.types))
    if query.spec_versions:
        statement = statement.where(StixObject.spec_version.in_(query.spec_versions))
    return statement


def get_objects(
    session: Session,
    actor: Principal,
    collection: Collection,
    query: Query,
    cursor: str | None,
    *,
    secret: str,
    manifest: bool = False,
) -> Page:
    """A page of the collection's objects, or of its manifest (the same rows, other columns)."""
    columns = () if manifest else (StixObject.seq, StixObject.data)
    statement = _filtered(actor, collection, query, *columns)
    return _page(session, statement, query, cursor, secret=secret, scope=collection.id)


def get_object(
    session: Session,
    actor: Principal,
    collection: Collection,
    stix_id: str,
    query: Query,
    cursor: str | None,
    *,
    secret: str,
) -> Page:
    """A page of the versions of one object that the filters select; not found when none is visible at all."""
    return _one_object(
        session, actor, collection, stix_id, query, cursor, secret=secret, versions=query.versions, suffix=""
    )


def get_versions(
    session: Session,
    actor: Principal,
    collection: Collection,
    stix_id: str,
    query: Query,
    cursor: str | None,
    *,
    secret: str,
) -> Page:
    """A page of every visible version of one object (its ``modified`` times); not found when none is visible."""
    return _one_object(
        session, actor, collection, stix_id, query, cursor, secret=secret, versions=("all",), suffix="/versions"
    )


def _one_object(
    session: Session,
    actor: Principal,
    collection: Collection,
    stix_id: str,
    query: Query,
    cursor: str | None,
    *,
    secret: str,
    versions: tuple[str, ...],
    suffix: str,
) -> Page:
    one = Query(
        added_after=query.added_after,
        ids=(stix_id,),
        versions=versions,
        spec_versions=query.spec_versions,
        limit=query.limit,
    )
    scope = f"{collection.id}/{stix_id}{suffix}"
    page = _page(session, _filtered(actor, collection, one), one, cursor, secret=secret, scope=scope)
    if not page.rows and cursor is None:
        _must_exist(session, actor, collection, stix_id)
    return page


def _must_exist(session: Session, actor: Principal, collection: Collection, stix_id: str) -> None:
    """Not found unless some version is visible in the collection (filters may still select none of them)."""
    visible = session.scalar(_base(actor, collection).where(StixObject.stix_id == stix_id).limit(1))
    if visible is None:
        raise NotFound(N_("no object %(id)s in this collection"), where="id", id=stix_id[:120])


def delete_object(session: Session, actor: Principal, collection: Collection, stix_id: str, query: Query) -> int:
    """Delete the selected versions of an object the caller's organization created (default: every version).

    Objects the caller cannot see in the collection are not found; visible objects of other organizations are
    forbidden (their existence is no secret to the caller)."""
    if not collection.can_write or not actor.has_role(Role.ANALYST):
        raise PermissionDenied(N_("this collection is read-only for you"))
    selected = Query(ids=(stix_id,), versions=query.versions, spec_versions=query.spec_versions)
    rows = list(session.execute(_filtered(actor, collection, selected)))
    if not rows:
        raise NotFound(N_("no object %(id)s in this collection"), where="id", id=stix_id[:120])
    owners = set(
        session.scalars(select(StixObject.creator_org_id).where(StixObject.id.in_([r.seq for r in rows])).distinct())
    )
    if owners != {actor.org_id}:
        raise PermissionDenied(N_("only the organization that shared an object may delete it"))
    session.execute(delete(StixObject).where(StixObject.id.in_([r.seq for r in rows])))
    _repair_current(session, stix_id)
    identity.audit_record(
        session,
        actor,
        "intel.taxii.delete",
        "stix_object",
        stix_id,
        target_org_id=actor.org_id,
        versions=len(rows),
        collection=collection.id,
    )
    return len(rows)


def _repair_current(session: Session, stix_id: str) -> None:
    """After deleting versions, the newest remaining one is current; with none left, its tags go too."""
    newest = session.scalar(
        select(StixObject.id).where(StixObject.stix_id == stix_id).order_by(StixObject.modified.desc()).limit(1)
    )
    if newest is None:
        session.execute(delete(ObjectTag).where(ObjectTag.stix_id == stix_id))
        return
    session.execute(update(StixObject).where(StixObject.stix_id == stix_id).values(current=False))
    session.execute(update(StixObject).where(StixObject.id == newest).values(current=True))
