"""Issue #3: ingest of STIX 2.1 bundles against ``stix2.parse`` alone, and lookup latency at scale.

For each size (100k and 1M mixed indicators; ``--quick``: 20k), in separate processes so that each peak RSS is
its own: ``stix2.parse(bundle, allow_custom=True)`` (the peer), and the hub's ingest with validation, pattern
parsing, normalisation, warninglist checks, storage and indexing into SQLite and PostgreSQL. Then lookup latency
p50/p99 over values sampled from the bundle, against the store holding everything ingested.
"""

from __future__ import annotations

import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmarks.pg import backends, migrate, run_worker
from benchmarks.stixgen import write_bundle
from herdsec.core.db import Database, make_engine

PEER_LIMIT = 100_000  # stix2.parse runs ~2,500 indicators/s here: above this size it is measured on a prefix


def _prefix(path: Path, count: int, out: Path) -> None:
    """The first ``count`` objects of a generated bundle (one object per line) as a bundle of their own."""
    with path.open(encoding="utf-8") as src, out.open("w", encoding="utf-8") as dst:
        dst.write(next(src))
        for i, line in enumerate(src):
            if i >= count or line.startswith("]"):
                break
            dst.write(line if i else line.lstrip(","))
        dst.write("]}\n")


def _lookups(url: str, sample: list[str]) -> tuple[float, float]:
    from herdsec.identity import create_org, org_principal, system_principal
    from herdsec.identity.schemas import OrganizationIn
    from herdsec.intel.lookup import lookup

    db = Database(make_engine(url))
    with db.transaction() as s:
        org = create_org(s, system_principal(), OrganizationIn(name=f"Reader {uuid.uuid4().hex[:6]}", kind="sme"))
        reader = org_principal(s, org.id, "bench")
    rng = random.Random(3)
    times = []
    with db.transaction() as s:
        for value in rng.sample(sample, min(len(sample), 1000)):
            t0 = time.perf_counter()
            result = lookup(s, reader, value)
            times.append((time.perf_counter() - t0) * 1000)
            assert result.matches, value
    db.dispose()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def run(quick: bool = False, sizes: list[int] | None = None) -> None:
    sizes = sizes or ([20_000] if quick else [100_000, 1_000_000])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in sizes:
            bundle = work / f"bundle-{size}.json"
            t0 = time.perf_counter()
            sample = write_bundle(bundle, size)
            mb = bundle.stat().st_size / 1e6
            print(f"  {size:,} indicators: bundle {mb:,.0f} MB (generated in {time.perf_counter() - t0:.0f} s)")
            peer_file = bundle
            if size > PEER_LIMIT:
                peer_file = work / "prefix.json"
                _prefix(bundle, PEER_LIMIT, peer_file)
            peer = run_worker("benchmarks.ingest_worker", "stix2", "", str(peer_file))
            peer_rate = peer["objects"] / peer["seconds"]
            print(
                f"    stix2.parse alone{' (first 100k objects)' if peer_file != bundle else ''}: "
                f"{peer_rate:,.0f} objects/s, peak RSS {peer['peak_rss_mb']:,.0f} MB"
            )
            for name, url, drop in backends(work / f"hub-{size}.db"):
                try:
                    migrate(url)
                    hub = run_worker("benchmarks.ingest_worker", "hub", url, str(bundle))
                    rate = hub["objects"] / hub["seconds"]
                    p50, p99 = _lookups(url, sample)
                    print(
                        f"    hub ingest into {name:10}: {rate:,.0f} objects/s ({rate / peer_rate:.1f}x stix2.parse), "
                        f"peak RSS {hub['peak_rss_mb']:,.0f} MB ({hub['peak_rss_mb'] / mb:.2f}x the bundle); "
                        f"lookup p50 {p50:.2f} ms, p99 {p99:.2f} ms"
                    )
                finally:
                    if drop:
                        drop()
