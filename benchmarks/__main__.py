"""Run every benchmark, or those named: ``python -m benchmarks [NAME ...]``."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "visibility": "benchmarks.bench_visibility",
    "ingest": "benchmarks.bench_ingest",
    "federation": "benchmarks.bench_federation",
    "misp": "benchmarks.bench_misp",
    "skills": "benchmarks.bench_skills",
    "taxii": "benchmarks.bench_taxii",
    "export": "benchmarks.bench_export",
    "stream": "benchmarks.bench_stream",
    "scan": "benchmarks.scan",
}
SIZED = {"ingest", "misp", "taxii", "export"}  # benchmarks that take --sizes


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--sizes",
        type=lambda t: [int(x) for x in t.split(",")],
        default=None,
        help="comma-separated sizes for the ingest benchmark (default 100000,1000000); for taxii: "
        "the sizes compared with medallion, then the hub's size at scale (default 1000,2000,10000,1000000)",
    )
    parser.add_argument(
        "--grep-prefix",
        action="store_true",
        help="scan benchmark: let grep read only a prefix of each file (for a slow or shared machine)",
    )
    args = parser.parse_args()
    for name in args.names or list(BENCHMARKS):
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        if name in SIZED:
            module.run(quick=args.quick, sizes=args.sizes)
        elif name == "scan":
            module.run(quick=args.quick, sets=args.sizes, grep_prefix=args.grep_prefix)
        else:
            module.run(quick=args.quick)


if __name__ == "__main__":
    main()
