"""One measured run in its own process (so that peak RSS is the run's own): ``python -m benchmarks.ingest_worker
MODE URL FILE`` prints one JSON line. MODE is ``hub`` (herdsec ingest) or ``stix2`` (stix2.parse alone)."""

from __future__ import annotations

import json
import resource
import sys
import time


def main() -> None:
    mode, url, path = sys.argv[1:4]
    start = time.perf_counter()
    if mode == "stix2":
        import stix2

        with open(path, encoding="utf-8") as handle:
            parsed = stix2.parse(handle.read(), allow_custom=True)
        count = len(parsed.objects)
    else:
        from herdsec.core.db import Database, make_engine
        from herdsec.identity import create_org, org_principal, system_principal
        from herdsec.identity.schemas import OrganizationIn
        from herdsec.intel.ingest import ingest_bundle

        db = Database(make_engine(url))
        with db.transaction() as s:
            org = create_org(s, system_principal(), OrganizationIn(name=f"Bench {time.time()}", kind="sme"))
            actor = org_principal(s, org.id, "bench")
        start = time.perf_counter()
        with db.transaction() as s, open(path, "rb") as handle:
            status = ingest_bundle(s, actor, handle, tlp="green")
        count = status.stored_count
        assert status.failure_count == 0, status.failures[:3]
    elapsed = time.perf_counter() - start
    # This process and the reader process it may start: the sum of their peaks bounds the run's peak.
    rss_mb = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    ) / 1024
    print(json.dumps({"mode": mode, "objects": count, "seconds": elapsed, "peak_rss_mb": rss_mb}))


if __name__ == "__main__":
    main()
