"""The TAXII 2.1 server over HTTP: resources, filters, paging, status, delete, media types, errors, visibility."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.core.db import Database
from herdsec.core.settings import Settings, load_settings
from herdsec.identity.visibility import Tlp
from herdsec.intel.taxii import collection_id
from herdsec.web.app import create_app
from tests.factories import Member, bearer, make_group, make_member
from tests.intel_factories import indicator, share

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/hub"
COMMUNITY = collection_id("community")
EVERYTHING = collection_id("everything")
REFERENCE = collection_id("reference")


def h(member: Member, **extra: str) -> dict[str, str]:
    return bearer(member.key) | {"Accept": TAXII} | extra


def objects_url(collection: str = COMMUNITY) -> str:
    return f"{ROOT}/collections/{collection}/objects/"


def post(client: TestClient, member: Member, *objects: dict[str, Any], collection: str = COMMUNITY) -> Any:
    return client.post(
        objects_url(collection),
        headers=h(member, **{"Content-Type": TAXII}),
        content=json.dumps({"objects": list(objects)}),
    )


def ids_of(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [o["id"] for o in response.json()["objects"]]


def test_discovery_root_and_collections(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "admin"), make_member(session, "viewer")
    group = make_group(session, a.principal, [b.org.id], name="Ngân hàng")
    a = make_member_again(session, a)
    found = client.get("/taxii2/", headers=h(a))
    assert found.status_code == 200 and found.headers["content-type"] == TAXII
    assert found.json()["api_roots"] == ["http://testserver/taxii2/hub/"]
    root = client.get(f"{ROOT}/", headers=h(a)).json()
    assert root["versions"] == [TAXII] and root["max_content_length"] > 0
    listed = {c["title"]: c for c in client.get(f"{ROOT}/collections/", headers=h(a)).json()["collections"]}
    assert set(listed) == {
        "Community",
        "Sharing group: Ngân hàng",
        f"Organization: {a.org.name}",
        "MITRE ATT&CK",
        "Everything you can see",
    }
    assert listed["Community"]["can_write"] and not listed["MITRE ATT&CK"]["can_write"]
    assert listed["Community"]["id"] == COMMUNITY  # stable ids
    one = client.get(f"{ROOT}/collections/{COMMUNITY}/", headers=h(a)).json()
    assert one == listed["Community"]
    # A viewer reads but cannot write; another member does not see a's own collection.
    viewer_side = {c["title"]: c for c in client.get(f"{ROOT}/collections/", headers=h(b)).json()["collections"]}
    assert not viewer_side["Community"]["can_write"] and f"Organization: {a.org.name}" not in viewer_side
    assert group


def make_member_again(session: Session, member: Member) -> Member:
    """The same member with its principal reloaded (after joining a sharing group)."""
    from tests.factories import principal_of

    return Member(member.org, member.user, principal_of(session, member.user), member.key)


def test_add_objects_status_and_read_back(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    good, bad = indicator("203.0.113.70", tlp=Tlp.GREEN), indicator(pattern="[ipv4-addr:value = ")
    response = post(client, a, good, bad)
    assert response.status_code == 202 and response.headers["content-type"] == TAXII
    status = response.json()
    assert (status["status"], status["total_count"], status["success_count"], status["failure_count"]) == (
        "complete",
        2,
        1,
        1,
    )
    assert status["successes"] == [{"id": good["id"], "version": good["modified"]}]
    assert status["failures"][0]["id"] == bad["id"] and "pattern" in status["failures"][0]["message"]
    again = client.get(f"{ROOT}/status/{status['id']}/", headers=h(a))
    assert again.status_code == 200 and again.json() == status
    # Another organization cannot read the status resource.
    assert client.get(f"{ROOT}/status/{status['id']}/", headers=h(b)).status_code == 404
    read = client.get(objects_url(), headers=h(b))
    assert ids_of(read) == [good["id"]] and read.headers["content-type"] == TAXII
    assert read.json()["more"] is False and "next" not in read.json()
    assert read.headers["X-TAXII-Date-Added-First"] == read.headers["X-TAXII-Date-Added-Last"]
    # STIX media type is also acceptable for object reads.
    assert client.get(objects_url(), headers=h(b, Accept="application/stix+json;version=2.1")).status_code == 200


def test_paging_with_next_and_headers(client: TestClient, session: Session) -> None:
    a = make_member(session, "analyst")
    shared = [indicator(f"198.51.100.{i}", tlp=Tlp.GREEN) for i in range(1, 8)]
    share(session, a.principal, *shared)
    seen: list[str] = []
    url, params = objects_url(), {"limit": "3"}
    pages = 0
    while True:
        page = client.get(url, headers=h(a), params=params)
        body = page.json()
        seen += ids_of(page)
        pages += 1
        if not body["more"]:
            break
        params = {"limit": "3", "next": body["next"]}
    assert pages == 3 and seen == [o["id"] for o in shared]
    # added_after with the last page's header continues after it.
    first = client.get(url, headers=h(a), params={"limit": "2"})
    after = client.get(url, headers=h(a), params={"added_after": first.headers["X-TAXII-Date-Added-Last"]})
    assert ids_of(after) == [o["id"] for o in shared[2:]]
    manifest = client.get(f"{ROOT}/collections/{COMMUNITY}/manifest/", headers=h(a), params={"limit": "2"}).json()
    assert manifest["more"] is True and manifest["next"]
    assert [m["id"] for m in manifest["objects"]] == [o["id"] for o in shared[:2]]
    assert manifest["objects"][0]["media_type"] == "application/stix+json;version=2.1"
    assert manifest["objects"][0]["version"] == shared[0]["modified"]


def test_filters_match_id_type_version_spec_version(client: TestClient, session: Session) -> None:
    a = make_member(session, "analyst")
    first = indicator("192.0.2.10", tlp=Tlp.GREEN, modified=0)
    second = {**first, "modified": "2026-11-01T10:00:05.000Z", "name": "renamed"}
    other = indicator("192.0.2.11", tlp=Tlp.GREEN)
    share(session, a.principal, first, other)
    share(session, a.principal, second)
    url = objects_url()
    assert sorted(ids_of(client.get(url, headers=h(a)))) == sorted([first["id"], other["id"]])
    latest = client.get(url, headers=h(a), params={"match[id]": first["id"]}).json()["objects"]
    assert [o["name"] for o in latest] == ["renamed"]
    oldest = client.get(url, headers=h(a), params={"match[id]": first["id"], "match[version]": "first"}).json()
    assert [o["modified"] for o in oldest["objects"]] == [first["modified"]]
    both = client.get(url, headers=h(a), params={"match[id]": first["id"], "match[version]": "all"}).json()
    assert len(both["objects"]) == 2
    exact = client.get(url, headers=h(a), params={"match[version]": second["modified"]}).json()
    assert [o["name"] for o in exact["objects"]] == ["renamed"]
    several = client.get(url, headers=h(a), params={"match[version]": "first,last", "match[id]": first["id"]})
    assert len(several.json()["objects"]) == 2
    assert ids_of(client.get(url, headers=h(a), params={"match[type]": "malware,report"})) == []
    assert len(ids_of(client.get(url, headers=h(a), params={"match[type]": "indicator"}))) == 2
    assert ids_of(client.get(url, headers=h(a), params={"match[spec_version]": "2.0"})) == []
    assert len(ids_of(client.get(url, headers=h(a), params={"match[spec_version]": "2.1"}))) == 2
    # One object, its versions.
    one = client.get(f"{url}{first['id']}/", headers=h(a), params={"match[version]": "all"})
    assert len(ids_of(one)) == 2
    versions = client.get(f"{url}{first['id']}/versions/", headers=h(a)).json()
    assert versions == {"more": False, "versions": [first["modified"], second["modified"]]}


def test_visibility_over_taxii(client: TestClient, session: Session) -> None:
    a, b, c = make_member(session, "admin"), make_member(session, "analyst"), make_member(session, "viewer")
    group = make_group(session, a.principal, [b.org.id])
    a, b = make_member_again(session, a), make_member_again(session, b)
    amber_private = indicator("203.0.113.80", tlp=Tlp.AMBER)
    share(session, a.principal, amber_private, distribution="organization")
    red = indicator("203.0.113.81", tlp=Tlp.RED)
    share(session, a.principal, red, distribution=f"sharing-group:{group}")
    in_group = indicator("203.0.113.82", tlp=Tlp.AMBER)
    share(session, a.principal, in_group, distribution=f"sharing-group:{group}")
    for collection in (COMMUNITY, EVERYTHING):
        response = client.get(objects_url(collection), headers=h(c))
        assert ids_of(response) == []
        assert "X-TAXII-Date-Added-First" not in response.headers  # nothing visible: no dates leak
    assert ids_of(client.get(objects_url(EVERYTHING), headers=h(b))) == [in_group["id"]]
    assert ids_of(client.get(objects_url(COMMUNITY), headers=h(b))) == []
    group_collection = next(
        col["id"]
        for col in client.get(f"{ROOT}/collections/", headers=h(b)).json()["collections"]
        if col["title"].startswith("Sharing group")
    )
    assert ids_of(client.get(objects_url(group_collection), headers=h(b))) == [in_group["id"]]  # RED never in bulk
    # c is not in the group: the group's collection does not exist for it.
    assert client.get(objects_url(group_collection), headers=h(c)).status_code == 404
    # Object by id, versions and manifest do not reveal an invisible object either.
    for path in (f"{amber_private['id']}/", f"{amber_private['id']}/versions/"):
        assert client.get(objects_url(EVERYTHING) + path, headers=h(c)).status_code == 404
    manifest = client.get(f"{ROOT}/collections/{EVERYTHING}/manifest/", headers=h(c)).json()
    assert manifest["objects"] == []
    # The creator sees its organization-only object in its own collection.
    own = collection_id(f"org:{a.org.uuid}")
    assert ids_of(client.get(objects_url(own), headers=h(a))) == [amber_private["id"]]


def test_writes_land_in_the_collections_audience(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    own = collection_id(f"org:{a.org.uuid}")
    private = indicator("203.0.113.90", tlp=Tlp.GREEN)
    assert post(client, a, private, collection=own).status_code == 202
    assert ids_of(client.get(objects_url(own), headers=h(a))) == [private["id"]]
    assert ids_of(client.get(objects_url(), headers=h(a))) == []
    assert ids_of(client.get(objects_url(EVERYTHING), headers=h(b))) == []


def test_delete_own_objects_only(client: TestClient, session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "analyst")
    mine = indicator("203.0.113.100", tlp=Tlp.GREEN)
    second = {**mine, "modified": "2026-11-01T10:00:09.000Z"}
    share(session, a.principal, mine)
    share(session, a.principal, second)
    url = objects_url() + mine["id"] + "/"
    assert client.delete(url, headers=h(b)).status_code == 403  # visible to b, but not b's
    assert (
        client.delete(objects_url() + "indicator--00000000-0000-4000-8000-000000000000/", headers=h(a)).status_code
        == 404
    )
    assert client.delete(url, headers=h(a), params={"match[version]": second["modified"]}).status_code == 200
    left = client.get(url, headers=h(a)).json()["objects"]
    assert [o["modified"] for o in left] == [mine["modified"]]  # the older version is current again
    assert client.delete(url, headers=h(a)).status_code == 200
    assert client.get(url, headers=h(a)).status_code == 404
    # Read-only collections refuse deletes and writes.
    assert client.delete(objects_url(REFERENCE) + mine["id"] + "/", headers=h(a)).status_code == 403


# --- bad input ---------------------------------------------------------------------------------------------------


def assert_taxii_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == TAXII
    body = response.json()
    assert body["http_status"] == str(status) and body["title"] and body["description"]
    return dict(body)


def test_wrong_accept_is_406(client: TestClient, session: Session) -> None:
    a = make_member(session, "viewer")
    for accept in ("application/json", "text/html", "application/taxii+json;version=2.0"):
        assert_taxii_error(client.get(f"{ROOT}/collections/", headers=h(a, Accept=accept)), 406)
    # STIX is fine for objects, not for the collections list.
    stix = "application/stix+json;version=2.1"
    assert_taxii_error(client.get(f"{ROOT}/collections/", headers=h(a, Accept=stix)), 406)
    assert client.get(objects_url(), headers=h(a, Accept=stix)).status_code == 200


def test_wrong_content_type_is_415(client: TestClient, session: Session) -> None:
    a = make_member(session, "analyst")
    for ctype in ("application/json", "application/stix+json;version=2.1", "application/taxii+json;version=2.0"):
        response = client.post(objects_url(), headers=h(a, **{"Content-Type": ctype}), content=b'{"objects": []}')
        assert_taxii_error(response, 415)
    assert_taxii_error(client.post(objects_url(), headers=h(a), content=b'{"objects": []}'), 415)


def test_never_issued_next_is_400(client: TestClient, session: Session) -> None:
    a = make_member(session, "analyst")
    share(session, a.principal, *[indicator(tlp=Tlp.GREEN) for _ in range(3)])
    forged = base64.urlsafe_b64encode(b"1.0123456789abcdef").decode().rstrip("=") + ".AAAA"
    for token in ("abc", forged, "", "a.b.c"):
        body = assert_taxii_error(client.get(objects_url(), headers=h(a), params={"next": token}), 400)
        assert body["details"]["where"] in {"next"}
    # A real next, replayed with other filters, is refused too.
    issued = client.get(objects_url(), headers=h(a), params={"limit": "1"}).json()["next"]
    assert client.get(objects_url(), headers=h(a), params={"limit": "1", "next": issued}).status_code == 200
    other = client.get(objects_url(), headers=h(a), params={"next": issued, "match[type]": "indicator"})
    assert_taxii_error(other, 400)
    elsewhere = client.get(objects_url(EVERYTHING), headers=h(a), params={"next": issued})
    assert_taxii_error(elsewhere, 400)


def test_limit_zero_and_bad_filters_are_400(client: TestClient, session: Session) -> None:
    a = make_member(session, "viewer")
    for params in (
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"limit": "²"},
        {"added_after": "yesterday"},
        {"match[version]": "2026-13-01"},
        {"match[colour]": "red"},
    ):
        assert_taxii_error(client.get(objects_url(), headers=h(a), params=params), 400)
    # limits above the server maximum are served at the maximum
    assert client.get(objects_url(), headers=h(a), params={"limit": "1000000"}).status_code == 200


def test_unknown_collection_root_status_are_404(client: TestClient, session: Session) -> None:
    a = make_member(session, "viewer")
    unknown = "9b3c1a36-0000-4000-8000-000000000000"
    assert_taxii_error(client.get(f"{ROOT}/collections/{unknown}/", headers=h(a)), 404)
    assert_taxii_error(client.get(objects_url(unknown), headers=h(a)), 404)
    assert_taxii_error(client.get(f"{ROOT}/collections/{unknown}/manifest/", headers=h(a)), 404)
    assert_taxii_error(client.get("/taxii2/other/collections/", headers=h(a)), 404)
    assert_taxii_error(client.get(f"{ROOT}/status/{unknown}/", headers=h(a)), 404)
    assert_taxii_error(client.get(f"{ROOT}/nothing-here/", headers=h(a)), 404)


def test_writes_to_a_read_only_collection_are_403(client: TestClient, session: Session) -> None:
    a, viewer = make_member(session, "analyst"), make_member(session, "viewer")
    for collection in (REFERENCE, EVERYTHING):
        assert_taxii_error(post(client, a, indicator(), collection=collection), 403)
    assert_taxii_error(post(client, viewer, indicator()), 403)  # a viewer's key cannot write anywhere


def test_authentication_bearer_basic_and_401(client: TestClient, session: Session) -> None:
    a = make_member(session, "viewer")
    basic = "Basic " + base64.b64encode(f"anyone:{a.key}".encode()).decode()
    assert client.get("/taxii2/", headers={"Authorization": basic, "Accept": TAXII}).status_code == 200
    assert client.get("/taxii2/", headers=h(a)).status_code == 200
    assert_taxii_error(client.get("/taxii2/", headers={"Accept": TAXII}), 401)
    wrong = "Basic " + base64.b64encode(b"anyone:hsk_00000000_nope").decode()
    response = client.get("/taxii2/", headers={"Authorization": wrong, "Accept": TAXII})
    assert_taxii_error(response, 401)
    assert "Basic" in response.headers["www-authenticate"]


def test_body_over_the_limit_is_413(session: Session, db: Database) -> None:
    a = make_member(session, "analyst")
    settings: Settings = load_settings(mode="dev", default_language="en", max_upload_bytes=2048)
    with TestClient(create_app(settings, database=db)) as small:
        body = json.dumps({"objects": [indicator() for _ in range(20)]})
        response = small.post(objects_url(), headers=h(a, **{"Content-Type": TAXII}), content=body)
        assert_taxii_error(response, 413)


@pytest.mark.parametrize("body", [b"[1, 2]", b'{"objects": [', b"not json"])
def test_malformed_envelopes_are_400(client: TestClient, session: Session, body: bytes) -> None:
    a = make_member(session, "analyst")
    response = client.post(objects_url(), headers=h(a, **{"Content-Type": TAXII}), content=body)
    assert_taxii_error(response, 400)


def test_every_taxii_route_is_documented() -> None:
    from pathlib import Path

    from herdsec.intel.taxii_api import router

    doc = (Path(__file__).resolve().parents[2] / "docs" / "taxii.md").read_text(encoding="utf-8")
    missing = []
    for route in router.routes:
        path = getattr(route, "path", "").replace("{root}", "hub").replace("{collection_id}", "{id}")
        for method in sorted(getattr(route, "methods", ())):
            if f"`{method} {path}`" not in doc:
                missing.append(f"{method} {path}")
    assert not missing, f"TAXII routes missing from docs/taxii.md: {missing}"


def test_reference_collection_holds_attack_and_community_does_not(client: TestClient, session: Session) -> None:
    from herdsec.intel import attack

    attack.load(session)
    a = make_member(session, "viewer")
    reference = client.get(objects_url(REFERENCE), headers=h(a), params={"match[type]": "attack-pattern", "limit": "5"})
    assert len(ids_of(reference)) == 5 and reference.json()["more"] is True
    assert ids_of(client.get(objects_url(), headers=h(a))) == []
    everything = client.get(objects_url(EVERYTHING), headers=h(a), params={"limit": "5"})
    assert len(ids_of(everything)) == 5


def test_a_hidden_newer_version_neither_hides_the_visible_one_nor_shows_that_it_exists(
    client: TestClient, session: Session
) -> None:
    sharer, reader = make_member(session, "analyst"), make_member(session, "viewer")
    shown = indicator("185.220.101.33", tlp=Tlp.GREEN)
    share(session, sharer.principal, shown, distribution="community")
    share(
        session,
        sharer.principal,
        {**shown, "modified": "2026-11-01T10:00:05.000Z"},
        tlp="red",
        distribution="organization",
    )
    url = f"{objects_url(EVERYTHING)}{shown['id']}/"
    for version in ("last", "first", "all"):
        found = client.get(url, params={"match[version]": version}, headers=h(reader))
        assert ids_of(found) == [shown["id"]]
        assert found.json()["objects"][0]["modified"] == shown["modified"]
