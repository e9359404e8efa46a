"""Sightings: counts for everyone, names only for the creator and coordinators; decay refreshed by sightings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import InvalidInput, NotFound, PermissionDenied
from herdsec.intel import service
from herdsec.intel.schemas import SightingIn
from tests.factories import bearer, make_member
from tests.intel_factories import indicator, share, sighting, stamp


def test_sightings_by_value_counts_and_privacy(session: Session) -> None:
    creator = make_member(session, "analyst", name="Ngân hàng Tạo")
    bank = make_member(session, "analyst", kind="bank", name="Ngân hàng Thấy")
    sme = make_member(session, "analyst", name="Công ty Thấy")
    boss = make_member(session, "admin", coordinator=True, kind="coordinator")
    share(session, creator.principal, indicator("203.0.113.90"), tlp="green")
    now = utcnow()
    service.record_sighting(
        session,
        bank.principal,
        SightingIn(value="203.0.113[.]90", count=5, first_seen=now - timedelta(hours=2), last_seen=now),
    )
    service.record_sighting(session, sme.principal, SightingIn(value="203.0.113.90"))
    for viewer, names in ((creator, True), (boss, True), (bank, False), (sme, False)):
        summary = service.lookup(session, viewer.principal, "203.0.113.90").matches[0].sightings
        assert summary is not None and summary.count == 6 and summary.organizations == 2
        if names:
            assert summary.reporters == ["Công ty Thấy", "Ngân hàng Thấy"]
        else:
            assert summary.reporters is None


def test_false_positive_lowers_the_score_and_expiration_expires(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    # valid from an hour ago, whatever today is (a fixed date decays to a score of 0 within weeks)
    fresh = indicator("203.0.113.91", valid_from=(utcnow() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"))
    share(session, a.principal, fresh, tlp="green")
    before = service.lookup(session, b.principal, "203.0.113.91").matches[0]
    service.record_sighting(session, b.principal, SightingIn(value="203.0.113.91", kind="false-positive"))
    after = service.lookup(session, b.principal, "203.0.113.91").matches[0]
    assert before.score is not None and after.score is not None and after.score < before.score
    service.record_sighting(session, b.principal, SightingIn(object_id=fresh["id"], kind="expiration"))
    assert service.lookup(session, b.principal, "203.0.113.91").matches[0].expired


def test_a_recent_sighting_revives_an_old_indicator(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    old = indicator("203.0.113.92")
    old.update(valid_from="2020-01-01T00:00:00Z", created="2020-01-01T00:00:00Z", modified="2020-01-01T00:00:00Z")
    share(session, a.principal, old, tlp="green")
    assert service.lookup(session, b.principal, "203.0.113.92").matches[0].expired
    service.record_sighting(session, b.principal, SightingIn(value="203.0.113.92"))
    revived = service.lookup(session, b.principal, "203.0.113.92").matches[0]
    assert not revived.expired and revived.score and revived.score > 90


def test_sighting_errors(session: Session) -> None:
    a, viewer = make_member(session, "analyst"), make_member(session, "viewer")
    share(session, a.principal, indicator("203.0.113.93"), distribution="organization")
    outsider = make_member(session, "analyst")
    with pytest.raises(NotFound):  # invisible to the outsider: as if it did not exist
        service.record_sighting(session, outsider.principal, SightingIn(value="203.0.113.93"))
    with pytest.raises(PermissionDenied):
        service.record_sighting(session, viewer.principal, SightingIn(value="203.0.113.93"))
    with pytest.raises(InvalidInput):
        service.record_sighting(session, a.principal, SightingIn())
    now = utcnow()
    with pytest.raises(InvalidInput, match="first_seen"):
        service.record_sighting(
            session, a.principal, SightingIn(value="203.0.113.93", first_seen=now, last_seen=now - timedelta(days=1))
        )


def test_stix_sighting_objects_count_too(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    ind = indicator("203.0.113.94")
    share(session, a.principal, ind, tlp="green")
    seen = sighting(ind["id"], 7, first_seen=stamp(1), last_seen=stamp(2))
    share(session, b.principal, seen, tlp="green")
    summary = service.lookup(session, a.principal, "203.0.113.94").matches[0].sightings
    assert summary is not None and summary.count == 7 and summary.reporters == [b.org.name]


def test_sightings_over_http(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    share(session, a.principal, indicator("203.0.113.95"), tlp="green")
    response = client.post("/api/v1/intel/sightings", headers=bearer(b.key), json={"value": "203.0.113.95", "count": 3})
    assert response.status_code == 201 and response.json()["recorded"] == 1
    bad = client.post("/api/v1/intel/sightings", headers=bearer(b.key), json={"value": "x", "kind": "maybe"})
    assert bad.status_code == 422 and bad.json()["where"] == "body.kind"


def test_score_history_falls_and_a_sighting_lifts_it(session: Session) -> None:
    from herdsec.intel.browse import score_history

    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    ind = indicator("203.0.113.96")
    ind.update(valid_from="2026-10-01T00:00:00Z", created="2026-10-01T00:00:00Z", modified="2026-10-01T00:00:00Z")
    share(session, a.principal, ind, tlp="green")
    before = score_history(session, b.principal, ind["id"], "ipv4", ind, utcnow())
    scores = [s for _at, s in before.points]
    assert scores[0] == 100 and scores[-1] == 0 and scores == sorted(scores, reverse=True)
    service.record_sighting(session, b.principal, SightingIn(value="203.0.113.96"))
    after = score_history(session, b.principal, ind["id"], "ipv4", ind, utcnow())
    lifted = [s for _at, s in after.points]
    assert max(lifted[after.now_index :]) > max(scores[before.now_index :])  # refreshed now
