"""Issue #4: detection exports of a hub holding 1M indicators, in every format (values/s, peak RSS).

A bundle of mixed indicators (IPv4, domain, URL, SHA-256, e-mail, valid from now, so that decay keeps them) is
ingested once per backend; then each format is exported in its own process by a member that sees everything,
through the whole rule (visibility, warninglists, decay with sightings, false positives, one record per value).
``floor`` is the query alone (the joined rows read, no rule, no writer). No peer is named for exports. Rates are
given per second of wall time and per second of this process's CPU time (the machine is shared; for SQLite, which
runs in the process, the CPU rate includes the database's work; for PostgreSQL it does not).
"""

from __future__ import annotations

import json
import os
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from benchmarks.pg import backends, migrate, run_worker
from benchmarks.stixgen import KINDS, value
from herdsec.core.db import make_engine

FORMATS = ("floor", "txt", "csv", "suricata", "suricata-dataset", "zeek", "rpz", "hosts", "nft", "ipset", "stix")


def write_bundle(path: Path, count: int, seed: int = 11) -> None:
    rng = random.Random(seed)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}"})[:-1] + ', "objects": [\n')
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            _v, pattern = value(kind, i, rng)
            obj = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created": now,
                "modified": now,
                "name": f"bench {kind} {i}",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": now,
            }
            out.write(("," if i else "") + json.dumps(obj) + "\n")
        out.write("]}\n")


def run(quick: bool = False, sizes: list[int] | None = None) -> None:
    size = (sizes or [20_000 if quick else 1_000_000])[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        bundle = work / "bundle.json"
        write_bundle(bundle, size)
        print(f"  {size:,} indicators ({bundle.stat().st_size / 1e6:,.0f} MB bundle)")
        # HERDSEC_BENCH_EXPORT_BACKENDS=postgresql runs one backend only (default: both, PostgreSQL when reachable).
        wanted = os.environ.get("HERDSEC_BENCH_EXPORT_BACKENDS", "sqlite,postgresql").split(",")
        for name, url, drop in backends(work / "hub.db", tuple(wanted)):
            try:
                migrate(url)
                t0 = time.perf_counter()
                run_worker("benchmarks.ingest_worker", "hub", url, str(bundle))
                print(f"    {name}: ingested in {time.perf_counter() - t0:.0f} s")
                if name == "postgresql":  # fresh statistics, as autovacuum would gather after a bulk load
                    analyze = make_engine(url, isolation_level="AUTOCOMMIT")
                    with analyze.connect() as conn:
                        conn.execute(text("ANALYZE"))
                    analyze.dispose()
                for fmt in FORMATS:
                    out = work / f"out-{name}-{fmt}"
                    out.mkdir()
                    result = run_worker("benchmarks.export_worker", url, fmt, str(out))
                    rate = result["values"] / result["seconds"]
                    cpu_rate = result["values"] / max(result["cpu_seconds"], 1e-9)
                    print(
                        f"    {name:10} {fmt:16}: {result['values']:>9,.0f} read in {result['seconds']:6.1f} s "
                        f"= {rate:>8,.0f}/s ({cpu_rate:>8,.0f}/s of CPU), peak RSS {result['peak_rss_mb']:4.0f} MB, "
                        f"output {result['bytes'] / 1e6:6.1f} MB",
                        flush=True,
                    )
            finally:
                if drop:
                    drop()
