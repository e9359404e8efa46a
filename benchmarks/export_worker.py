"""One measured export in its own process (so that peak RSS is the export's own):
``python -m benchmarks.export_worker URL FORMAT OUT`` prints one JSON line. FORMAT ``floor`` only reads the joined
rows the selection reads, without the rule or a writer (the cost of the query alone)."""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _reader(db: object) -> object:
    from herdsec.identity import create_org, org_principal, system_principal
    from herdsec.identity.schemas import OrganizationIn

    with db.transaction() as s:  # type: ignore[attr-defined]
        org = create_org(s, system_principal(), OrganizationIn(name=f"Reader {time.time()}", kind="sme"))
        return org_principal(s, org.id, "bench")


def _floor(db: object) -> int:
    from sqlalchemy import select

    from herdsec.intel.models import Observable, StixObject

    count = 0
    with db.transaction() as s:  # type: ignore[attr-defined]
        result = s.execute(
            select(Observable.value, StixObject.data)
            .join(StixObject, StixObject.id == Observable.object_id)
            .execution_options(yield_per=5000)
        )
        for _row in result:
            count += 1
    return count


def main() -> None:
    from herdsec.core.db import Database, make_engine
    from herdsec.intel.exports import get_format
    from herdsec.intel.exports import service as exports

    url, fmt, out = sys.argv[1:4]
    db = Database(make_engine(url))
    actor = _reader(db)
    count = [0]

    def tick() -> None:
        count[0] += 1

    start, cpu = time.perf_counter(), time.process_time()
    size = 0
    if fmt == "floor":
        count[0] = _floor(db)
    else:
        parts = get_format(fmt).parts
        with db.transaction() as s:
            for part in parts:
                request = exports.ExportRequest(format=fmt, part=part.name)
                prepared = exports.prepare(s, actor, request)  # type: ignore[arg-type]
                path = Path(out) / part.filename
                exports.write_text(path, exports.chunks(s, actor, prepared, tick=tick))  # type: ignore[arg-type]
                size += path.stat().st_size
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "format": fmt,
                "values": count[0],
                "seconds": elapsed,
                "cpu_seconds": cpu,
                "peak_rss_mb": rss_mb,
                "bytes": size,
            }
        )
    )


if __name__ == "__main__":
    main()
