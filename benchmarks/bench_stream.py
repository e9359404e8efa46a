"""Real time (issue #5): publish-to-receive latency and fan-out through ``GET /api/v1/stream``.

A real ``herdsec serve`` process on loopback (SQLite, and PostgreSQL when HERDSEC_TEST_DATABASE_URL is set);
N subscribers are asyncio httpx streams in this process. One member publishes indicators one by one through
``POST /api/v1/intel/bundles``; every subscriber (another member) must receive each one. Measured:

* latency from the publish request's start to each subscriber receiving it (includes the ingest of the POST,
  reported on its own), and from the publisher's acknowledgement (the commit is done by then);
* fan-out: one bundle of B indicators, deliveries (N × B) per second until every subscriber has all of them;
* lost events: published and acknowledged but never received by some subscriber (must be 0).

The issue names no peer (MISP's ZeroMQ and OpenCTI's Redis streams are not run here); the target is p99 under
250 ms at 500 subscribers with no event lost.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from benchmarks.pg import scratch_database
from herdsec.core.db import Database, make_engine
from herdsec.migrations import upgrade

SUBSCRIBERS = (1, 100, 500)


def _members(url: str) -> tuple[str, str]:
    from tests.factories import make_member

    engine = make_engine(url)
    upgrade(engine)
    with Database(engine).transaction() as s:
        publisher = make_member(s, "analyst", name=f"Bench pub {uuid.uuid4().hex[:6]}")
        subscriber = make_member(s, "viewer", name=f"Bench sub {uuid.uuid4().hex[:6]}")
    engine.dispose()
    return publisher.key, subscriber.key


def _serve(url: str) -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "HERDSEC_DATABASE_URL": url, "HERDSEC_MODE": "dev"}
    proc = subprocess.Popen(  # noqa: S603
        [str(Path(sys.executable).with_name("herdsec")), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("herdsec serve did not start")


def _bundle(values: list[str]) -> dict[str, object]:
    stamp = "2026-11-01T10:00:00.000Z"
    return {
        "type": "bundle",
        "id": f"bundle--{uuid.uuid4()}",
        "objects": [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.uuid4()}",
                "created": stamp,
                "modified": stamp,
                "name": f"bench {v}",
                "pattern": f"[ipv4-addr:value = '{v}']",
                "pattern_type": "stix",
                "valid_from": stamp,
            }
            for v in values
        ],
    }


class Subscriber:
    def __init__(self) -> None:
        self.opened = asyncio.Event()
        self.seen: dict[str, float] = {}
        self.count = 0

    async def run(self, client: httpx.AsyncClient, key: str) -> None:
        """Raw chunks, scanned for the STIX ids: the client's own cost stays small next to the server's."""
        headers = {"Authorization": f"Bearer {key}"}
        pending = b""
        async with client.stream("GET", "/api/v1/stream", headers=headers) as response:
            async for chunk in response.aiter_raw():
                now = time.perf_counter()
                pending += chunk
                *blocks, pending = pending.split(b"\n\n")
                for block in blocks:
                    start = block.find(b'data: {"event_id"')
                    if start < 0:
                        self.opened.set()
                        continue
                    at = block.find(b'"id":"', start) + 6
                    self.seen[block[at : block.find(b'"', at)].decode()] = now
                    self.count += 1


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _round(
    base: str, pub_key: str, sub_key: str, n: int, events: int, burst: int, backend: str, server_pid: int
) -> None:
    limits = httpx.Limits(max_connections=n + 20, max_keepalive_connections=n + 20)
    timeout = httpx.Timeout(30.0, read=None)
    async with (
        httpx.AsyncClient(base_url=base, limits=limits, timeout=timeout) as client,
        httpx.AsyncClient(base_url=base, timeout=60, headers={"Authorization": f"Bearer {pub_key}"}) as pub,
    ):
        subs = [Subscriber() for _ in range(n)]
        tasks = [asyncio.create_task(s.run(client, sub_key)) for s in subs]
        await asyncio.wait_for(asyncio.gather(*(s.opened.wait() for s in subs)), 120)
        published: list[tuple[str, float, float]] = []
        cpu_server, cpu_client = _cpu_seconds(server_pid), _own_cpu()
        for i in range(events):
            body = _bundle([f"10.{n % 250}.{i // 250}.{i % 250 + 1}"])
            t0 = time.perf_counter()
            response = await pub.post("/api/v1/intel/bundles?tlp=green", json=body)
            acked = time.perf_counter()
            assert response.status_code == 200, response.text
            published.append((body["objects"][0]["id"], t0, acked))  # type: ignore[index]
            await asyncio.sleep(0.1)
        deadline = time.perf_counter() + 10
        while time.perf_counter() < deadline and not all(all(p[0] in s.seen for p in published) for s in subs):
            await asyncio.sleep(0.05)
        from_start = sorted((s.seen[i] - t0) * 1000 for s in subs for i, t0, _a in published if i in s.seen)
        from_ack = sorted(max(s.seen[i] - a, 0) * 1000 for s in subs for i, _t, a in published if i in s.seen)
        lost = sum(1 for s in subs for p in published if p[0] not in s.seen)
        ingest = statistics.median((a - t) * 1000 for _i, t, a in published)

        cpu_server = (_cpu_seconds(server_pid) - cpu_server) * 1e6 / max(n * events, 1)
        cpu_client = (_own_cpu() - cpu_client) * 1e6 / max(n * events, 1)
        before = [s.count for s in subs]
        body = _bundle([f"11.{n % 250}.{i // 250}.{i % 250 + 1}" for i in range(burst)])
        t0 = time.perf_counter()
        response = await pub.post("/api/v1/intel/bundles?tlp=green", json=body)
        acked = time.perf_counter()
        assert response.status_code == 200
        deadline = acked + 120
        while time.perf_counter() < deadline and any(s.count - b < burst for s, b in zip(subs, before, strict=True)):
            await asyncio.sleep(0.02)
        done = time.perf_counter()
        delivered = sum(min(s.count - b, burst) for s, b in zip(subs, before, strict=True))
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def pct(values: list[float], q: float) -> float:
        return values[min(int(len(values) * q), len(values) - 1)] if values else float("nan")

    print(
        f"  {backend:10} {n:4} subscribers: publish→receive p50 {pct(from_start, 0.5):6.1f} ms, "
        f"p99 {pct(from_start, 0.99):6.1f} ms (POST ingest p50 {ingest:5.1f} ms); ack→receive p50 "
        f"{pct(from_ack, 0.5):5.1f} ms, p99 {pct(from_ack, 0.99):6.1f} ms; lost {lost}/{n * events}; "
        f"fan-out of {burst} in one bundle: {delivered / max(done - acked, 1e-6):,.0f} events/s "
        f"({delivered}/{n * burst} in {done - acked:.2f} s after the ack); CPU per delivered event: server "
        f"{cpu_server:.0f} µs (incl. the ingests), subscribers {cpu_client:.0f} µs",
        flush=True,
    )


def _loop_factory() -> Any:
    """uvloop for the subscribers too (the server uses it through uvicorn), when installed."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _bench(url: str, backend: str, quick: bool) -> None:
    pub_key, sub_key = _members(url)
    proc, base = _serve(url)
    try:
        httpx.post(  # warm up: the first ingest of a process loads the warninglists
            f"{base}/api/v1/intel/bundles?tlp=green",
            json=_bundle(["192.0.2.1"]),
            headers={"Authorization": f"Bearer {pub_key}"},
            timeout=60,
        )
        for n in SUBSCRIBERS[:2] if quick else SUBSCRIBERS:
            with asyncio.Runner(loop_factory=_loop_factory()) as runner:
                runner.run(
                    _round(base, pub_key, sub_key, n, 10 if quick else 30, 200 if n >= 500 else 1000, backend, proc.pid)
                )
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def run(quick: bool = False) -> None:
    print(f"  machine: {os.cpu_count()} cores shared with other work; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        _bench(f"sqlite:///{Path(tmp) / 'stream.db'}", "sqlite", quick)
    pg = scratch_database()
    if pg is None:
        print("  (PostgreSQL skipped: set HERDSEC_TEST_DATABASE_URL)")
        return
    url, drop = pg
    try:
        _bench(url, "postgresql", quick)
    finally:
        drop()
