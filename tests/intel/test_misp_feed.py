"""MISP feeds: what the hub publishes (checked with PyMISP's own feed generator) and incremental pulls over HTTP
from a real local server."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import json
import shutil
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pymisp import MISPEvent
from pymisp.tools.feed import feed_meta_generator
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.errors import InvalidInput
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import misp, service
from herdsec.intel.misp.models import MispFeedEvent
from tests.factories import make_member
from tests.intel.test_misp import FIXTURES, attribute, event, load, needs_fixtures
from tests.intel_factories import indicator, share, sighting, stamp


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, str, list[str]]]:
    """A directory served by http.server on 127.0.0.1 (a free port); the requested paths are recorded."""
    root = tmp_path / "feed"
    root.mkdir()
    requested: list[str] = []

    class Recording(_Quiet):
        def do_GET(self) -> None:
            requested.append(self.path)
            super().do_GET()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Recording, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def fetch(url: str) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a local test server
        return bytes(response.read())


def test_the_feed_holds_only_what_may_leave_the_hub(session: Session, tmp_path: Path) -> None:
    a = make_member(session, "analyst")
    shared = event(
        attribute("ip-dst|port", "203.0.113.80|443"),
        attribute("domain", "feed.example"),
        attribute("ip-dst", "203.0.113.81", Tag=[{"name": "tlp:amber"}]),
        distribution="2",
    )
    kept_out = [
        event(attribute("ip-dst", "203.0.113.82"), tags=("tlp:amber",), distribution="3"),
        event(attribute("ip-dst", "203.0.113.83"), distribution="1"),  # community: not for connected peers
        event(attribute("ip-dst", "203.0.113.84"), distribution="0"),
        event(attribute("ip-dst", "203.0.113.85"), tags=("tlp:red",), distribution="3"),
    ]
    for doc in [shared, *kept_out]:
        load(session, a.principal, doc)
    directory = tmp_path / "out"
    directory.mkdir()
    (directory / f"{kept_out[0]['Event']['uuid']}.json").write_text("{}")  # stale: must disappear
    written = misp.write_feed(session, a.principal, directory)
    assert written.events == 1
    names = sorted(p.name for p in directory.iterdir())
    uuid = shared["Event"]["uuid"]
    assert names == sorted([f"{uuid}.json", "hashes.csv", "manifest.json"])
    manifest = json.loads((directory / "manifest.json").read_text())
    assert list(manifest) == [uuid]
    assert manifest[uuid]["info"] == shared["Event"]["info"] and manifest[uuid]["Orgc"]["name"] == "CERT Hồng Hà"
    body = json.loads((directory / f"{uuid}.json").read_text())
    assert "distribution" not in body["Event"]
    values = sorted(x["value"] for x in body["Event"]["Attribute"])
    assert values == ["203.0.113.80|443", "feed.example"]  # the AMBER attribute stayed home
    loaded = MISPEvent()
    loaded.load_file(str(directory / f"{uuid}.json"))
    assert {t.name for t in loaded.tags} == {"tlp:green"}
    hashes = (directory / "hashes.csv").read_text().splitlines()
    expected = [hashlib.md5(v.encode()).hexdigest() for v in ("203.0.113.80", "443", "feed.example")]  # noqa: S324
    assert sorted(hashes) == sorted(f"{h},{uuid}" for h in expected)
    # PyMISP's own feed generator, run over the event files, writes the same manifest and hashes.
    reference = tmp_path / "reference"
    reference.mkdir()
    shutil.copy(directory / f"{uuid}.json", reference)
    feed_meta_generator(reference)
    theirs = json.loads((reference / "manifest.json").read_text())
    assert theirs.keys() == manifest.keys()
    fields = ("info", "timestamp", "date", "analysis", "threat_level_id", "Orgc")
    assert {k: theirs[uuid][k] for k in fields} == {k: manifest[uuid][k] for k in fields}
    assert sorted((reference / "hashes.csv").read_text().splitlines()) == sorted(hashes)
    public = misp.write_feed(session, a.principal, tmp_path / "public", public=True)
    assert public.events == 0  # GREEN is not for the public


def test_pull_a_feed_the_hub_wrote_manifest_first_and_incrementally(
    session: Session, served: tuple[Path, str, list[str]]
) -> None:
    root, base, requested = served
    publisher, puller = make_member(session, "analyst"), make_member(session, "analyst")
    first = event(attribute("ip-dst", "198.51.100.121"), tags=("tlp:clear",), distribution="3")
    second = event(attribute("domain", "pulled.example"), distribution="2")
    for doc in (first, second):
        load(session, publisher.principal, doc)
    misp.write_feed(session, publisher.principal, root)
    status = misp.pull_feed(session, puller.principal, base + "/", fetch)
    assert (status.listed, status.fetched, status.unchanged, status.failed) == (2, 2, 0, [])
    assert requested[0] == "/manifest.json" and len(requested) == 3
    match = service.lookup(session, puller.principal, "pulled.example").matches
    assert {m.creator for m in match} == {publisher.org.name, puller.org.name}
    requested.clear()
    again = misp.pull_feed(session, puller.principal, base, fetch)
    assert (again.fetched, again.unchanged, requested) == (0, 2, ["/manifest.json"])
    first["Event"]["timestamp"] = "1700009999"  # the publisher edits one event
    first["Event"]["Attribute"].append(attribute("url", "http://pulled.example/new"))
    load(session, publisher.principal, first)
    misp.write_feed(session, publisher.principal, root)
    requested.clear()
    third = misp.pull_feed(session, puller.principal, base, fetch)
    assert (third.fetched, third.unchanged) == (1, 1)
    assert requested == ["/manifest.json", f"/{first['Event']['uuid']}.json"]
    assert service.lookup(session, puller.principal, "http://pulled.example/new").matches
    state = session.scalars(select(MispFeedEvent.timestamp).where(MispFeedEvent.org_id == puller.org.id)).all()
    assert sorted(state) == [1700000000, 1700009999]


def test_a_broken_feed_entry_is_reported_and_retried(session: Session, served: tuple[Path, str, list[str]]) -> None:
    root, base, _requested = served
    puller = make_member(session, "analyst")
    good = event(attribute("ip-dst", "198.51.100.131"))
    missing = "6b1f7e2c-0000-4000-8000-00000000beef"
    (root / f"{good['Event']['uuid']}.json").write_text(json.dumps(good))
    manifest = {
        good["Event"]["uuid"]: {"timestamp": "1700000000", "info": "good"},
        missing: {"timestamp": 1700000001, "info": "gone"},
        "../../etc/passwd": {"timestamp": 1},
    }
    (root / "manifest.json").write_text(json.dumps(manifest))
    status = misp.pull_feed(session, puller.principal, base, fetch)
    assert status.fetched == 1
    assert sorted(f.where for f in status.failed) == sorted([f"{missing}.json", "manifest.json"])
    (root / f"{missing}.json").write_text(json.dumps(event(attribute("ip-dst", "198.51.100.132"))))
    retried = misp.pull_feed(session, puller.principal, base, fetch)
    assert (retried.fetched, retried.unchanged) == (1, 1)
    (root / "manifest.json").write_text("not json")
    with pytest.raises(InvalidInput, match="manifest"):
        misp.pull_feed(session, puller.principal, base, fetch)


@needs_fixtures
def test_pull_a_feed_of_real_misp_events(session: Session, served: tuple[Path, str, list[str]]) -> None:
    """A feed made of the real CIRCL events, its manifest and hashes written by PyMISP's feed generator."""
    root, base, _requested = served
    for name in ("57c4445b-c548-4654-af0b-4be3950d210f.json", "reportlab_testfiles/long_event.json"):
        loaded = MISPEvent()
        loaded.load_file(str(FIXTURES / name))
        (root / f"{loaded.uuid}.json").write_text(json.dumps(loaded.to_feed()))
    feed_meta_generator(root)
    puller = make_member(session, "analyst")
    status = misp.pull_feed(session, puller.principal, base, fetch, tlp="clear")
    assert (status.listed, status.fetched, status.failed, status.failure_count) == (2, 2, [], 0)
    assert status.stored_count == 10 + 371
    exported = misp.export_event(session, puller.principal, "57c4445b-c548-4654-af0b-4be3950d210f")
    assert len(exported["Event"]["Attribute"]) == 9
    again = io.BytesIO(fetch(f"{base}/57c4445b-c548-4654-af0b-4be3950d210f.json"))
    assert misp.import_events(session, puller.principal, again).stored_count == 0


