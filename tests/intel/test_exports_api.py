"""Exports over HTTP: an API key, per-organization visibility, content types, ETag and 304, errors."""

from __future__ import annotations

import base64
import json

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.factories import bearer
from tests.intel.export_world import FALSE_POSITIVE, INVISIBLE, RED, WARNINGLISTED, build, dom
from tests.intel_factories import share

BASE = "/api/v1/intel/exports"


def test_an_api_key_is_required(client: TestClient, session: Session) -> None:
    build(session)
    assert client.get(f"{BASE}/txt").status_code == 401
    assert client.get(f"{BASE}/txt", headers=bearer("hsk_00000000_nope")).status_code == 401


def test_each_organization_gets_what_it_may_see(client: TestClient, session: Session) -> None:
    world = build(session)
    reader = client.get(f"{BASE}/txt", headers=bearer(world.reader.key))
    other = client.get(f"{BASE}/txt", headers=bearer(world.other.key))
    assert reader.status_code == other.status_code == 200
    assert "listed.example" in reader.text and INVISIBLE not in reader.text and RED not in reader.text
    assert INVISIBLE in other.text
    assert FALSE_POSITIVE not in reader.text and WARNINGLISTED not in reader.text
    flags = "?include_false_positive=true&include_warninglisted=true"
    relaxed = client.get(f"{BASE}/txt{flags}", headers=bearer(world.reader.key)).text
    assert FALSE_POSITIVE in relaxed and WARNINGLISTED in relaxed and INVISIBLE not in relaxed
    only = client.get(f"{BASE}/txt?type=ipv4&type=cidr", headers=bearer(world.reader.key)).text
    assert only.splitlines() == ["91.243.44.12", "91.243.45.0/24"]


def test_content_types_and_dispositions(client: TestClient, session: Session) -> None:
    world = build(session)
    headers = bearer(world.reader.key)
    expected = {
        "rpz": ("text/dns", "rpz.herdsec.zone"),
        "csv": ("text/csv", "herdsec.csv"),
        "suricata": ("text/plain", "herdsec.rules"),
        "zeek": ("text/plain", "herdsec.intel"),
        "stix": ("application/stix+json", "herdsec-bundle.json"),
        "nft": ("text/plain", "herdsec.nft"),
        "hosts": ("text/plain", "herdsec.hosts"),
    }
    for name, (media, filename) in expected.items():
        response = client.get(f"{BASE}/{name}", headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith(media)
        assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    bundle = client.get(f"{BASE}/stix", headers=headers).json()
    assert bundle["type"] == "bundle" and INVISIBLE not in json.dumps(bundle)
    domains = client.get(f"{BASE}/suricata-dataset?part=domains", headers=headers).text.split()
    assert "listed.example" in {base64.b64decode(line).decode() for line in domains}
    listing = client.get(BASE, headers=headers).json()
    assert {f["name"] for f in listing} >= {"rpz", "suricata-dataset"}


def test_etag_and_if_none_match(client: TestClient, session: Session) -> None:
    world = build(session)
    headers = bearer(world.reader.key)
    first = client.get(f"{BASE}/rpz", headers=headers)
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.text
    again = client.get(f"{BASE}/rpz", headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert client.get(f"{BASE}/rpz", headers={**headers, "If-None-Match": f'"x", W/{etag}'}).status_code == 304
    other_format = client.get(f"{BASE}/hosts", headers={**headers, "If-None-Match": etag})
    assert other_format.status_code == 200
    other_org = client.get(f"{BASE}/rpz", headers={**bearer(world.other.key), "If-None-Match": etag})
    assert other_org.status_code == 200
    share(session, world.sharer.principal, dom("fresh-news.xyz"), tlp="green")
    changed = client.get(f"{BASE}/rpz", headers={**headers, "If-None-Match": etag})
    assert changed.status_code == 200 and "fresh-news.xyz CNAME ." in changed.text
    assert changed.headers["etag"] != etag


def test_bad_requests(client: TestClient, session: Session) -> None:
    world = build(session)
    headers = bearer(world.reader.key)
    assert client.get(f"{BASE}/pdf", headers=headers).status_code == 422
    assert client.get(f"{BASE}/txt?type=planet", headers=headers).status_code == 422
    assert client.get(f"{BASE}/txt?since=yesterday", headers=headers).status_code == 422
    assert client.get(f"{BASE}/rpz?zone=bad%20zone", headers=headers).status_code == 422
    assert client.get(f"{BASE}/suricata?sid_base=0", headers=headers).status_code == 422
    assert client.get(f"{BASE}/suricata-dataset?part=nope", headers=headers).status_code == 422
    recent = client.get(f"{BASE}/txt?since=1h", headers=headers)
    assert recent.status_code == 200 and "listed.example" in recent.text
    polled = client.get(f"{BASE}/txt?since=1h", headers={**headers, "If-None-Match": recent.headers["etag"]})
    assert polled.status_code == 304  # a relative age keeps its ETag within the hour


def test_what_a_member_may_not_see_moves_neither_its_etag_nor_its_rpz_serial(
    client: TestClient, session: Session
) -> None:
    world = build(session)
    headers = bearer(world.reader.key)
    first = client.get(f"{BASE}/rpz", headers=headers)
    serial = next(line for line in first.text.splitlines() if "SOA" in line)
    share(session, world.other.principal, dom("hidden-red.xyz"), tlp="red", distribution="organization")
    share(session, world.other.principal, dom("hidden-own.xyz"), tlp="amber", distribution="organization")
    again = client.get(f"{BASE}/rpz", headers={**headers, "If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    assert (
        next(line for line in client.get(f"{BASE}/rpz", headers=headers).text.splitlines() if "SOA" in line) == serial
    )
    assert client.get(f"{BASE}/rpz", headers=bearer(world.other.key)).text.count("hidden-own.xyz") == 2
