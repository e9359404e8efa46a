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

import statistics
import tempfile
import uuid
from pathlib import Path

from benchmarks.mispgen import write_event
from benchmarks.pg import backends, migrate, run_worker

PEER_LIMIT = 200_000
SAMPLED_FROM = 100_000  # events from this size also get a run that samples the memory of every process
ROUNDS_UP_TO = 20_000  # events up to this size are measured in several rounds (this machine varies by ±30%)
ROUNDS = 5
MODES = (("hub", "server"), ("hub-one-process", "one process"))


def run(quick: bool = False, sizes: list[int] | None = None) -> None:
    sizes = sizes or ([10_000] if quick else [10_000, 200_000])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for size in sizes:
            _one_size(work, size)
        path = work / "event-stages.json"
        write_event(path, 10_000)
        stages = run_worker("benchmarks.misp_stages", str(path))
        print(
            f"  stages, one process: converting and preparing 10,000 attributes {stages['convert_prepare_cpu_s']:.3f} "
            f"CPU-s (best of 15, what the second process does); writing them {stages['write_cpu_s']:.3f} CPU-s "
            f"(best of 3, what the writer does, warninglist checks and commit included); a write batch's fixed cost "
            f"{stages['batch_fixed_ms']:.2f} ms (one object per batch); SQLite binding 50,000 rows "
            f"{stages['bind_nulls_ms']:.0f} ms with None and bool, {stages['bind_ints_ms']:.0f} ms with ints"
        )


def _one_size(work: Path, size: int) -> None:
    """Rounds of: PyMISP's load, then the hub's import into each backend in each mode, each into a new database;
    the medians are printed, and the ratio is the median of the rounds' ratios (each against the same round's
    PyMISP run)."""
    path = work / f"event-{size}.json"
    write_event(path, size)
    mb = path.stat().st_size / 1e6
    rounds = ROUNDS if size <= ROUNDS_UP_TO else 1
    print(f"  {size:,} attributes: event {mb:,.1f} MB, {rounds} round{'s' if rounds > 1 else ''} (medians)")
    peer_seconds: list[float] = []
    peer_rss: list[float] = []
    hub_runs: dict[tuple[str, str], list[dict[str, float]]] = {}
    for number in range(rounds):
        if size <= PEER_LIMIT:
            peer = run_worker("benchmarks.misp_worker", "pymisp", "", str(path))
            peer_seconds.append(peer["seconds"])
            peer_rss.append(peer["peak_rss_mb"])
        for name, url, drop in backends(work / f"hub-{size}-{number}.db"):
            try:
                for mode, label in MODES:
                    migrate(url)
                    hub_runs.setdefault((name, label), []).append(
                        run_worker("benchmarks.misp_worker", mode, url, str(path))
                    )
                    if number == 0 and size >= SAMPLED_FROM:
                        migrate(url)
                        sampled = run_worker("benchmarks.misp_worker", mode, url, str(path), "sample")
                        hub_runs[(name, label)][-1]["peak_pss_all_mb"] = sampled["peak_pss_all_mb"]
                    if name == "sqlite":
                        url = _fresh_sqlite(url)
            finally:
                if drop:
                    drop()
    if peer_seconds:
        rates = sorted(size / s for s in peer_seconds)
        spread = f"range {rates[0]:,.0f}–{rates[-1]:,.0f}"
        peak = f"peak RSS {_median(peer_rss):,.0f} MB"
        print(f"    pymisp MISPEvent().load(): {_median(rates):,.0f} attributes/s ({spread}), {peak}")
    for (name, label), runs in hub_runs.items():
        rates = sorted(r["attributes"] / r["seconds"] for r in runs)
        ratio = ""
        if peer_seconds:
            ratios = [p / r["seconds"] for p, r in zip(peer_seconds, runs, strict=True)]
            ratio = f" ({_median(ratios):.2f}x pymisp load, rounds {min(ratios):.2f}–{max(ratios):.2f})"
        rss = _median([r["peak_rss_mb"] for r in runs])
        memory = f", all processes {runs[0]['peak_pss_all_mb']:,.0f} MB PSS" if "peak_pss_all_mb" in runs[0] else ""
        print(
            f"    hub MISP import into {name:10} ({label:11}): {_median(rates):,.0f} attributes/s{ratio}, "
            f"peak RSS {rss:,.0f} MB ({rss / mb:.2f}x the event){memory}"
        )


def _fresh_sqlite(url: str) -> str:
    """A new database file beside the last one (each run imports into an empty database)."""
    path = Path(url.removeprefix("sqlite:///"))
    fresh = path.with_name(f"{path.stem}-{uuid.uuid4().hex[:6]}.db")
    return f"sqlite:///{fresh}"


def _median(values: list[float]) -> float:
    return statistics.median(values)
