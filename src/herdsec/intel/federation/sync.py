"""Running federation: pull pages from a peer into the store, push what may leave, record each run.

* **Pull** (TAXII): pages of ``added_after`` = the cursor, following ``next``. Each page is one unit of work (its
  own transaction): stored through :func:`herdsec.intel.service.ingest_objects` as the peer's hub organization
  (markings kept, unmarked objects AMBER, unknown markings fail closed, distribution ``community``: what a peer
  sends stops here), its source recorded, the cursor advanced. A page that is not a TAXII envelope, or that the
  ingest refuses as a whole, stores nothing; the run fails and the peer is retried later (backoff).
  Objects that are already a local member's (our own pushes coming back) are skipped, not re-owned.
* **Push** (TAXII): current objects after the push cursor, in ``seq`` order, that a federated peer may see
  (:func:`herdsec.intel.access.visible_objects` of :meth:`Viewer.peer`) **and** TLP CLEAR/GREEN **and**
  distribution connected/all, never pulled from this same peer (no echo), never reference data. Sent as TAXII
  envelopes; the cursor advances after the peer accepted each envelope (resumable).
* Dispatch by the peer's kind (:data:`PULLERS`): TAXII here; MISP feeds are wired to the MISP feed puller.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import orjson
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import as_utc, utcnow
from herdsec.core.db import Database
from herdsec.core.errors import N_, HerdsecError, InvalidInput
from herdsec.core.outbound import OutboundPolicy, fetch_bytes
from herdsec.core.settings import Settings
from herdsec.identity import Principal
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp, Viewer
from herdsec.intel import misp
from herdsec.intel import service as intel
from herdsec.intel.access import visible_objects
from herdsec.intel.federation.credentials import unseal
from herdsec.intel.federation.logic import (
    PULLED_DISTRIBUTION,
    PUSH_DISTRIBUTIONS,
    PUSH_TLPS,
    Direction,
    PeerKind,
    is_due,
    next_attempt,
)
from herdsec.intel.federation.models import FederationPeer, FederationRun, FederationSource
from herdsec.intel.federation.schemas import RunOut
from herdsec.intel.federation.service import check_operator, find_peer_row
from herdsec.intel.federation.taxii import Credentials, TaxiiClient
from herdsec.intel.models import StixObject
from herdsec.intel.reference import reference_org_ids

PAGE_SIZE = 500
MAX_PAGES = 200  # per run; the cursor resumes the rest next time
PUSH_BATCH = 200
MAX_PUSH_BATCHES = 100
CLAIM_SECONDS = 600


class FederationUnavailable(HerdsecError):
    """This build cannot run this kind of peer."""


@dataclass
class Tally:
    pulled: int = 0
    pushed: int = 0
    skipped: int = 0
    refused: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PeerContext:
    """What one run needs, read once from the peer row."""

    peer_id: int
    name: str
    kind: PeerKind
    url: str
    collection_id: str | None
    direction: Direction
    org_id: int
    credentials: Credentials
    policy: OutboundPolicy
    fetch: Callable[[str], bytes]

    def client(self) -> TaxiiClient:
        return TaxiiClient(self.url, self.collection_id or "", policy=self.policy, credentials=self.credentials)


def _context(peer: FederationPeer, settings: Settings, policy: OutboundPolicy) -> PeerContext:
    secret = unseal(settings.secret_key, peer.secret, peer.name) if peer.secret else None
    if peer.auth_kind == "api-key":
        credentials = Credentials(api_key=secret)
    elif peer.auth_kind == "basic":
        credentials = Credentials(username=peer.username, password=secret)
    else:
        credentials = Credentials()
    headers = credentials.headers()
    return PeerContext(
        peer.id, peer.name, PeerKind(peer.kind), peer.url, peer.collection_id, Direction(peer.direction),
        peer.org_id, credentials, policy, partial(fetch_bytes, policy=policy, headers=headers),
    )  # fmt: skip


# --- pull ---------------------------------------------------------------------------------------------------------


def _id(obj: dict[str, Any]) -> str | None:
    value = obj.get("id")
    return value if isinstance(value, str) else None


def _echoes(session: Session, org_id: int, objects: list[dict[str, Any]]) -> set[str]:
    """Ids among ``objects`` already owned here by an organization other than the peer's (our own, echoed)."""
    ids = sorted({i for o in objects if (i := _id(o)) is not None})
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        found.update(
            session.scalars(
                select(StixObject.stix_id).where(
                    StixObject.stix_id.in_(ids[start : start + 500]), StixObject.creator_org_id != org_id
                )
            )
        )
    return found


