"""Visibility filter and API-key authentication: the two things every shared-data read pays for.

Measures, on SQLite and (when HERDSEC_TEST_DATABASE_URL is set) PostgreSQL:
* counting the rows one member may see among N shared items through ``visible_filter`` (the path every list, count
  and export of later modules takes), against the same count with no filter at all (the floor);
* latency of ``GET /api/v1/me`` against a real ``herdsec serve`` (key lookup, group load, two small queries).
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, insert, select, text
from tests.shared_table import SHARED_COLUMNS, shared_items

from benchmarks.pg import scratch_database
from herdsec.core.db import Database, make_engine
from herdsec.identity.visibility import Distribution, Tlp, Viewer, visible_filter
from herdsec.migrations import upgrade


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1 if len(samples) > 1 else 0]


def _bench_filter(url: str, rows: int) -> None:
    engine = make_engine(url)
    table = shared_items
    table.metadata.drop_all(engine)
    table.metadata.create_all(engine)
    rng = random.Random(7)
    dists = [d.value for d in Distribution]
    batch = [
        {
            "creator_org_id": rng.randint(1, 500),
            "tlp": int(rng.choice(list(Tlp)[:5])),
            "distribution": rng.choice(dists),
            "sharing_group_id": rng.randint(1, 50),
        }
        for _ in range(rows)
    ]
    with engine.begin() as conn:
        for i in range(0, rows, 20_000):
            conn.execute(insert(table), batch[i : i + 20_000])
        if engine.dialect.name == "postgresql":
            conn.execute(text(f"ANALYZE {table.name}"))
    cols = SHARED_COLUMNS
    viewer = Viewer.member(42, {3, 7, 11})
    with engine.connect() as conn:
        visible = conn.scalar(select(func.count()).select_from(table).where(visible_filter(viewer, cols)))
        p50, p99 = _timed(
            lambda: conn.scalar(select(func.count()).select_from(table).where(visible_filter(viewer, cols))), 20
        )
        f50, _ = _timed(lambda: conn.scalar(select(func.count()).select_from(table)), 20)
    print(
        f"  {engine.dialect.name:10} count visible among {rows:,}: {visible:,} rows, p50 {p50:.1f} ms, "
        f"p99 {p99:.1f} ms; unfiltered count p50 {f50:.1f} ms (ratio {p50 / max(f50, 1e-6):.1f}x)"
    )
    table.metadata.drop_all(engine)
    engine.dispose()


def _bench_auth(url: str, requests: int) -> None:
    """A real ``herdsec serve`` process on loopback, one keep-alive client: latency of an authenticated read."""
    import socket
    import subprocess
    import sys

    import httpx
    from tests.factories import make_member

    engine = make_engine(url)
    upgrade(engine)
    with Database(engine).transaction() as s:
        member = make_member(s, "analyst", name=f"Bench {uuid.uuid4().hex[:6]}")
    engine.dispose()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "HERDSEC_DATABASE_URL": url, "HERDSEC_MODE": "dev"}
    server = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).with_name("herdsec")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {member.key}"}) as client:
            for _ in range(100):
                try:
                    client.get("/healthz")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            samples = []
            start = time.perf_counter()
            for _ in range(requests):
                t0 = time.perf_counter()
                assert client.get("/api/v1/me").status_code == 200
                samples.append((time.perf_counter() - t0) * 1000)
            elapsed = time.perf_counter() - start
    finally:
        server.terminate()
        server.wait(timeout=20)
    samples.sort()
    print(
        f"  {engine.dialect.name:10} GET /api/v1/me with an API key (real server, 1 client): "
        f"p50 {statistics.median(samples):.2f} ms, p99 {samples[int(len(samples) * 0.99) - 1]:.2f} ms, "
        f"{requests / elapsed:,.0f} requests/s"
    )


def run(quick: bool = False) -> None:
    rows = 100_000 if quick else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        urls: list[tuple[str, Callable[[], None] | None]] = [(f"sqlite:///{Path(tmp) / 'bench.db'}", None)]
        pg = scratch_database()
        if pg:
            urls.append(pg)
        else:
            print("  (PostgreSQL skipped: set HERDSEC_TEST_DATABASE_URL)")
        for url, cleanup in urls:
            try:
                _bench_filter(url, rows)
                _bench_auth(url, 200 if quick else 1000)
            finally:
                if cleanup:
                    cleanup()
