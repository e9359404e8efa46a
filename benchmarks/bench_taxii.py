"""Issue #4: TAXII 2.1 object reads against ``medallion`` (the OASIS reference server), and page latency at 1M.

Both servers run as real processes on 127.0.0.1 and are read by the same client code (``httpx``, ``limit=1000``,
following ``next`` until ``more`` is false):

1. The same 1,000, 2,000 and 10,000 indicators (``--quick``: 500 and 2,000) in the hub (``herdsec serve``,
   SQLite) and in ``medallion`` (its memory backend, loaded from a data file generated here). Objects/s for each
   and the ratio. medallion sorts and filters its whole collection on the first page of a read (quadratic in the
   collection), so its read is time-boxed: if the first page takes longer than the box (300 s), that is reported
   instead. The smaller sizes show how its first page grows.
2. 1,000,000 indicators (``--quick``: 20,000) in the hub, on SQLite and (with ``HERDSEC_TEST_DATABASE_URL``) on
   PostgreSQL: p50/p99 of 1,000-object pages and the time of a full read of the collection.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from sqlalchemy import text

from benchmarks.pg import scratch_database
from benchmarks.stixgen import write_bundle
from herdsec.core.db import Database, make_engine
from herdsec.migrations import upgrade

TAXII = "application/taxii+json;version=2.1"
PAGE = 1000
MEDALLION_BOX = 300.0  # seconds allowed for medallion's first page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(url: str, proc: subprocess.Popen[bytes], auth: httpx.Auth, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        try:
            if httpx.get(url, auth=auth, headers={"Accept": TAXII}, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


@contextmanager
def _process(args: list[str], env: dict[str, str], ready: str, auth: httpx.Auth) -> Iterator[None]:
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        _wait(ready, proc, auth)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def read_all(
    objects_url: str, auth: httpx.Auth, *, first_page_timeout: float | None = None
) -> tuple[int, float, list[float]]:
    """(objects read, seconds, per-page milliseconds): a whole collection, page by page. A page's time is its HTTP
    round trip with the body read; the full read also includes parsing the JSON in the client."""
    pages: list[float] = []
    count = 0
    params: dict[str, str] = {"limit": str(PAGE)}
    start = time.perf_counter()
    with httpx.Client(auth=auth, headers={"Accept": TAXII}, timeout=first_page_timeout or 120) as client:
        while True:
            t0 = time.perf_counter()
            response = client.get(objects_url, params=params)
            response.raise_for_status()
            pages.append((time.perf_counter() - t0) * 1000)
            body = response.json()
            count += len(body.get("objects", []))
            if not body.get("more"):
                break
            params = {"limit": str(PAGE), "next": body["next"]}
    return count, time.perf_counter() - start, pages


# --- the hub -----------------------------------------------------------------------------------------------------


def _load_hub(url: str, bundle: Path) -> tuple[str, str]:
    """Ingest the bundle as one member (TLP:GREEN, community); returns (reader's API key, community collection)."""
    from herdsec.identity import create_api_key, create_org, org_principal, system_principal
    from herdsec.identity.schemas import OrganizationIn
    from herdsec.intel.ingest import ingest_bundle
    from herdsec.intel.taxii import collection_id

    engine = make_engine(url)
    upgrade(engine)
    db = Database(engine)
    with db.transaction() as s:
        sharer = create_org(s, system_principal(), OrganizationIn(name=f"Sharer {uuid.uuid4().hex[:6]}", kind="bank"))
        reader = create_org(s, system_principal(), OrganizationIn(name=f"Reader {uuid.uuid4().hex[:6]}", kind="sme"))
        actor = org_principal(s, sharer.id, "bench")
        key = create_api_key(s, org_principal(s, reader.id, "bench"), role="viewer", label="bench").key
    with db.transaction() as s, bundle.open("rb") as handle:
        status = ingest_bundle(s, actor, handle, tlp="green", distribution="community")
        assert status.failure_count == 0, status.failures[:3]
    if engine.dialect.name == "postgresql":
        # A hub's autovacuum analyses a table after a bulk load; the test server here runs with autovacuum off, and
        # without statistics the planner scans the whole table instead of walking the primary key.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE stix_objects"))
    db.dispose()
    return key, collection_id("community")


@contextmanager
def _hub(url: str, key: str) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "HERDSEC_DATABASE_URL": url, "HERDSEC_MODE": "dev"}
    exe = str(Path(sys.executable).with_name("herdsec"))
    base = f"http://127.0.0.1:{port}"
    with _process([exe, "serve", "--port", str(port)], env, f"{base}/taxii2/", _Bearer(key)):
        yield base


class _Bearer(httpx.Auth):
    def __init__(self, key: str) -> None:
        self.key = key

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.key}"
        yield request


# --- medallion ---------------------------------------------------------------------------------------------------


