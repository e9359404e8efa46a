"""One measured MISP run in its own process: ``python -m benchmarks.misp_worker MODE URL FILE`` prints one JSON
line. MODE is ``hub`` (herdsec's MISP import, with storage) or ``pymisp`` (``MISPEvent().load()`` alone)."""

from __future__ import annotations

import json
import resource
import sys
import time


def main() -> None:
    mode, url, path = sys.argv[1:4]
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
        db = Database(make_engine(url))
        with db.transaction() as s:
            org = create_org(s, system_principal(), OrganizationIn(name=f"Bench {time.time()}", kind="sme"))
            actor = org_principal(s, org.id, "bench")
        start = time.perf_counter()
        with db.transaction() as s, open(path, "rb") as handle:
            status = import_events(s, actor, handle)
        count = status.events[0].attribute_count
        assert status.failure_count == 0, status.events[0].failures[:3]
    elapsed = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "attributes": count, "seconds": elapsed, "peak_rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
