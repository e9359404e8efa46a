"""`herdsec serve` as a real process: migrates, listens, answers; with several worker processes too."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float = 30) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                import json

                return dict(json.load(response))
        except OSError:
            time.sleep(0.2)
    raise AssertionError("server did not become healthy")


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_migrates_and_answers(tmp_path: Path, workers: int) -> None:
    port = _free_port()
    env = {**os.environ, "HERDSEC_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "HERDSEC_MODE": "dev"}
    exe = Path(sys.executable).with_name("herdsec")
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert _wait_healthy(f"http://127.0.0.1:{port}/healthz", proc)["status"] == "ok"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            assert b"HerdSec" in response.read()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    assert (tmp_path / "serve.db").exists()
