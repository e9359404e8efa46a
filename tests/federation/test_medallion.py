"""Interop with a real TAXII 2.1 server (medallion, started by the test): pull from it, push to it, and check
with taxii2-client that what must not leave never arrived. Medallion stands in for the other hub."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from taxii2client.v21 import Collection, as_pages

from herdsec.core.db import Database
from herdsec.core.settings import Settings, load_settings
from herdsec.identity.visibility import TLP1_MARKINGS, TLP2_MARKINGS, Tlp
from herdsec.intel import federation
from herdsec.intel.federation.models import FederationPeer, FederationSource
from herdsec.intel.models import StixObject
from tests.factories import OPERATOR, make_group, make_member, principal_of
from tests.federation.medallion_peer import Medallion, running_medallion
from tests.intel_factories import indicator, share

WHITE = next(k for k, v in TLP1_MARKINGS.items() if v is Tlp.CLEAR)
PEER_IDENTITY = f"identity--{uuid.uuid4()}"


def _remote(**extra: Any) -> dict[str, Any]:
    return indicator(created_by_ref=PEER_IDENTITY, **extra)


@pytest.fixture
def hub_settings() -> Settings:
    return load_settings(mode="dev", outbound_allow="loopback", outbound_timeout=10)


def _collection(peer: Medallion) -> Collection:
    return Collection(f"{peer.api_root}collections/{peer.collection}/", user=peer.user, password=peer.password)


def _remote_ids(peer: Medallion) -> set[str]:
    ids: set[str] = set()
    for envelope in as_pages(_collection(peer).get_objects, per_request=2):
        ids.update(o["id"] for o in envelope.get("objects", []))
    return ids


def test_two_hubs_keep_each_other_in_sync_without_leaking(
    tmp_path: Path, session: Session, db: Database, hub_settings: Settings
) -> None:
    local = make_member(session, "admin")
    other = make_member(session, "analyst")
    group = make_group(session, local.principal, [local.org.id, other.org.id])
    actor = principal_of(session, local.user)  # now a member of the group
    # What the peer hub holds (a remote identity, markings of every kind, one impersonation attempt).
    remote = {
        "identity": {
            "type": "identity", "spec_version": "2.1", "id": PEER_IDENTITY, "name": "Peer CERT",
            "identity_class": "organization", "created": "2026-11-01T00:00:00.000Z",
            "modified": "2026-11-01T00:00:00.000Z", "object_marking_refs": [TLP2_MARKINGS[Tlp.GREEN]],
        },
        "green": _remote(tlp=Tlp.GREEN),
        "white": _remote(object_marking_refs=[WHITE]),
        "amber": _remote(tlp=Tlp.AMBER),
        "unknown": _remote(object_marking_refs=[f"marking-definition--{uuid.uuid4()}"]),
        "unmarked": _remote(),
        "impostor": indicator(created_by_ref=f"identity--{local.org.uuid}", tlp=Tlp.GREEN),
    }  # fmt: skip
    # What this hub holds: only the CLEAR/GREEN connected/all objects may be pushed.
    mine = {
        "green_connected": (indicator(tlp=Tlp.GREEN), "connected"),
        "clear_all": (indicator(tlp=Tlp.CLEAR), "all"),
        "default_green_connected": (indicator(), "connected"),
        "amber_connected": (indicator(tlp=Tlp.AMBER), "connected"),
        "strict_connected": (indicator(tlp=Tlp.AMBER_STRICT), "connected"),
        "red_connected": (indicator(tlp=Tlp.RED), "connected"),
        "green_community": (indicator(tlp=Tlp.GREEN), "community"),
        "green_organization": (indicator(tlp=Tlp.GREEN), "organization"),
        "green_group": (indicator(tlp=Tlp.GREEN), f"sharing-group:{group}"),
        "unknown_all": (indicator(object_marking_refs=[f"marking-definition--{uuid.uuid4()}"]), "all"),
    }
    for obj, distribution in mine.values():
        status = share(session, actor, obj, tlp="green", distribution=distribution)
        assert status.stored_count == 1, status
    session.flush()
    with running_medallion(tmp_path, list(remote.values()), page_size=2) as peer:
        added = federation.add_peer(
            session,
            OPERATOR,
            federation.PeerIn(
                name="peer-hub", url=peer.url, collection_id=peer.collection, direction="both",
                interval_seconds=60, username=peer.user, password=peer.password,
            ),
            hub_settings,
        )  # fmt: skip
        session.commit()
        first = federation.run_peer(db, OPERATOR, "peer-hub", hub_settings)
        assert first.error is None, first
        assert first.pulled == 6 and first.refused == 1  # the impostor names a local member as its creator
        assert first.pushed == 3

        session.expire_all()
        rows = {
            sid: (org, tlp, dist)
            for sid, org, tlp, dist in session.execute(
                select(StixObject.stix_id, StixObject.creator_org_id, StixObject.tlp, StixObject.distribution).where(
                    StixObject.stix_id.in_([o["id"] for o in remote.values()])
                )
            )
        }
        assert remote["impostor"]["id"] not in rows
        assert {org for org, _t, _d in rows.values()} == {added.org_id}
        assert {dist for _o, _t, dist in rows.values()} == {"community"}
        assert rows[remote["green"]["id"]][1] == Tlp.GREEN
        assert rows[remote["white"]["id"]][1] == Tlp.CLEAR
        assert rows[remote["amber"]["id"]][1] == Tlp.AMBER
        assert rows[remote["unknown"]["id"]][1] == Tlp.UNKNOWN  # fails closed
        assert rows[remote["unmarked"]["id"]][1] == Tlp.AMBER
        sources = set(session.scalars(select(FederationSource.stix_id).where(FederationSource.peer_id == added.id)))
        assert sources == {o["id"] for k, o in remote.items() if k != "impostor"}

        at_peer = _remote_ids(peer)
        pushed = {mine[k][0]["id"] for k in ("green_connected", "clear_all", "default_green_connected")}
        never = {mine[k][0]["id"] for k in mine} - pushed
        assert pushed <= at_peer
        assert not never & at_peer
        assert len(at_peer) == len(remote) + len(pushed)  # nothing pulled was echoed back
        default_green = _collection(peer).get_object(mine["default_green_connected"][0]["id"])["objects"][0]
        assert default_green["object_marking_refs"] == [TLP2_MARKINGS[Tlp.GREEN]]

        # Again: nothing new either way (cursors), nothing stored twice; our own pushes come back as echoes.
        count = session.scalar(select(func.count()).select_from(StixObject))
        second = federation.run_peer(db, OPERATOR, "peer-hub", hub_settings)
        assert second.error is None and second.pulled == 0 and second.pushed == 0, second
        assert second.skipped == 3  # our three objects, now at the peer, are not re-owned
        assert second.refused == 0  # the impostor was not fetched again: the cursor (added_after) was used
        session.expire_all()
        assert session.scalar(select(func.count()).select_from(StixObject)) == count
        cursor = session.scalar(select(FederationPeer.pull_cursor).where(FederationPeer.id == added.id))
        assert cursor and cursor.startswith("20")

        # The other hub publishes something new, and so do we: one more run brings both across.
        news = _remote(tlp=Tlp.GREEN)
        _collection(peer).add_objects({"objects": [news]})
        fresh = indicator(tlp=Tlp.CLEAR)
        share(session, actor, fresh, distribution="all")
        session.commit()
        third = federation.run_peer(db, OPERATOR, "peer-hub", hub_settings)
        assert third.error is None and third.pulled == 1 and third.pushed == 1, third
        assert fresh["id"] in _remote_ids(peer)
        session.expire_all()
        assert session.scalar(select(StixObject.creator_org_id).where(StixObject.stix_id == news["id"])) == added.org_id
