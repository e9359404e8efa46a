"""The hub side of the scanner: the scan set (visibility, decay, warninglists, false positives, changes since a
cursor) and, against a real hub served by uvicorn on 127.0.0.1, ``herdsec scan --hub`` with its cache, a hub that is
down, and sightings that the sharing bank then sees."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.db import Database, make_engine
from herdsec.core.settings import load_settings
from herdsec.intel import scanset, service
from herdsec.intel.schemas import SightingIn
from herdsec.intel.stix import format_timestamp
from herdsec.migrations import upgrade
from herdsec.web.app import create_app
from tests.factories import Member, bearer, make_member
from tests.intel_factories import indicator, share

HERDSEC = str(Path(sys.executable).with_name("herdsec"))


def fresh(value: str, **extra: Any) -> dict[str, Any]:
    """An indicator valid from now (so that decay keeps it active)."""
    now = format_timestamp(utcnow())
    pattern = None
    if not value[0].isdigit():
        pattern = f"[domain-name:value = '{value}']"
    obj = indicator(value, pattern=pattern, **extra)
    obj.update(valid_from=now, created=now, modified=now)
    return obj


def _values(lines: list[dict[str, Any]], op: str = "add") -> set[tuple[str, str]]:
    return {(line["type"], line["value"]) for line in lines if line.get("op") == op}


def test_scan_set_rules_and_changes(session: Session) -> None:
    bank = make_member(session, "analyst", kind="bank")
    sme = make_member(session, "analyst")
    other = make_member(session, "analyst")
    kept, revoked, doubted = fresh("c2.bank.example"), fresh("5.188.10.20"), fresh("doubt.example")
    share(session, bank.principal, kept, revoked, doubted, fresh("8.8.8.8"), tlp="green")
    share(session, bank.principal, fresh("red.example"), tlp="red")
    share(session, bank.principal, fresh("private.example"), tlp="green", distribution="organization")
    old = indicator("5.188.10.21")
    old.update(valid_from="2020-01-01T00:00:00Z", created="2020-01-01T00:00:00Z", modified="2020-01-01T00:00:00Z")
    share(session, bank.principal, old, tlp="green")
    service.record_sighting(session, other.principal, SightingIn(object_id=doubted["id"], kind="false-positive"))

    lines = list(scanset.changes(session, sme.principal, None))
    assert lines[0] == {"full": True} and lines[-1]["full"] is True
    # visible, current, unrevoked, well-formed, not warninglisted (8.8.8.8), not RED (bulk), not expired (old),
    # not reported as a false positive (doubt.example), not another organization's private object
    assert _values(lines) == {("domain", "c2.bank.example"), ("ipv4", "5.188.10.20")}
    cursor = lines[-1]["cursor"]

    later = format_timestamp(utcnow())
    share(session, bank.principal, {**revoked, "revoked": True, "modified": later}, tlp="green")
    share(session, bank.principal, fresh("new.example"), tlp="green")
    changes = list(scanset.changes(session, sme.principal, cursor))
    assert changes[0] == {"full": False}
    assert _values(changes, "remove") == {("ipv4", "5.188.10.20")}
    assert _values(changes) == {("domain", "new.example")}
    assert list(scanset.changes(session, sme.principal, changes[-1]["cursor"]))[1:-1] == []


def test_scan_set_cursor_is_checked(client: TestClient, session: Session) -> None:
    sme = make_member(session, "analyst")
    response = client.get("/api/v1/intel/scanset", params={"after": "x"}, headers=bearer(sme.key))
    assert response.status_code == 422  # InvalidInput
    assert client.get("/api/v1/intel/scanset").status_code == 401
    ok = client.get("/api/v1/intel/scanset", headers=bearer(sme.key))
    assert ok.status_code == 200 and ok.headers["content-type"].startswith("application/x-ndjson")


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def serving(database: Database, timeout: float = 15.0) -> Iterator[str]:
    """The hub on 127.0.0.1 (a free port) until the block ends."""
    settings = load_settings(mode="dev", database_url="sqlite://", default_language="en")
    app = create_app(settings, database=database)
    sock = _free_socket()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    try:
        deadline = time.monotonic() + timeout
        while not server.started:
            assert thread.is_alive() and time.monotonic() < deadline, "the hub did not start"
            time.sleep(0.02)
        assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture
def hub_db(tmp_path: Path) -> Iterator[Database]:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'hub.db'}"))
    upgrade(database.bind)
    yield database
    database.dispose()


def _scan(url: str, key: str, cache: Path, log: Path, *extra: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [HERDSEC, "scan", "--hub", url, "--api-key", key, "--cache", str(cache), "--output", "jsonl", *extra, str(log)],
        capture_output=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "200"},
    )


def test_scan_against_a_real_hub_reports_sightings_and_survives_the_hub_going_down(
    hub_db: Database, tmp_path: Path
) -> None:
    with hub_db.transaction() as session:
        bank: Member = make_member(session, "analyst", kind="bank", name="Ngân hàng Chia sẻ")
        sme: Member = make_member(session, "analyst", name="Công ty Quét")
        c2 = fresh("c2.bank.example")
        share(session, bank.principal, c2, fresh("5.188.10.30"), tlp="green")
    log = tmp_path / "query.log"
    log.write_bytes(
        b"01-Dec-2026 06:12:33.000 client @0x1 10.0.0.5#1 (www.c2.bank.example): query: www.c2.bank.example IN A\n"
        b"01-Dec-2026 06:14:00.000 client @0x1 10.0.0.5#1 (c2.bank.example): query: c2.bank.example IN A\n"
        b"01-Dec-2026 06:15:00.000 client @0x1 10.0.0.6#1 (notc2.bank.example.net): query: x IN A\n"
    )
    cache = tmp_path / "cache"
    with serving(hub_db) as url:
        result = _scan(url, sme.key, cache, log, "--report-sightings")
        assert result.returncode == 1, result.stderr
        assert [(r["line"], r["indicator"]) for r in map(json.loads, result.stdout.splitlines())] == [
            (1, "c2.bank.example"),
            (2, "c2.bank.example"),
        ]
        assert b"1 sightings recorded at the hub" in result.stderr
        with hub_db.transaction() as session:
            match = service.lookup(session, bank.principal, "c2.bank.example").matches[0]
            assert match.sightings is not None and match.sightings.count == 2
            assert match.sightings.reporters == ["Công ty Quét"]  # the sharing bank sees who saw it
            assert match.sightings.first_seen is not None and match.sightings.first_seen.minute == 12
            share(session, bank.principal, {**c2, "revoked": True, "modified": format_timestamp(utcnow())}, tlp="green")
            share(session, bank.principal, fresh("later.example"), tlp="green")
        log.write_bytes(b"query: www.c2.bank.example\nquery: later.example\n")
        updated = _scan(url, sme.key, cache, log)
        assert [r["indicator"] for r in map(json.loads, updated.stdout.splitlines())] == ["later.example"]
        state = json.loads(next(cache.glob("scanset-*/state.json")).read_text())
        assert state["cursor"]
    down = _scan(url, sme.key, cache, log)
    assert down.returncode == 1, down.stderr
    assert b"unreachable" in down.stderr and b"using the cached scan set" in down.stderr
    assert [r["indicator"] for r in map(json.loads, down.stdout.splitlines())] == ["later.example"]
    no_cache = _scan(url, sme.key, tmp_path / "empty-cache", log)
    assert no_cache.returncode == 2 and b"unreachable" in no_cache.stderr