def _record_sources(session: Session, peer_id: int, stix_ids: set[str]) -> None:
    if not stix_ids:
        return
    known = set(
        session.scalars(
            select(FederationSource.stix_id).where(
                FederationSource.peer_id == peer_id, FederationSource.stix_id.in_(sorted(stix_ids))
            )
        )
    )
    now = utcnow()
    session.add_all(
        FederationSource(peer_id=peer_id, stix_id=sid, first_pulled_at=now) for sid in sorted(stix_ids - known)
    )


def store_page(
    session: Session, actor: Principal, ctx: PeerContext, objects: list[dict[str, Any]], tally: Tally
) -> None:
    """Store one pulled page as the peer's organization (the caller's transaction is the page's unit)."""
    echoes = _echoes(session, ctx.org_id, objects)
    fresh = [o for o in objects if _id(o) not in echoes]
    tally.skipped += len(objects) - len(fresh)
    if not fresh:
        return
    try:
        status = intel.ingest_objects(
            session, actor, fresh, distribution=PULLED_DISTRIBUTION.value, source=f"federation:{ctx.name}"
        )
    except InvalidInput as exc:
        raise InvalidInput(N_("the peer sent a page the hub cannot store: %(reason)s"), reason=exc.render()) from None
    except orjson.JSONEncodeError as exc:  # nested deeper than a STIX object may be
        raise InvalidInput(N_("the peer sent a page the hub cannot store: %(reason)s"), reason=str(exc)) from None
    refused = {f.id for f in status.failures}
    tally.refused += status.failure_count
    tally.pulled += status.stored_count
    _record_sources(session, ctx.peer_id, {i for o in fresh if (i := _id(o)) is not None and i not in refused})


def _pull_taxii(db: Database, actor: Principal, ctx: PeerContext, tally: Tally) -> None:
    client = ctx.client()
    client.collection()
    with db.transaction() as session:
        cursor = session.get_one(FederationPeer, ctx.peer_id).pull_cursor
    token: str | None = None
    for _page in range(MAX_PAGES):
        page = client.get_objects(added_after=cursor, next_token=token, limit=PAGE_SIZE)
        with db.transaction() as session:
            store_page(session, actor, ctx, page.objects, tally)
            peer = session.get_one(FederationPeer, ctx.peer_id)
            if page.added_last:
                peer.pull_cursor = page.added_last[:40]
        if not page.more or not page.next:
            return
        token = page.next
    tally.notes.append(f"stopped after {MAX_PAGES} pages; the next run continues")


def _misp_pull(
    session: Session, actor: Principal, base_url: str, fetch: Callable[[str], bytes], state: dict[str, Any]
) -> Any:
    """The MISP feed puller: manifest first, then the changed events (its own state lives in ``misp_feed_events``).
    What a feed brings stops here, like a TAXII pull (distribution ``community``)."""
    return misp.pull_feed(session, actor, base_url, fetch, distribution=PULLED_DISTRIBUTION.value)


def _pull_misp_feed(db: Database, actor: Principal, ctx: PeerContext, tally: Tally) -> None:
    with db.transaction() as session:
        peer = session.get_one(FederationPeer, ctx.peer_id)
        state: dict[str, Any] = json.loads(peer.state) if peer.state else {}
        result = _misp_pull(session, actor, ctx.url, ctx.fetch, state)
        peer.state = json.dumps(state)
        tally.pulled += int(getattr(result, "stored_count", 0) or 0)


