"""Search by type, label, ATT&CK technique, organization, time and TLP; ATT&CK reference data."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.intel import attack, service
from herdsec.intel.search import Filters, search
from tests.factories import bearer, make_member
from tests.intel_factories import indicator, share, stamp
from tests.test_pages import log_in


def test_attack_loads_once_and_names_techniques(session: Session) -> None:
    first = attack.load(session)
    assert first.failure_count == 0 and first.stored_count > 700
    assert attack.load(session).stored_count == 0  # idempotent
    names = attack.technique_names(session, ["T1566", "T1566.002", "T0883"])
    assert names["T1566"] == "Phishing" and names["T1566.002"] == "Spearphishing Link" and "T0883" in names


def test_search_filters_visibility_and_paging(session: Session) -> None:
    attack.load(session)
    a, b, outsider = make_member(session, "analyst"), make_member(session, "analyst"), make_member(session)
    cited = indicator(
        "198.51.100.31",
        labels=["Phishing", "banking"],
        external_references=[{"source_name": "mitre-attack", "external_id": "T1566.002"}],
    )
    plain = indicator("198.51.100.32", labels=["scanner"])
    hidden = indicator("198.51.100.33", labels=["phishing"])
    share(session, a.principal, cited, plain, tlp="green")
    share(session, a.principal, hidden, distribution="organization")
    linked = indicator("198.51.100.34")
    relationship = {
        "type": "relationship",
        "spec_version": "2.1",
        "id": "relationship--2f6a7f54-6c9e-4a56-9f3d-5e9a1c0b7d21",
        "created": stamp(),
        "modified": stamp(),
        "relationship_type": "indicates",
        "source_ref": linked["id"],
        "target_ref": _phishing_pattern_id(session),
    }
    share(session, b.principal, linked, relationship, tlp="green")

    def ids(principal: object, **kw: object) -> set[str]:
        return {o.id for o in search(session, principal, Filters(**kw), limit=100).items}  # type: ignore[arg-type]

    assert ids(outsider.principal, label="phishing") == {cited["id"]}
    assert ids(a.principal, label="PHISHING") == {cited["id"], hidden["id"]}
    assert ids(outsider.principal, technique="t1566.002", type="indicator") == {cited["id"]}
    assert ids(outsider.principal, technique="T1566", type="indicator") == {linked["id"]}  # via the relationship
    assert ids(outsider.principal, type="indicator", org_id=b.org.id) == {linked["id"]}
    assert ids(outsider.principal, tlp="amber") == set()
    first = search(session, outsider.principal, Filters(type="indicator"), limit=2)
    second = search(session, outsider.principal, Filters(type="indicator"), limit=2, cursor=first.next)
    assert len(first.items) == 2 and first.next and {o.id for o in first.items}.isdisjoint(o.id for o in second.items)
    scored = search(session, outsider.principal, Filters(type="indicator", min_score=0), limit=100).items
    assert all(o.score is not None for o in scored)


def _phishing_pattern_id(session: Session) -> str:
    page = search(session, _reader(session), Filters(type="attack-pattern", technique="T1566"), limit=5)
    return next(o.id for o in page.items if o.name == "Phishing")


def _reader(session: Session) -> object:
    return make_member(session, "viewer").principal


def test_search_api_and_page(client: TestClient, session: Session) -> None:
    attack.load(session)
    a = make_member(session, "analyst")
    share(
        session,
        a.principal,
        indicator(
            "198.51.100.41",
            labels=["ransomware"],
            external_references=[{"source_name": "mitre-attack", "external_id": "T1486"}],
        ),
        tlp="green",
    )
    found = client.get(
        "/api/v1/intel/objects", params={"technique": "T1486", "type": "indicator"}, headers=bearer(a.key)
    ).json()
    assert [o["name"] for o in found["items"]] == ["C2 198.51.100.41"]
    assert client.get("/api/v1/intel/objects", params={"tlp": "mauve"}, headers=bearer(a.key)).status_code == 422
    assert client.get("/api/v1/intel/objects", params={"next": "bogus"}, headers=bearer(a.key)).status_code == 422
    log_in(client, a, "/intel/search")
    page = client.get("/intel/search", params={"technique": "T1486"})
    assert page.status_code == 200 and "Data Encrypted for Impact" in page.text and "C2 198.51.100.41" in page.text
    detail = client.get(f"/intel/objects/{found['items'][0]['id']}")
    assert "T1486" in detail.text and "Data Encrypted for Impact" in detail.text
    assert service.lookup(session, a.principal, "198.51.100.41").matches


def test_lookup_finds_ja3_by_its_bare_hash_and_literal_user_agents(session: Session) -> None:
    a = make_member(session, "analyst")
    ja3 = "e7d705a3286e19ea42f587b344ee6865"
    share(
        session,
        a.principal,
        indicator(pattern=f"[x-ja3:value = '{ja3}']"),
        indicator(
            pattern="[network-traffic:extensions.'http-request-ext'.request_header.'User-Agent' = 'Bot(at)evil 1.0']"
        ),
        tlp="green",
    )
    assert [m.value_type for m in service.lookup(session, a.principal, ja3.upper()).matches] == ["ja3"]
    literal = service.lookup(session, a.principal, "Bot(at)evil 1.0", type_hint="user-agent")
    assert len(literal.matches) == 1
