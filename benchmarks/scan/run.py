"""Run the scanner benchmark: generate logs and indicator sets, run ``herdsec scan`` and ``LC_ALL=C grep -F -f`` on
the same data in the same run, and score both against the planted truth.

Reported per tool and set size: MB/s, peak memory of the whole process tree (the sum of PSS, so pages the forked
workers share are counted once; RSS sums are printed too), indicator load time (the scanner's own figure), false
positives (matching lines with no planted indicator, or the wrong one) and misses (planted lines not reported).
grep prints matching lines, not which indicator matched; it is scored by line. grep reads all the data
(``--grep-prefix`` time-boxes it to a prefix of each file on a slow machine: said so in the output).

Two throughputs: the whole run (MB / wall seconds, indicator loading included) and the scan alone (MB / (wall seconds
minus the loading time)). Both tools spend a fixed time on the indicators before reading a log: the scanner reports
its own; grep's is measured in the same run as grep with the same ``-f`` file on an empty input. The issue's targets
name throughput and load time separately, so the scan-alone ratio is the one compared with the 20× target; the
whole-run ratio is printed beside it.
"""

from __future__ import annotations

import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from benchmarks.scan import generate, stages

MB = 1_000_000


@dataclass
class Result:
    tool: str
    indicators: int
    megabytes: float
    seconds: float
    peak_pss_mb: float
    peak_rss_mb: float
    load_seconds: float | None
    load_cpu_seconds: float | None
    cpu_seconds: float
    false_positives: int
    misses: int
    note: str = ""

    @property
    def rate(self) -> float:
        return self.megabytes / self.seconds if self.seconds else 0.0

    @property
    def scan_rate(self) -> float:
        """MB/s once the indicators are loaded."""
        scanning = self.seconds - (self.load_seconds or 0.0)
        return self.megabytes / scanning if scanning > 0 else 0.0


def _tree(pid: int) -> list[int]:
    found, stack = [], [pid]
    while stack:
        current = stack.pop()
        found.append(current)
        try:
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as handle:
                    stack.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return found


def _memory(pid: int) -> tuple[int, int]:
    pss = rss = 0
    for member in _tree(pid):
        try:
            with open(f"/proc/{member}/smaps_rollup") as handle:
                for line in handle:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss, rss


def measure(
    command: list[str], stdout: Path, env: dict[str, str], timeout: float | None = None
) -> tuple[float, float, int, int, str, bool]:
    """(seconds, CPU seconds, peak PSS kB, peak RSS kB, stderr, timed out) of a command and all its children."""
    peak = [0, 0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdout.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)  # noqa: S603 - our own commands
        done = threading.Event()

        def poll() -> None:
            while not done.is_set():
                pss, rss = _memory(proc.pid)
                peak[0], peak[1] = max(peak[0], pss), max(peak[1], rss)
                done.wait(0.05)

        watcher = threading.Thread(target=poll, daemon=True)
        watcher.start()
        timed_out = False
        try:
            _, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            _, err = proc.communicate()
            timed_out = True
        seconds = time.perf_counter() - started
        done.set()
        watcher.join()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return seconds, cpu, peak[0], peak[1], err.decode("utf-8", "replace"), timed_out


def score_scan(output: Path, truth: dict[tuple[str, int], set[tuple[str, str]]]) -> tuple[int, int]:
    seen: dict[tuple[str, int], set[tuple[str, str]]] = {}
    with output.open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            seen.setdefault((record["file"], record["line"]), set()).add((record["type"], record["indicator"]))
    false_positives = sum(1 for key, found in seen.items() if truth.get(key) != found)
    misses = sum(1 for key in truth if key not in seen)
    return false_positives, misses


def score_grep(
    output: Path,
    truth: dict[tuple[str, int], set[tuple[str, str]]],
    files: dict[str, str],
    lines: dict[str, int] | None = None,
) -> tuple[int, int, int]:
    """(false positives, misses, lines) of ``grep -n`` output over ``files`` (grep's name → the truth's name),
    against the truth of the first ``lines[file]`` lines of each file when grep read a prefix."""
    seen: set[tuple[str, int]] = set()
    with output.open("rb") as handle:
        for raw in handle:
            name, _, rest = raw.partition(b":")
            number = rest.partition(b":")[0]
            seen.add((files.get(name.decode(), name.decode()), int(number)))
    relevant = {key for key in truth if key[0] in files.values() and (lines is None or key[1] <= lines.get(key[0], 0))}
    return len(seen - relevant), len(relevant - seen), len(seen)


def _prefix(source: Path, target: Path, size: int) -> tuple[int, int]:
    """The first ``size`` bytes of ``source`` (whole lines) into ``target``: (bytes, lines)."""
    with source.open("rb") as handle:
        data = handle.read(size)
        data += handle.readline()
    target.write_bytes(data)
    return len(data), data.count(b"\n")


