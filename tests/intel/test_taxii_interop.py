"""Interop: a real hub (uvicorn on 127.0.0.1) driven by the OASIS ``taxii2-client`` and ``stix2``'s TAXII data
source and sink, as a member's tools would."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import requests
import stix2
import uvicorn
from taxii2client.v21 import Collection, Server, as_pages

from herdsec.core.db import Database, make_engine
from herdsec.core.settings import load_settings
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel.taxii import collection_id
from herdsec.migrations import upgrade
from herdsec.web.app import create_app
from tests.factories import Member, make_member
from tests.intel_factories import indicator, share

COMMUNITY = collection_id("community")


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, key: str) -> None:
        self.key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.key}"
        return request


@dataclass
class Hub:
    url: str
    sharer: Member
    reader: Member
    outsider: Member
    private_id: str


def _serve(database: Database, timeout: float = 10.0) -> tuple[uvicorn.Server, threading.Thread, socket.socket, str]:
    app = create_app(load_settings(mode="dev", default_language="en"), database=database)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # a free port chosen by the kernel; uvicorn serves this very socket
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub did not start")
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    return server, thread, sock, url


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    path: Path = tmp_path_factory.mktemp("taxii") / "hub.db"
    database = Database(make_engine(f"sqlite:///{path}"))
    upgrade(database.bind)
    with database.transaction() as session:
        sharer = make_member(session, "analyst")
        reader = make_member(session, "viewer")
        outsider = make_member(session, "analyst")
        private = indicator("203.0.113.200", tlp=Tlp.AMBER)
        share(session, outsider.principal, private, distribution="organization")
    server, thread, sock, url = _serve(database)
    try:
        yield Hub(url, sharer, reader, outsider, private["id"])
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()


def _collection(hub: Hub, member: Member, *, basic: bool = True) -> Collection:
    auth = {"user": "taxii", "password": member.key} if basic else {"auth": BearerAuth(member.key)}
    server = Server(f"{hub.url}/taxii2/", **auth)  # type: ignore[arg-type]
    root = server.default
    assert root is not None and root.versions == ["application/taxii+json;version=2.1"]
    by_id = {c.id: c for c in root.collections}
    assert COMMUNITY in by_id
    return by_id[COMMUNITY]


def test_taxii2_client_discovery_add_and_paged_reads(hub: Hub) -> None:
    writer = _collection(hub, hub.sharer)
    assert writer.can_write and writer.can_read
    objects = [indicator(f"192.0.2.{i}", tlp=Tlp.GREEN) for i in range(1, 26)]
    status = writer.add_objects({"objects": objects})
    assert status.status == "complete" and status.success_count == 25 and status.failure_count == 0
    reader = _collection(hub, hub.reader, basic=False)  # the key as a Bearer token
    assert not reader.can_write
    pages = list(as_pages(reader.get_objects, per_request=10))
    assert [len(p["objects"]) for p in pages] == [10, 10, 5]
    got = [o["id"] for p in pages for o in p["objects"]]
    assert got == [o["id"] for o in objects]
    assert hub.private_id not in got  # another organization's AMBER, organization-only: never returned
    # Filters through the client: type, id, added_after and version.
    assert reader.get_objects(type="malware")["objects"] == []
    one = reader.get_objects(id=objects[3]["id"])["objects"]
    assert [o["id"] for o in one] == [objects[3]["id"]]
    manifest = list(as_pages(reader.get_manifest, per_request=20))
    assert sum(len(p["objects"]) for p in manifest) == 25
    cut = manifest[0]["objects"][19]["date_added"]
    tail = reader.get_objects(added_after=cut)
    assert [o["id"] for o in tail["objects"]] == [o["id"] for o in objects[20:]]
    versions = reader.object_versions(objects[0]["id"])
    assert versions["versions"] == [objects[0]["modified"]]
    assert reader.get_object(objects[0]["id"])["objects"][0]["id"] == objects[0]["id"]


def test_stix2_taxii_source_and_sink(hub: Hub) -> None:
    sink = stix2.TAXIICollectionSink(_collection(hub, hub.sharer))
    made = stix2.Indicator(
        name="phishing domain",
        pattern="[domain-name:value = 'login-bank.example']",
        pattern_type="stix",
        object_marking_refs=[TLP2_MARKINGS[Tlp.GREEN]],
    )
    sink.add(made)
    source = stix2.TAXIICollectionSource(_collection(hub, hub.reader))
    fetched = source.get(made.id)
    assert fetched is not None and fetched.name == "phishing domain"
    found = source.query([stix2.Filter("type", "=", "indicator"), stix2.Filter("id", "=", made.id)])
    assert [o.id for o in found] == [made.id]
    assert source.get(hub.private_id) is None  # invisible: the same answer as absent


def test_counts_and_headers_do_not_leak(hub: Hub) -> None:
    """Another member's organization-only object is absent from every read, including dates and manifests."""
    headers = {"Authorization": f"Bearer {hub.reader.key}", "Accept": "application/taxii+json;version=2.1"}
    everything = collection_id("everything")
    base = f"{hub.url}/taxii2/hub/collections/{everything}"
    with httpx.Client(headers=headers, timeout=10) as client:
        listed = client.get(f"{base}/manifest/", params={"match[id]": hub.private_id})
        assert listed.status_code == 200 and listed.json()["objects"] == []
        assert "X-TAXII-Date-Added-First" not in listed.headers
        for suffix in ("/", "/versions/"):
            assert client.get(f"{base}/objects/{hub.private_id}{suffix}").status_code == 404
