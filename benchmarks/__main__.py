"""Run every benchmark, or those named: ``python -m benchmarks [NAME ...]``."""

from __future__ import annotations

import argparse
import importlib

BENCHMARKS = {
    "visibility": "benchmarks.bench_visibility",
    "ingest": "benchmarks.bench_ingest",
    "scan": "benchmarks.scan",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument(
        "--sizes",
        type=lambda t: [int(x) for x in t.split(",")],
        default=None,
        help="comma-separated sizes for the ingest benchmark (default 100000,1000000)",
    )
    args = parser.parse_args()
    for name in args.names or list(BENCHMARKS):
        print(f"== {name} ==", flush=True)
        module = importlib.import_module(BENCHMARKS[name])
        if name == "ingest":
            module.run(quick=args.quick, sizes=args.sizes)
        elif name == "scan":
            module.run(quick=args.quick, sets=args.sizes)
        else:
            module.run(quick=args.quick)


if __name__ == "__main__":
    main()
