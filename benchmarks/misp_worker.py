"""One measured MISP run in its own process: ``python -m benchmarks.misp_worker MODE URL FILE`` prints one JSON
line. MODE is ``hub`` (herdsec's MISP import, with storage, as the server runs it: the fork server of its second
processes started beforehand and, on SQLite, the WAL checkpoints in a background thread, as ``herdsec serve``
does), ``hub-one-process`` (the same import all in this process, as a command-line run of a small event does) or
``pymisp`` (``MISPEvent().load()`` alone)."""

from __future__ import annotations

import json
import os
import resource
import sys
import threading
import time
from pathlib import Path


def _descendants(root: int) -> list[int]:
    """This process and every process below it (the fork server and the children it forks)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found.extend(frontier)
    return found


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class _Sampler(threading.Thread):
    """The peak of the proportional set size (shared pages counted once) of this process and its descendants."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak, self.stopped = 0.0, threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(0.05):
            self.peak = max(self.peak, sum(_pss_mb(pid) for pid in _descendants(os.getpid())))


def main() -> None:
    mode, url, path = sys.argv[1:4]
    sample = sys.argv[4:] == ["sample"]  # memory of every process (costs CPU: not for the timed runs)
    if mode == "pymisp":
        from pymisp import MISPEvent

        with open(path, encoding="utf-8") as handle:
            text = handle.read()
        start = time.perf_counter()
        event = MISPEvent()
        event.load(text)
        count = len(event.attributes) + sum(len(o.attributes) for o in event.objects)
    else:
        from herdsec.core.db import Database, make_engine
        from herdsec.identity import create_org, org_principal, system_principal
        from herdsec.identity.schemas import OrganizationIn
        from herdsec.intel.misp import import_events
        from herdsec.ioc.warninglists import shipped

        shipped()  # loaded once per process in a server: not part of an import
        if mode == "hub":
            from herdsec.core import workers
            from herdsec.intel.prepare import WORKER_MODULES

            workers.warm(WORKER_MODULES, wait_ready=True)  # done when the server starts: not part of an import
        db = Database(make_engine(url))
        if mode == "hub" and url.startswith("sqlite"):
            from herdsec.core.db import Checkpointer

            Checkpointer(db.bind).start()  # type: ignore[arg-type]
        with db.transaction() as s:
            org = create_org(s, system_principal(), OrganizationIn(name=f"Bench {time.time()}", kind="sme"))
            actor = org_principal(s, org.id, "bench")
        sampler = _Sampler()
        if sample:
            sampler.start()
        start = time.perf_counter()
        with db.transaction() as s, open(path, "rb") as handle:
            status = import_events(s, actor, handle, parallel=mode == "hub")
        count = status.events[0].attribute_count
        assert status.failure_count == 0, status.events[0].failures[:3]
    elapsed = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"mode": mode, "attributes": count, "seconds": elapsed, "peak_rss_mb": rss_mb}
    if mode != "pymisp" and sample:
        sampler.stopped.set()
        result["peak_pss_all_mb"] = sampler.peak
    print(json.dumps(result))


if __name__ == "__main__":
    main()