PULLERS: dict[PeerKind, Callable[[Database, Principal, PeerContext, Tally], None]] = {
    PeerKind.TAXII: _pull_taxii,
    PeerKind.MISP_FEED: _pull_misp_feed,
}


# --- push ---------------------------------------------------------------------------------------------------------


def pushable(session: Session, ctx: PeerContext, after_seq: int, limit: int) -> list[tuple[int, int, str]]:
    """(seq, tlp, JSON) of the next objects that may be pushed to this peer, in seq order."""
    not_from_peer = ~exists(
        select(FederationSource.id).where(
            FederationSource.peer_id == ctx.peer_id, FederationSource.stix_id == StixObject.stix_id
        )
    )
    excluded_orgs = sorted({ctx.org_id} | reference_org_ids(session))
    query = (
        select(StixObject.seq, StixObject.tlp, StixObject.data)
        .where(
            StixObject.seq > after_seq,
            StixObject.current.is_(True),
            visible_objects(Viewer.peer()),
            StixObject.tlp.in_([int(t) for t in PUSH_TLPS]),
            StixObject.distribution.in_([d.value for d in PUSH_DISTRIBUTIONS]),
            StixObject.creator_org_id.not_in(excluded_orgs),
            not_from_peer,
        )
        .order_by(StixObject.seq)
        .limit(limit)
    )
    return [(seq, tlp, data) for seq, tlp, data in session.execute(query)]


def outgoing(tlp: int, data: str) -> dict[str, Any]:
    """The object as sent: its stored JSON, carrying its TLP marking explicitly (a default TLP becomes visible)."""
    obj: dict[str, Any] = orjson.loads(data)
    marking = TLP2_MARKINGS[Tlp(tlp)]
    if obj.get("type") != "marking-definition":
        refs = obj.get("object_marking_refs") or []
        if marking not in refs:
            obj["object_marking_refs"] = [*refs, marking]
    return obj


def _push_taxii(db: Database, ctx: PeerContext, tally: Tally) -> None:
    client = ctx.client()
    collection = client.collection()
    if collection.get("can_write") is False:
        raise FederationUnavailable(N_("the peer's collection does not accept objects (can_write is false)"))
    limit = client.max_content_length
    for _batch in range(MAX_PUSH_BATCHES):
        with db.transaction() as session:
            cursor = session.get_one(FederationPeer, ctx.peer_id).push_cursor
            rows = pushable(session, ctx, cursor, PUSH_BATCH)
        if not rows:
            return
        for chunk in _chunks([(seq, outgoing(tlp, data)) for seq, tlp, data in rows], limit):
            status = client.add_objects([obj for _seq, obj in chunk])
            tally.pushed += status.success_count
            if status.failure_count:
                tally.notes.append(f"the peer refused {status.failure_count} object(s)")
            if status.pending_count:
                tally.notes.append(f"{status.pending_count} object(s) still pending at the peer")
            with db.transaction() as session:
                session.get_one(FederationPeer, ctx.peer_id).push_cursor = chunk[-1][0]
    tally.notes.append("push stopped after the batch limit; the next run continues")


def _chunks(items: list[tuple[int, dict[str, Any]]], max_bytes: int | None) -> list[list[tuple[int, dict[str, Any]]]]:
    """Envelopes no larger than the peer's ``max_content_length``."""
    if max_bytes is None:
        return [items]
    chunks: list[list[tuple[int, dict[str, Any]]]] = [[]]
    size = 20
    for item in items:
        length = len(orjson.dumps(item[1])) + 1
        if chunks[-1] and size + length > max_bytes:
            chunks.append([])
            size = 20
        chunks[-1].append(item)
        size += length
    return chunks


# --- runs ---------------------------------------------------------------------------------------------------------


