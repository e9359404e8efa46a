"""Issue #4: MISP import of a 10k-attribute event against PyMISP merely loading it, and a 200k-attribute event
streamed in bounded memory.

Each run in its own process (peak RSS is its own). The hub runs twice: as the server runs an import (conversion
in a second process forked by the fork server it started at start-up, writing in this one) and all in one process.
For the streamed event a second run of each gives the peak PSS of all the hub's processes (the fork server and its
child included, sampled every 50 ms: too costly to sample in the timed run). The peer is
``pymisp.MISPEvent().load()`` of the same JSON text (parsing and building PyMISP's objects, no storage). The hub's
number includes reading, the MISP → STIX mapping, validation, pattern parsing, value normalisation, warninglist
checks and storage with the value index.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.mispgen import write_event
from benchmarks.pg import backends, migrate, run_worker

PEER_LIMIT = 200_000
SAMPLED_FROM = 100_000  # events from this size also get a run that samples the memory of every process


def run(quick: bool = False, sizes: list[int] | None = None) -> None:
    sizes = sizes or ([10_000] if quick else [10_000, 200_000])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in sizes:
            path = work / f"event-{size}.json"
            write_event(path, size)
            mb = path.stat().st_size / 1e6
            print(f"  {size:,} attributes: event {mb:,.1f} MB")
            peer = run_worker("benchmarks.misp_worker", "pymisp", "", str(path)) if size <= PEER_LIMIT else None
            if peer:
                peer_rate = peer["attributes"] / peer["seconds"]
                print(
                    f"    pymisp MISPEvent().load(): {peer_rate:,.0f} attributes/s, "
                    f"peak RSS {peer['peak_rss_mb']:,.0f} MB"
                )
            for name, url, drop in backends(work / f"hub-{size}.db"):
                try:
                    migrate(url)
                    for mode, label in (("hub", "server"), ("hub-one-process", "one process")):
                        hub = run_worker("benchmarks.misp_worker", mode, url, str(path))
                        rate = hub["attributes"] / hub["seconds"]
                        ratio = f" ({rate / peer_rate:.2f}x pymisp load)" if peer else ""
                        memory = ""
                        if size >= SAMPLED_FROM:
                            migrate(url)
                            sampled = run_worker("benchmarks.misp_worker", mode, url, str(path), "sample")
                            memory = f", all processes {sampled['peak_pss_all_mb']:,.0f} MB PSS"
                        print(
                            f"    hub MISP import into {name:10} ({label:11}): {rate:,.0f} attributes/s{ratio}, "
                            f"peak RSS {hub['peak_rss_mb']:,.0f} MB ({hub['peak_rss_mb'] / mb:.2f}x the event)"
                            f"{memory}"
                        )
                finally:
                    if drop:
                        drop()
