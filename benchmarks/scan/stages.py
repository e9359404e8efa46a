"""The scanner's two stages measured apart, on logs already generated: stage 1 (which lines may hold an indicator)
compiled and in Python, in MB per CPU-second of one process; stage 2 (the exact checks) in microseconds per
candidate line. ``python -m benchmarks.scan.stages LOG_DIR IOC_FILE``; ``run.py`` calls it after generating."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from herdsec.scan import service
from herdsec.scan.matcher import Matcher

SAMPLE = 16 * 1024 * 1024  # per file: enough for stable numbers, small enough for the Python stage


def _chunks(logs: Path) -> list[bytes]:
    chunks = []
    for path in sorted(logs.iterdir()):
        with path.open("rb") as handle:
            data = handle.read(SAMPLE)
        data = data[: data.rfind(b"\n") + 1]
        chunks.extend(data[i : i + 8 * 1024 * 1024] for i in range(0, len(data), 8 * 1024 * 1024))
    return chunks


def _stage1(matcher: Matcher, chunks: list[bytes]) -> tuple[float, list[bytes]]:
    started = time.process_time()
    lines = [line for chunk in chunks for _number, line in matcher.candidate_lines(chunk)[1]]
    return time.process_time() - started, lines


def measure(logs: Path, iocs: Path) -> str:
    compiled = service.load([iocs], None).matcher
    chunks = _chunks(logs)
    megabytes = sum(len(c) for c in chunks) / 1e6
    fast, lines = _stage1(compiled, chunks)
    started = time.process_time()
    for line in lines:
        compiled.match_line(line)
    exact = time.process_time() - started
    report = (
        f"stages at {compiled.count:,} indicators on {megabytes:.0f} MB: stage 1 compiled {megabytes / fast:.0f} MB "
        f"per CPU-s; stage 2 {exact / max(len(lines), 1) * 1e6:.0f} us per candidate line ({len(lines):,} lines)"
    )
    if compiled.compiled:
        python = service.load([iocs], None, compiled=False).matcher
        slow, _ = _stage1(python, chunks[:2])
        report += f"; stage 1 in Python {sum(len(c) for c in chunks[:2]) / 1e6 / slow:.0f} MB per CPU-s"
    return report


if __name__ == "__main__":
    print(measure(Path(sys.argv[1]), Path(sys.argv[2])), flush=True)