def run_peer(db: Database, actor: Principal, name: str, settings: Settings, *, trigger: str = "cli") -> RunOut:
    """Pull and/or push one peer now; the outcome is recorded on the peer and in its run log."""
    policy = OutboundPolicy.from_settings(settings)
    started = utcnow()
    ctx: PeerContext | None = None
    error: str | None = None
    with db.transaction() as session:
        check_operator(actor)
        peer = find_peer_row(session, name, lock=True)
        # Claim the peer: another `federation run` loop does not pick it up while this run goes on.
        peer.next_attempt_at = started + timedelta(seconds=max(peer.interval_seconds, CLAIM_SECONDS))
        run = FederationRun(peer_id=peer.id, trigger=trigger[:16], started_at=started)
        session.add(run)
        session.flush()
        run_id, peer_id = run.id, peer.id
        try:
            ctx = _context(peer, settings, policy)
        except HerdsecError as exc:
            error = exc.render()
    tally = Tally()
    if ctx is not None:
        error = _execute(db, ctx, tally)
    return _finish(db, run_id, peer_id, tally, error)


def _execute(db: Database, ctx: PeerContext, tally: Tally) -> str | None:
    try:
        with db.transaction() as session:
            peer_actor = identity.org_principal(session, ctx.org_id, f"federation:{ctx.name}")
        if ctx.direction.pulls:
            PULLERS[ctx.kind](db, peer_actor, ctx, tally)
        if ctx.direction.pushes:
            if ctx.kind is not PeerKind.TAXII:
                raise FederationUnavailable(N_("only TAXII peers can be pushed to"))
            _push_taxii(db, ctx, tally)
    except HerdsecError as exc:
        return exc.render()[:4000]
    except Exception as exc:  # a bug or an unexpected library error: recorded, the loop goes on
        return f"unexpected error: {type(exc).__name__}: {exc}"[:4000]
    return None


def _finish(db: Database, run_id: int, peer_id: int, tally: Tally, error: str | None) -> RunOut:
    now = utcnow()
    with db.transaction() as session:
        run = session.get_one(FederationRun, run_id)
        peer = session.get_one(FederationPeer, peer_id)
        run.finished_at = now
        run.pulled, run.pushed, run.skipped, run.refused = tally.pulled, tally.pushed, tally.skipped, tally.refused
        run.error = error
        run.note = "; ".join(tally.notes)[:4000] or None
        peer.last_run_at = now
        if error is None:
            peer.failures, peer.last_error, peer.last_success_at = 0, None, now
        else:
            peer.failures += 1
            peer.last_error = error
        peer.next_attempt_at = next_attempt(now, peer.interval_seconds, peer.failures)
        session.flush()
        out = RunOut.model_validate(run)
        out.peer_name = peer.name
        return out


def due_peer_names(session: Session, now: datetime | None = None) -> list[str]:
    moment = now or utcnow()
    peers = session.scalars(select(FederationPeer).where(FederationPeer.enabled.is_(True)).order_by(FederationPeer.id))
    return [p.name for p in peers if is_due(p.next_attempt_at, moment)]


def run_due(
    db: Database, actor: Principal, settings: Settings, names: list[str] | None = None, *, trigger: str = "schedule"
) -> list[RunOut]:
    """Run the peers that are due (or the named ones, due or not)."""
    with db.transaction() as session:
        check_operator(actor)
        chosen = names if names else due_peer_names(session)
    return [run_peer(db, actor, name, settings, trigger=trigger) for name in chosen]


def seconds_until_due(db: Database, now: datetime | None = None) -> float | None:
    """Seconds until the next enabled peer is due (0 when one is due now), None without peers."""
    moment = now or utcnow()
    with db.transaction() as session:
        pending = session.scalar(
            select(func.count()).select_from(FederationPeer).where(FederationPeer.enabled.is_(True))
        )
        if not pending:
            return None
        soonest = session.scalar(
            select(func.min(FederationPeer.next_attempt_at)).where(FederationPeer.enabled.is_(True))
        )
        unscheduled = session.scalar(
            select(func.count())
            .select_from(FederationPeer)
            .where(FederationPeer.enabled.is_(True), FederationPeer.next_attempt_at.is_(None))
        )
    if unscheduled or soonest is None:
        return 0.0
    return max(0.0, (as_utc(soonest) - moment).total_seconds())


def sleep(seconds: float) -> None:
    time.sleep(seconds)