def _medallion_data(bundle: Path, out: Path, collection: str) -> int:
    objects = json.loads(bundle.read_text(encoding="utf-8"))["objects"]
    base = 1_800_000_000.0
    manifest = [
        {
            "id": o["id"],
            "date_added": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(base + i)) + ".000000Z",
            "version": o["modified"],
            "media_type": "application/stix+json;version=2.1",
        }
        for i, o in enumerate(objects)
    ]
    data = {
        "/discovery": {"title": "medallion", "default": "http://127.0.0.1/bench/", "api_roots": ["bench/"]},
        "bench": {
            "information": {"title": "bench", "versions": [TAXII], "max_content_length": 100_000_000},
            "status": [],
            "collections": [
                {
                    "id": collection,
                    "title": "bench",
                    "can_read": True,
                    "can_write": True,
                    "media_types": ["application/stix+json;version=2.1"],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }
    out.write_text(json.dumps(data), encoding="utf-8")
    return len(objects)


@contextmanager
def _medallion(work: Path, bundle: Path) -> Iterator[str]:
    collection = str(uuid.uuid4())
    _medallion_data(bundle, work / "medallion-data.json", collection)
    config = {
        "backend": {
            "module": "medallion.backends.memory_backend",
            "module_class": "MemoryBackend",
            "filename": str(work / "medallion-data.json"),
            "session_timeout": 3600,
        },
        "users": {"bench": "bench-password"},
        "taxii": {"max_page_size": PAGE},
    }
    (work / "medallion.json").write_text(json.dumps(config), encoding="utf-8")
    port = _free_port()
    exe = str(Path(sys.executable).with_name("medallion"))
    base = f"http://127.0.0.1:{port}"
    auth = httpx.BasicAuth("bench", "bench-password")
    args = [exe, "--host", "127.0.0.1", "--port", str(port), str(work / "medallion.json")]
    with _process(args, dict(os.environ), f"{base}/bench/", auth):
        yield f"{base}/bench/collections/{collection}/objects/"


# --- the runs ----------------------------------------------------------------------------------------------------


def compare(work: Path, size: int, box: float) -> None:
    bundle = work / f"peer-{size}.json"
    write_bundle(bundle, size, seed=11)
    url = f"sqlite:///{work / f'peer-hub-{size}.db'}"
    key, collection = _load_hub(url, bundle)
    with _hub(url, key) as base:
        objects_url = f"{base}/taxii2/hub/collections/{collection}/objects/"
        read_all(objects_url, _Bearer(key))  # warm-up
        count, seconds, pages = read_all(objects_url, _Bearer(key))
    assert count == size, count
    hub_rate = count / seconds
    print(
        f"  {size:,} objects: hub (SQLite) {hub_rate:,.0f} objects/s, full read {seconds:.2f} s, "
        f"first page {pages[0]:.0f} ms, page p50 {statistics.median(pages):.1f} ms"
    )
    with _medallion(work, bundle) as peer_url:
        auth = httpx.BasicAuth("bench", "bench-password")
        try:
            count, seconds, pages = read_all(peer_url, auth, first_page_timeout=box)
        except httpx.TimeoutException:
            print(
                f"  {size:,} objects: medallion (memory backend) gave no first page within {box:.0f} s "
                f"(time-boxed): the hub is over {box / (size / hub_rate):,.0f}x faster"
            )
            return
    assert count == size, count
    rate = count / seconds
    print(
        f"  {size:,} objects: medallion (memory backend) {rate:,.0f} objects/s, full read {seconds:.2f} s, "
        f"first page {pages[0] / 1000:.1f} s; hub/medallion {hub_rate / rate:,.0f}x"
    )


def at_scale(work: Path, size: int) -> None:
    bundle = work / f"scale-{size}.json"
    t0 = time.perf_counter()
    write_bundle(bundle, size, seed=5)
    print(f"  {size:,} indicators generated in {time.perf_counter() - t0:.0f} s")
    targets: list[tuple[str, str, Callable[[], None] | None]] = [("sqlite", f"sqlite:///{work / 'scale.db'}", None)]
    pg = scratch_database()
    if pg:
        targets.append(("postgresql", pg[0], pg[1]))
    for name, url, drop in targets:
        try:
            t0 = time.perf_counter()
            key, collection = _load_hub(url, bundle)
            print(f"    {name}: loaded in {time.perf_counter() - t0:.0f} s")
            with _hub(url, key) as base:
                objects_url = f"{base}/taxii2/hub/collections/{collection}/objects/"
                count, seconds, pages = read_all(objects_url, _Bearer(key))
            assert count == size, count
            pages.sort()
            print(
                f"    {name}: page of {PAGE:,} p50 {statistics.median(pages):.1f} ms, "
                f"p99 {pages[int(len(pages) * 0.99) - 1]:.1f} ms; full read of {count:,} objects {seconds:.1f} s "
                f"({count / seconds:,.0f} objects/s)"
            )
        finally:
            if drop:
                drop()


def run(quick: bool = False, sizes: list[int] | None = None) -> None:
    """``sizes``: the collection sizes compared with medallion, then the size of the hub at scale (the last)."""
    chosen = sizes or ([500, 2_000, 20_000] if quick else [1_000, 2_000, 10_000, 1_000_000])
    with tempfile.TemporaryDirectory() as tmp:
        for size in chosen[:-1]:
            compare(Path(tmp), size, MEDALLION_BOX)
        at_scale(Path(tmp), chosen[-1])
