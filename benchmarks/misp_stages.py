"""The MISP import's stages apart, in one process (``python -m benchmarks.misp_stages FILE``): converting and
preparing the event (what the second process does), writing its prepared rows (what the writer does, warninglist
checks included), the fixed cost of writing one batch (what the writer pays per batch it stores whenever nothing
more is waiting), and what SQLite's driver pays to bind ``None`` and ``bool`` rather than ints (why the writer's rows
carry 0/1 and leave NULL columns out). Prints one JSON line."""

from __future__ import annotations

import io
import json
import sqlite3
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

    writer = min(_write_once(data, run) for run in range(3))

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
    bind_nulls, bind_ints = _binding_ms()
    print(
        json.dumps(
            {
                "objects": count,
                "convert_prepare_cpu_s": best,
                "write_cpu_s": writer,
                "batch_fixed_ms": per_batch * 1000,
                "bind_nulls_ms": bind_nulls,
                "bind_ints_ms": bind_ints,
            }
        )
    )


def _write_once(data: bytes, run: int) -> float:
    """CPU seconds the writer spends storing the event's prepared rows (checking their values against the
    warninglists, as the server's writer does) and committing, into a new SQLite database."""
    from dataclasses import replace

    from benchmarks.pg import migrate
    from herdsec.core.bulk import fewer_collections
    from herdsec.core.db import Database, make_engine
    from herdsec.identity import create_org, org_principal, system_principal
    from herdsec.identity.schemas import OrganizationIn
    from herdsec.intel import ingest
    from herdsec.intel.misp.convert import EventConverter
    from herdsec.intel.misp.job import audience_of
    from herdsec.intel.misp.reader import read_events
    from herdsec.intel.prepare import Preparer

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/write-{run}.db"
        migrate(url)
        db = Database(make_engine(url))
        with db.transaction() as s:
            org = create_org(s, system_principal(), OrganizationIn(name="w", kind="sme"))
            actor = org_principal(s, org.id, "b")
        with fewer_collections(), db.transaction() as s:
            context = replace(ingest.items_context(s, actor), match_lists=False)
            document = next(read_events(io.BytesIO(data)))
            converter = EventConverter(org_uuid=str(org.uuid), resolve_group=lambda _u, _n: None)
            prepare = Preparer(context)
            items: list[object] = []
            for i, item in enumerate(converter.convert(document.header, document.attributes, document.objects)):
                items.append((audience_of(item.reach), prepare(i, item.obj, item.built)))
                if i % 500 == 499:
                    items.append(None)  # as the child's messages arrive
            start = time.process_time()
            ingest.ingest_prepared(s, actor, items, prepared_with=context)  # type: ignore[arg-type]
            s.commit()
            spent = time.process_time() - start
        db.dispose()
    return spent


def _binding_ms() -> tuple[float, float]:
    """Milliseconds (best of 5) for SQLite's driver to insert 50,000 rows of seven columns into memory: with two
    ``None``s and a ``bool`` per row, and with ints in their place."""
    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (a, b, c, d, e, f, g)")
    with_nulls = [(i, "ipv4", "10.0.0.1", "10.0.0.1", None, None, True) for i in range(50_000)]
    with_ints = [(i, "ipv4", "10.0.0.1", "10.0.0.1", 0, 0, 1) for i in range(50_000)]
    best = {}
    for name, rows in (("nulls", with_nulls), ("ints", with_ints)):
        times = []
        for _ in range(5):
            start = time.perf_counter()
            connection.executemany("INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
            times.append(time.perf_counter() - start)
            connection.execute("DELETE FROM t")
        best[name] = min(times) * 1000
    connection.close()
    return best["nulls"], best["ints"]


if __name__ == "__main__":
    main()
