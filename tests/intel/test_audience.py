"""Regressions from the review of the intel module: nothing crosses the audience its owner chose."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import attack, service
from herdsec.intel.schemas import SightingIn
from herdsec.intel.search import Filters, search
from tests.factories import bearer, make_member
from tests.intel_factories import indicator, share, sighting, stamp

MARKING = "marking-definition--0b5f6f1e-9e1a-4b7e-8f4a-2d3c4b5a6f70"


def test_a_private_stix_sighting_stays_private(session: Session) -> None:
    a, b, c = make_member(session, "analyst"), make_member(session, "analyst"), make_member(session, "analyst")
    ind = indicator("203.0.113.120")
    share(session, a.principal, ind, tlp="green")
    private = sighting(ind["id"], 5)
    share(session, c.principal, private, tlp="red", distribution="organization")
    for viewer in (a, b):
        summary = service.lookup(session, viewer.principal, "203.0.113.120").matches[0].sightings
        assert summary is None or summary.count == 0
    mine = service.lookup(session, c.principal, "203.0.113.120").matches[0].sightings
    assert mine is not None and mine.count == 5


def test_sightings_of_invisible_objects_are_not_recorded(session: Session) -> None:
    a, c = make_member(session, "analyst"), make_member(session, "analyst")
    secret = indicator("203.0.113.121")
    share(session, a.principal, secret, distribution="organization")
    probe = sighting(secret["id"], 50)
    share(session, c.principal, probe, tlp="green")
    summary = service.lookup(session, a.principal, "203.0.113.121").matches[0].sightings
    assert summary is None or summary.count == 0


def test_relationships_only_tag_ones_own_objects_with_public_techniques(session: Session) -> None:
    attack.load(session)
    a, b, c = make_member(session, "analyst"), make_member(session, "viewer"), make_member(session, "analyst")
    ind = indicator("203.0.113.122")
    share(session, a.principal, ind, tlp="green")
    secret_pattern = {
        "type": "attack-pattern",
        "spec_version": "2.1",
        "created": stamp(),
        "modified": stamp(),
        "id": "attack-pattern--3d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "name": "Codename Lotus",
        "external_references": [{"source_name": "mitre-attack", "external_id": "T1566"}],
    }
    rel = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--4d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
        "created": stamp(),
        "modified": stamp(),
        "relationship_type": "indicates",
        "source_ref": ind["id"],
        "target_ref": secret_pattern["id"],
    }
    share(session, c.principal, secret_pattern, rel, tlp="red", distribution="organization")
    found = {o.id for o in search(session, b.principal, Filters(technique="T1566", type="indicator")).items}
    assert ind["id"] not in found  # c's private statement about a's object does not show
    assert attack.technique_names(session, ["T1566"]) == {"T1566": "Phishing"}  # not renamed by c


def test_another_organizations_statement_does_not_unlock_a_marking(session: Session) -> None:
    a, b, c = make_member(session, "analyst"), make_member(session, "viewer"), make_member(session, "analyst")
    statement = {
        "type": "marking-definition",
        "spec_version": "2.1",
        "id": MARKING,
        "created": stamp(),
        "definition_type": "statement",
        "definition": {"statement": "harmless"},
    }
    share(session, c.principal, statement, tlp="clear", distribution="all")
    marked = indicator("203.0.113.123", object_marking_refs=[MARKING])
    share(session, a.principal, marked, tlp="green")
    assert service.lookup(session, b.principal, "203.0.113.123").matches == []  # unknown to a: fails closed


def test_a_granular_red_part_makes_the_object_red(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    ind = indicator(
        "203.0.113.124",
        tlp=Tlp.GREEN,
        description="nguồn tin mật",
        granular_markings=[{"marking_ref": TLP2_MARKINGS[Tlp.RED], "selectors": ["description"]}],
    )
    share(session, a.principal, ind)
    assert service.lookup(session, b.principal, "203.0.113.124").matches == []
    assert service.lookup(session, a.principal, "203.0.113.124").matches[0].tlp == "red"


def test_values_postgresql_cannot_store_are_refused_per_object(session: Session) -> None:
    a = make_member(session, "analyst")
    status = share(
        session,
        a.principal,
        indicator("203.0.113.125", name="bad\u0000name"),
        indicator("203.0.113.126", created_by_ref="identity--" + "a" * 200),
        sighting("indicator--5d2c3b4a-5e6f-4a7b-8c9d-0e1f2a3b4c5d", 5_000_000_000),
    )
    assert status.failure_count == 3 and status.stored_count == 0


def test_sighting_dates_are_checked_and_clamped(client: TestClient, session: Session) -> None:
    a, b, c = make_member(session, "analyst"), make_member(session, "analyst"), make_member(session, "analyst")
    share(session, a.principal, indicator("203.0.113.127"), tlp="green")
    naive = client.post(
        "/api/v1/intel/sightings",
        headers=bearer(b.key),
        json={"value": "203.0.113.127", "last_seen": "2026-11-01T10:00:00"},
    )
    assert naive.status_code == 422 and naive.json()["where"] == "body.last_seen"
    far = datetime(9999, 12, 31, tzinfo=UTC)
    service.record_sighting(session, b.principal, SightingIn(value="203.0.113.127", last_seen=far))
    summary = service.lookup(session, a.principal, "203.0.113.127").matches[0].sightings
    assert summary is not None and summary.last_seen is not None
    assert summary.last_seen < utcnow() + timedelta(days=1)
    for _ in range(3):  # one organization doubting three times counts once
        service.record_sighting(session, c.principal, SightingIn(value="203.0.113.127", kind="false-positive"))
    match = service.lookup(session, a.principal, "203.0.113.127").matches[0]
    assert match.sightings is not None and match.sightings.false_positives == 1
    assert match.score is not None and match.score > 40
    page = client.get("/api/v1/intel/lookup", params={"value": "203.0.113.127"}, headers=bearer(a.key))
    assert page.status_code == 200


def test_members_cannot_impersonate_each_other(session: Session) -> None:
    a, c = make_member(session, "analyst"), make_member(session, "analyst")
    forged = indicator("203.0.113.130", created_by_ref=f"identity--{a.org.uuid}")
    hijack = {
        "type": "identity",
        "spec_version": "2.1",
        "id": f"identity--{a.org.uuid}",
        "created": stamp(),
        "modified": stamp(),
        "name": "Not really A",
        "identity_class": "organization",
    }
    third_party = indicator("203.0.113.131", created_by_ref="identity--c78cb6e5-0c4b-4611-8297-d1b8b55e40b5")
    status = share(session, c.principal, forged, hijack, third_party, tlp="green")
    assert status.failure_count == 2 and status.stored_count == 1
    assert {f.index for f in status.failures} == {0, 1}
    own = share(session, a.principal, {**hijack, "name": a.org.name}, tlp="green")
    assert own.stored_count == 1  # the organization itself may publish its identity