def _feed_sightings(directory: Path) -> dict[str, list[dict[str, str]]]:
    found: dict[str, list[dict[str, str]]] = {}
    for path in directory.glob("*.json"):
        if path.name != "manifest.json":
            for attribute_ in json.loads(path.read_text(encoding="utf-8"))["Event"].get("Attribute", []):
                found[attribute_["value"]] = attribute_.get("Sighting", [])
    return found


@pytest.mark.parametrize(
    ("tlp", "distribution"), [(Tlp.RED, "organization"), (Tlp.AMBER_STRICT, "community"), (Tlp.GREEN, "community")]
)
def test_feeds_carry_only_the_sightings_the_feed_audience_may_see(
    session: Session, tmp_path: Path, tlp: Tlp, distribution: str
) -> None:
    sharer, sighter = make_member(session, "analyst"), make_member(session, "analyst")
    shared = indicator("198.51.100.9", tlp=Tlp.CLEAR)
    report = {
        "type": "report", "spec_version": "2.1", "id": f"report--{uuid.uuid4()}", "created": stamp(0),
        "modified": stamp(0), "name": "public report", "published": stamp(0), "object_refs": [shared["id"]],
        "object_marking_refs": [TLP2_MARKINGS[Tlp.CLEAR]],
    }  # fmt: skip
    share(session, sharer.principal, shared, report, distribution="all")
    private = sighting(
        shared["id"], count=3, last_seen="2026-11-20T03:04:05.000Z", object_marking_refs=[TLP2_MARKINGS[tlp]]
    )
    share(session, sighter.principal, private, distribution=distribution)
    public = sighting(
        shared["id"], last_seen="2026-11-21T03:04:05.000Z", object_marking_refs=[TLP2_MARKINGS[Tlp.CLEAR]]
    )
    share(session, sighter.principal, public, distribution="all")
    for writer in (sharer, sighter):
        directory = tmp_path / f"feed-{writer.org.id}"
        misp.write_feed(session, writer.principal, directory, public=True)
        dates = [s["date_sighting"] for s in _feed_sightings(directory)["198.51.100.9"]]
        assert dates == [str(int(datetime(2026, 11, 21, 3, 4, 5, tzinfo=UTC).timestamp()))]
