"""The MISP import's stages apart, in one process (``python -m benchmarks.misp_stages FILE``): converting and
preparing the event (what the second process does), and the fixed cost of writing one batch (what the writer pays
per batch it stores whenever nothing more is waiting). Prints one JSON line."""

from __future__ import annotations

import io
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path


def main() -> None:
    from benchmarks.pg import migrate
    from herdsec.core.bulk import fewer_collections
    from herdsec.core.db import Database, make_engine
    from herdsec.identity import create_org, org_principal, system_principal
    from herdsec.identity.schemas import OrganizationIn
    from herdsec.identity.visibility import Distribution, Tlp
    from herdsec.intel import ingest
    from herdsec.intel.misp.convert import EventConverter
    from herdsec.intel.misp.job import audience_of
    from herdsec.intel.misp.reader import read_events
    from herdsec.intel.misp.vocab import Reach
    from herdsec.intel.prepare import Context, Preparer
    from herdsec.ioc.warninglists import shipped

    shipped()
    data = Path(sys.argv[1]).read_bytes()
    org = "11111111-1111-4111-8111-111111111111"
    context = Context(Tlp.AMBER, frozenset(), f"identity--{org}", frozenset([f"identity--{org}"]), match_lists=False)

    def convert_and_prepare() -> int:
        document = next(read_events(io.BytesIO(data)))
        converter = EventConverter(org_uuid=org, resolve_group=lambda _u, _n: None)
        prepare = Preparer(context)
        items = converter.convert(document.header, document.attributes, document.objects)
        return len([prepare(i, item.obj, item.built) for i, item in enumerate(items)])

    best, count = float("inf"), 0
    with fewer_collections():
        for _ in range(15):
            start = time.process_time()
            count = convert_and_prepare()
            best = min(best, time.process_time() - start)

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/stages.db"
        migrate(url)
        db = Database(make_engine(url))
        with db.transaction() as s:
            actor = org_principal(s, create_org(s, system_principal(), OrganizationIn(name="x", kind="sme")).id, "b")
        audience = audience_of(Reach(Distribution.COMMUNITY))
        batches = 300
        with db.transaction() as s:
            prepare = Preparer(ingest.items_context(s, actor))
            items: list[object] = []
            for i in range(batches):
                indicator = {
                    "type": "indicator",
                    "spec_version": "2.1",
                    "id": f"indicator--{uuid.uuid4()}",
                    "created": "2023-01-01T00:00:00.000Z",
                    "modified": "2023-01-01T00:00:00.000Z",
                    "pattern": f"[ipv4-addr:value = '10.1.{i // 250}.{i % 250}']",
                    "pattern_type": "stix",
                    "valid_from": "2023-01-01T00:00:00.000Z",
                }
                items += [(audience, prepare(i, indicator)), None]  # one object, then "write what you hold"
            start = time.perf_counter()
            ingest.ingest_prepared(s, actor, items)  # type: ignore[arg-type]
            per_batch = (time.perf_counter() - start) / batches
        db.dispose()
    print(json.dumps({"objects": count, "convert_prepare_cpu_s": best, "batch_fixed_ms": per_batch * 1000}))


if __name__ == "__main__":
    main()
