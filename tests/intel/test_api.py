"""The intel JSON API over HTTP."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import bearer, make_member
from tests.intel_factories import bundle, indicator


def test_share_then_another_member_looks_it_up(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    doc = bundle(indicator("203.0.113.50"), indicator(pattern="[ipv4-addr:value = '1.2.3'"))
    response = client.post(
        "/api/v1/intel/bundles?tlp=green&distribution=community",
        headers=bearer(a.key),
        content=json.dumps(doc),
    )
    assert response.status_code == 415  # no JSON content type
    response = client.post("/api/v1/intel/bundles?tlp=green&distribution=community", headers=bearer(a.key), json=doc)
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["success_count"], status["failure_count"]) == (1, 1)
    assert status["failures"][0]["index"] == 1 and status["failures"][0]["id"] == doc["objects"][1]["id"]
    found = client.get("/api/v1/intel/lookup", params={"value": "203.0.113[.]50"}, headers=bearer(b.key)).json()
    assert found["value_type"] == "ipv4" and found["matches"][0]["tlp"] == "green"
    assert found["matches"][0]["creator"] == a.org.name
    obj = client.get(f"/api/v1/intel/objects/{doc['objects'][0]['id']}", headers=bearer(b.key))
    assert obj.status_code == 200 and obj.headers["content-type"].startswith("application/stix+json")


def test_bundle_errors_over_http(client: TestClient, session: Session) -> None:
    a, viewer = make_member(session, "analyst"), make_member(session, "viewer")
    broken = client.post(
        "/api/v1/intel/bundles",
        headers=bearer(a.key) | {"Content-Type": "application/json"},
        content=b'{"type": "bundle",\n "objects": [{"type": }]}',
    )
    assert broken.status_code == 422 and broken.json()["where"].startswith("line 2")
    assert client.post("/api/v1/intel/bundles", headers=bearer(viewer.key), json=bundle()).status_code == 403
    assert client.post("/api/v1/intel/bundles", json=bundle()).status_code == 401
    bad_tlp = client.post("/api/v1/intel/bundles?tlp=purple", headers=bearer(a.key), json=bundle())
    assert bad_tlp.status_code == 422 and bad_tlp.json()["where"] == "tlp"


def test_lookup_errors_and_invisible_objects(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    doc = bundle(indicator("203.0.113.51"))
    client.post("/api/v1/intel/bundles?distribution=organization", headers=bearer(a.key), json=doc)
    assert (
        client.get("/api/v1/intel/lookup", params={"value": "203.0.113.51"}, headers=bearer(b.key)).json()["matches"]
        == []
    )
    assert client.get(f"/api/v1/intel/objects/{doc['objects'][0]['id']}", headers=bearer(b.key)).status_code == 404
    nonsense = client.get("/api/v1/intel/lookup", params={"value": "hello world"}, headers=bearer(b.key))
    assert nonsense.status_code == 422 and nonsense.json()["where"] == "value"
