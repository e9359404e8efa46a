"""Federation against ``taxii2-client`` (the reference TAXII 2.1 client) on the same real medallion server.

* fetch every page of a collection of N indicators: ``taxii2client`` (``as_pages``) vs HerdSec's client (through
  the SSRF-safe fetcher: resolution, checks and a pinned connection per request);
* a full pull into a fresh SQLite hub (fetch + ingest + sources + cursor, per-page transactions), and the hub side
  alone (storing the fetched pages), since medallion's own time dominates the fetch;
* a push of M local objects (selection through the visibility filter + envelopes) vs ``taxii2client``
  ``add_objects`` with the same envelopes, each into an empty medallion collection.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from taxii2client.v21 import Collection, as_pages
from tests.factories import OPERATOR, make_member
from tests.federation.medallion_peer import Medallion, running_medallion
from tests.intel_factories import indicator

from herdsec import identity
from herdsec.core.db import Database, make_engine
from herdsec.core.outbound import OutboundPolicy
from herdsec.core.settings import load_settings
from herdsec.intel import federation, service
from herdsec.intel.federation.models import FederationPeer
from herdsec.intel.federation.sync import Tally, _context, store_page
from herdsec.intel.federation.taxii import Credentials, TaxiiClient
from herdsec.migrations import upgrade

PAGE = 1000


def _collection(peer: Medallion) -> Collection:
    return Collection(f"{peer.api_root}collections/{peer.collection}/", user=peer.user, password=peer.password)


def _reference_fetch(peer: Medallion) -> int:
    return sum(len(e.get("objects", [])) for e in as_pages(_collection(peer).get_objects, per_request=PAGE))


def _herdsec_fetch(peer: Medallion, into: list[dict[str, object]] | None = None) -> int:
    client = TaxiiClient(
        peer.url,
        peer.collection,
        policy=OutboundPolicy.parse("loopback", timeout=600.0),
        credentials=Credentials(username=peer.user, password=peer.password),
    )
    total, token = 0, None
    while True:
        page = client.get_objects(added_after=None, next_token=token, limit=PAGE)
        total += len(page.objects)
        if into is not None:
            into.extend(page.objects)
        if not page.more or not page.next:
            return total
        token = page.next


def _timed(label: str, fn: object) -> float:
    start = time.perf_counter()
    result = fn()  # type: ignore[operator]
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s ({result})", flush=True)
    return elapsed


def _hub(workdir: Path) -> Database:
    engine = make_engine(f"sqlite:///{workdir / 'hub.db'}")
    upgrade(engine)
    return Database(engine)


def run(quick: bool = False) -> None:
    # medallion's memory backend filters in quadratic time: a few thousand objects already take a minute.
    n = 300 if quick else 1000
    m = 500 if quick else 5000
    settings = load_settings(mode="dev", outbound_allow="loopback", outbound_timeout=600)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        objects = [indicator(value=f"198.51.{i // 250}.{i % 250 + 1}") for i in range(n)]
        with running_medallion(work, objects, page_size=PAGE) as peer:
            print(f"pull {n} indicators, pages of {PAGE}:")
            ref = _timed("taxii2-client, fetch all pages", lambda: _reference_fetch(peer))
            fetched: list[dict[str, object]] = []
            ours = _timed("herdsec client, fetch all pages", lambda: _herdsec_fetch(peer, fetched))
            db = _hub(work)
            with db.transaction() as s:
                federation.add_peer(
                    s, OPERATOR,
                    federation.PeerIn(name="bench", url=peer.url, collection_id=peer.collection,
                                      username=peer.user, password=peer.password),
                    settings,
                )  # fmt: skip
            _timed("herdsec full pull into SQLite (fetch + ingest)",
                   lambda: federation.run_peer(db, OPERATOR, "bench", settings).pulled)  # fmt: skip
            print(f"  ratio fetch herdsec/taxii2-client: {ours / ref:.2f}", flush=True)
        db.dispose()
        (work / "store").mkdir()
        store_db = _hub(work / "store")
        with store_db.transaction() as s:
            federation.add_peer(
                s, OPERATOR,
                federation.PeerIn(name="store", url=peer.url, collection_id=peer.collection),
                settings,
            )  # fmt: skip
            peer_row = s.scalars(select(FederationPeer).where(FederationPeer.name == "store")).one()
            ctx = _context(peer_row, settings, OutboundPolicy.parse("loopback"))
            actor = identity.org_principal(s, ctx.org_id, "bench")

        def store() -> int:
            tally = Tally()
            for start in range(0, len(fetched), PAGE):
                with store_db.transaction() as s:
                    store_page(s, actor, ctx, fetched[start : start + PAGE], tally)  # type: ignore[arg-type]
            return tally.pulled

        _timed("hub side of the pull: store the fetched pages (ingest + sources)", store)
        store_db.dispose()
        (work / "push").mkdir()
        push_db = _hub(work / "push")
        local = [indicator(value=f"203.0.{i // 250}.{i % 250 + 1}") for i in range(m)]
        with push_db.transaction() as s:
            member = make_member(s, "analyst")
            service.ingest_objects(s, member.principal, local, tlp="green", distribution="connected")
        print(f"push {m} indicators:")
        with running_medallion(work / "push", [], page_size=PAGE) as target:
            with push_db.transaction() as s:
                federation.add_peer(
                    s, OPERATOR,
                    federation.PeerIn(name="out", url=target.url, collection_id=target.collection,
                                      direction="push", username=target.user, password=target.password),
                    settings,
                )  # fmt: skip
            ours = _timed("herdsec push (select + envelopes)", lambda: federation.run_peer(push_db, OPERATOR, "out",
                                                                                         settings).pushed)  # fmt: skip
        with running_medallion(work / "push", [], page_size=PAGE) as target2:
            coll = _collection(target2)

            def reference_push() -> int:
                sent = 0
                for start in range(0, m, 200):
                    status = coll.add_objects({"objects": local[start : start + 200]})
                    sent += status.success_count
                return sent

            ref = _timed("taxii2-client add_objects, same envelopes", reference_push)
        print(f"  ratio push herdsec/taxii2-client: {ours / ref:.2f}")
        push_db.dispose()