def run(
    quick: bool = False, size_mb: int | None = None, sets: list[int] | None = None, grep_prefix: bool = False
) -> list[Result]:
    size = (size_mb or (60 if quick else 1000)) * MB
    sets = sets or ([10_000, 100_000] if quick else [100_000, 1_000_000])
    rng = random.Random(11)
    work = Path(tempfile.mkdtemp(prefix="herdsec-scan-bench-"))
    herdsec = str(Path(sys.executable).with_name("herdsec"))
    env = {**os.environ, "LC_ALL": "C"}
    results: list[Result] = []
    try:
        started = time.perf_counter()
        universe = generate.make_indicators(rng, max(sets))
        chosen = generate.Indicators(
            **{name: values[: max(20, len(values) // 50)] for name, values in vars(universe).items()}
        )
        logs = work / "logs"
        logs.mkdir()
        truth = generate.write_logs(logs, size, chosen)
        os.sync()  # no writeback of the fresh gigabyte competing with the timed runs
        data_bytes = sum(path.stat().st_size for path in logs.iterdir())
        print(
            f"generated {data_bytes / MB:.0f} MB of logs ({len(truth)} planted hits) "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        for count in sets:
            values = [
                v
                for name, vals in vars(universe).items()
                for v in vals[: max(len(getattr(chosen, name)), len(vals) * count // max(sets))]
            ]
            random.Random(count).shuffle(values)
            ioc_file = work / f"iocs-{count}.txt"
            generate.write_indicators(ioc_file, values)
            print(stages.measure(logs, ioc_file), flush=True)
            results.append(_scan(herdsec, ioc_file, logs, len(values), data_bytes, truth, work, env))
            print(_line(results[-1]), flush=True)
            results.append(_grep(ioc_file, logs, len(values), data_bytes, truth, work, env, full=not grep_prefix))
            print(_line(results[-1]), flush=True)
        _report(results)
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _scan(
    herdsec: str,
    iocs: Path,
    logs: Path,
    count: int,
    data_bytes: int,
    truth: dict[tuple[str, int], set[tuple[str, str]]],
    work: Path,
    env: dict[str, str],
) -> Result:
    output = work / "scan.jsonl"
    files = sorted(str(path) for path in logs.iterdir())
    seconds, cpu, pss, rss, err, _ = measure(
        [herdsec, "scan", "--iocs", str(iocs), "--output", "jsonl", *files], output, env
    )
    loaded = re.search(r"loaded in ([0-9.]+) s, ([0-9.]+) s CPU", err)
    false_positives, misses = score_scan(output, truth)
    return Result(
        "herdsec scan",
        count,
        data_bytes / MB,
        seconds,
        pss / 1024,
        rss / 1024,
        float(loaded[1]) if loaded else None,
        float(loaded[2]) if loaded else None,
        cpu,
        false_positives,
        misses,
    )


def _grep(
    iocs: Path,
    logs: Path,
    count: int,
    data_bytes: int,
    truth: dict[tuple[str, int], set[tuple[str, str]]],
    work: Path,
    env: dict[str, str],
    full: bool,
) -> Result:
    output = work / "grep.txt"
    names: dict[str, str] = {}
    line_counts: dict[str, int] = {}
    note = ""
    scanned = data_bytes
    if full:
        names = {str(path): str(path) for path in sorted(logs.iterdir())}
    else:  # time-boxed: a prefix of each file
        prefix_dir = work / "prefix"
        prefix_dir.mkdir(exist_ok=True)
        share = max(data_bytes // 10 // len(list(logs.iterdir())), 1 * MB)
        scanned = 0
        for path in sorted(logs.iterdir()):
            target = prefix_dir / path.name
            size, count = _prefix(path, target, share)
            scanned += size
            names[str(target)] = str(path)
            line_counts[str(path)] = count
        note = f"grep on the first {scanned / MB:.0f} MB (a prefix of each file), throughput extrapolated"
    empty = work / "empty.log"
    empty.write_bytes(b"")
    load_seconds, load_cpu, *_rest = measure(["grep", "-F", "-c", "-f", str(iocs), str(empty)], output, env)
    seconds, cpu, pss, rss, _err, timed_out = measure(
        ["grep", "-F", "-n", "-f", str(iocs), *names], output, env, timeout=3600
    )
    if timed_out:
        note += " (killed after 3600 s)"
    false_positives, misses, _lines = score_grep(output, truth, names, None if full else line_counts)
    return Result(
        "grep -F",
        count,
        scanned / MB,
        seconds,
        pss / 1024,
        rss / 1024,
        load_seconds,
        load_cpu,
        cpu,
        false_positives,
        misses,
        note,
    )


def _line(result: Result) -> str:
    load = "-"
    if result.load_seconds is not None:
        load = f"{result.load_seconds:.1f} s ({result.load_cpu_seconds or 0:.1f} s CPU)"
    return (
        f"{result.tool:13} {result.indicators:>9,} iocs  {result.megabytes:7.0f} MB  {result.seconds:7.1f} s  "
        f"{result.rate:7.1f} MB/s ({result.scan_rate:6.1f} MB/s once loaded)  CPU {result.cpu_seconds:7.1f} s "
        f"({result.megabytes / max(result.cpu_seconds, 1e-9):6.1f} MB per CPU-s)  "
        f"peak {result.peak_pss_mb:6.0f} MB PSS ({result.peak_rss_mb:.0f} MB RSS)  load {load}  "
        f"FP {result.false_positives}  misses {result.misses}  {result.note}"
    )


def _report(results: list[Result]) -> None:
    for scan, grep in zip(results[::2], results[1::2], strict=True):
        ratio = scan.rate / grep.rate if grep.rate else float("inf")
        scan_ratio = scan.scan_rate / grep.scan_rate if grep.scan_rate else float("inf")
        cpu_ratio = (scan.megabytes / scan.cpu_seconds) / (grep.megabytes / grep.cpu_seconds) if grep.cpu_seconds else 0
        print(
            f"at {scan.indicators:,} indicators: herdsec scan is {scan_ratio:.1f}x grep -F's throughput once both "
            f"have loaded the indicators, {ratio:.1f}x over the whole run ({cpu_ratio:.1f}x per CPU-second); "
            f"false positives {scan.false_positives} vs {grep.false_positives}, misses {scan.misses} vs {grep.misses}"
        )
