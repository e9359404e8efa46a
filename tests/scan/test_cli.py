"""``herdsec scan`` as a process: output, exit codes, gzip (also truncated), standard input, ``--follow``, binary
and odd input, the pool of workers, and the base install without the server's dependencies."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from herdsec.scan.engine import Match, Scanner
from tests.scan.helpers import compile_lines

HERDSEC = str(Path(sys.executable).with_name("herdsec"))
ENV = {**os.environ, "COLUMNS": "200"}
LOG = (
    b"01-Dec-2026 06:12:33.123 client @0x1 10.0.0.5#5321 (www.evil.example): query: www.evil.example IN A +E(0)K\n"
    b"01-Dec-2026 06:12:34.000 client @0x1 10.0.0.5#5321 (notevil.example): query: notevil.example IN A +E(0)K\n"
    b"01-Dec-2026 06:12:35.000 client @0x1 198.51.100.7#5321 (ok.example): query: ok.example IN A +E(0)K (10.0.0.1)\n"
)


def _iocs(tmp_path: Path, text: str = "evil[.]example\n198.51.100.7\n") -> Path:
    path = tmp_path / "iocs.txt"
    path.write_text(text)
    return path


def _scan(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([HERDSEC, "scan", *args], input=stdin, capture_output=True, env=ENV, timeout=120)


def _records(out: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.decode().splitlines()]


def test_jsonl_output_and_exit_code_1(tmp_path: Path) -> None:
    log = tmp_path / "query.log"
    log.write_bytes(LOG)
    result = _scan("--iocs", str(_iocs(tmp_path)), "--output", "jsonl", str(log))
    assert result.returncode == 1, result.stderr
    records = _records(result.stdout)
    assert [(r["line"], r["type"], r["indicator"], r["observed"]) for r in records] == [
        (1, "domain", "evil.example", "www.evil.example"),
        (3, "ipv4", "198.51.100.7", "198.51.100.7"),
    ]
    assert records[0]["file"] == str(log) and records[0]["time"] == "2026-12-01T06:12:33.123000+00:00"
    assert b"indicators loaded in" in result.stderr and b"Matches per indicator" in result.stderr


def test_no_match_is_exit_0_and_errors_are_exit_2(tmp_path: Path) -> None:
    log = tmp_path / "clean.log"
    log.write_bytes(b"nothing to see 192.0.2.1\n")
    assert _scan("--iocs", str(_iocs(tmp_path)), str(log)).returncode == 0
    empty = tmp_path / "empty.txt"
    empty.write_text("# none\n")
    result = _scan("--iocs", str(empty), str(log))
    assert result.returncode == 2 and b"no indicator to scan for" in result.stderr
    result = _scan(str(log))
    assert result.returncode == 2 and b"give indicators" in result.stderr
    assert _scan("--iocs", str(tmp_path / "missing.txt"), str(log)).returncode == 2


def test_table_output(tmp_path: Path) -> None:
    log = tmp_path / "query.log"
    log.write_bytes(LOG)
    result = _scan("--iocs", str(_iocs(tmp_path)), "--output", "table", str(log))
    assert result.returncode == 1
    text = result.stdout.decode()
    assert "evil.example" in text and f"{log}:1" in text and "Matches per indicator" in text


def test_gzip_truncated_gzip_binary_and_missing_files(tmp_path: Path) -> None:
    good = tmp_path / "a.log.gz"
    good.write_bytes(gzip.compress(LOG))
    damaged = tmp_path / "b.log.gz"
    body = LOG + b"".join(b"filler line %d\n" % i for i in range(50_000)) + b"last 198.51.100.7\n"
    damaged.write_bytes(gzip.compress(body)[:-4000])
    binary = tmp_path / "c.bin"
    binary.write_bytes(b"\x7fELF\x00\x00\x01" + os.urandom(4096))
    result = _scan(
        "--iocs",
        str(_iocs(tmp_path)),
        "--output",
        "jsonl",
        str(good),
        str(damaged),
        str(binary),
        str(tmp_path / "nope.log"),
    )
    assert result.returncode == 1, result.stderr
    lines = {(r["file"], r["line"]) for r in _records(result.stdout)}
    assert {(str(good), 1), (str(good), 3), (str(damaged), 1), (str(damaged), 3)} <= lines
    assert (str(damaged), 50_004) not in lines  # after the damage
    err = result.stderr.decode()
    assert f"{damaged}: damaged gzip data" in err
    assert f"{binary}: binary data, not a text log: skipped" in err
    assert "nope.log: cannot read" in err


def test_standard_input_and_odd_bytes(tmp_path: Path) -> None:
    data = b"\xff\xfe\x80 evil.example \xc3\n" + b"z" * 2_000_000 + b" 198.51.100.7\n"
    result = _scan("--iocs", str(_iocs(tmp_path)), "--output", "jsonl", "-", stdin=data)
    assert result.returncode == 1, result.stderr
    assert [(r["file"], r["line"], r["indicator"]) for r in _records(result.stdout)] == [
        ("-", 1, "evil.example"),
        ("-", 2, "198.51.100.7"),
    ]


def test_follow_reports_appended_lines(tmp_path: Path) -> None:
    log = tmp_path / "growing.log"
    log.write_bytes(b"start\n")
    proc = subprocess.Popen(
        [HERDSEC, "scan", "--iocs", str(_iocs(tmp_path)), "--output", "jsonl", "--follow", str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    try:
        time.sleep(1.0)
        with log.open("ab") as handle:
            handle.write(b"later: connect to 198.51.100.7\n")
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the scanner prints the match (bounded by the test timeout)
        record = json.loads(line)
        assert (record["line"], record["indicator"]) == (2, "198.51.100.7")
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_worker_pool_keeps_line_numbers_exact_across_chunks(tmp_path: Path) -> None:
    log = tmp_path / "big.log"
    planted = {1, 777, 12_345, 30_000, 39_999}
    with log.open("wb") as handle:
        for number in range(1, 40_001):
            handle.write(
                b"x 198.51.100.7 y\n" if number in planted else b"line %d 198.51.100.70 notevil.example\n" % number
            )
    found: list[Match] = []
    with Scanner(
        compile_lines("198.51.100.7", "evil.example"), workers=2, on_match=found.append, chunk_size=65536
    ) as scanner:
        report = scanner.scan_path(str(log))
    assert report.lines == 40_000 and report.problem is None
    assert sorted(match.line for match in found) == sorted(planted)


def _blocking(*names: str) -> str:
    """A ``python -c`` script running the CLI with the modules ``names`` (and their submodules) unimportable."""
    return f"""
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if any(name == blocked or name.startswith(blocked + ".") for blocked in {names!r}):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None
sys.meta_path.insert(0, Block())
from herdsec.cli.main import run
run(sys.argv[1:])
"""


BLOCK_SERVER = _blocking("sqlalchemy", "fastapi", "starlette", "uvicorn", "pydantic_settings", "jinja2")
BLOCK_COMPILED = _blocking("herdsec.scan._prefilter")


def test_the_base_install_runs_the_scanner_without_server_dependencies(tmp_path: Path) -> None:
    log = tmp_path / "query.log"
    log.write_bytes(LOG)
    command = [sys.executable, "-c", BLOCK_SERVER]
    result = subprocess.run(
        [*command, "scan", "--iocs", str(_iocs(tmp_path)), "--output", "jsonl", str(log)],
        capture_output=True,
        env=ENV,
        timeout=60,
    )
    assert result.returncode == 1, result.stderr
    assert len(_records(result.stdout)) == 2
    result = subprocess.run([*command, "org", "list"], capture_output=True, env=ENV, timeout=60)
    assert result.returncode == 2 and b"pip install 'herdsec[server]'" in result.stderr


@pytest.mark.parametrize("bad", [["--follow", "a", "b"], ["--output", "xml", "a"], ["--format", "nope", "a"]])
def test_bad_options(tmp_path: Path, bad: list[str]) -> None:
    result = _scan("--iocs", str(_iocs(tmp_path)), *bad)
    assert result.returncode == 2 and result.stderr.startswith(b"herdsec: error:")


def test_without_the_compiled_stage_the_scan_gives_the_same_matches_and_says_so(tmp_path: Path) -> None:
    log = tmp_path / "query.log"
    log.write_bytes(LOG)
    arguments = ["scan", "--iocs", str(_iocs(tmp_path)), "--output", "jsonl", str(log)]
    pure = subprocess.run([sys.executable, "-c", BLOCK_COMPILED, *arguments], capture_output=True, env=ENV, timeout=60)
    compiled = _scan(*arguments[1:])
    assert pure.returncode == compiled.returncode == 1, pure.stderr
    assert _records(pure.stdout) == _records(compiled.stdout) and len(_records(pure.stdout)) == 2
    assert b"compiled first stage is not installed" in pure.stderr
    assert b"compiled first stage" not in compiled.stderr


def test_the_summary_shows_the_most_frequent_indicators_and_counts_the_rest(tmp_path: Path) -> None:
    values = [f"198.51.{n // 250}.{n % 250 + 1}" for n in range(150)]
    iocs = tmp_path / "iocs.txt"
    iocs.write_text("\n".join(values) + "\n")
    log = tmp_path / "fw.log"
    log.write_text("".join(f"deny src={v}\n" for v in values) + "deny src=198.51.0.1\n" * 3)
    result = _scan("--iocs", str(iocs), "--output", "jsonl", str(log))
    assert result.returncode == 1 and len(_records(result.stdout)) == 153  # every match is in the output
    summary = result.stderr.decode()
    assert "198.51.0.1 " in summary and "… and 50 more indicators" in summary
    assert summary.count("198.51.") == 100
