"""A real medallion TAXII 2.1 server (memory backend, basic auth) started by the test on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

COLLECTION = "91a7b528-80eb-42ed-a74d-c6fbd5a26116"
USER, PASSWORD = "hub", "peer-password-0"
STIX = "application/stix+json;version=2.1"


@dataclass
class Medallion:
    url: str  # discovery URL
    api_root: str
    collection: str
    user: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _data(base: str, objects: list[dict[str, Any]]) -> dict[str, Any]:
    manifest = [
        {
            "id": o["id"],
            "date_added": f"2026-11-0{1 + i // 50}T00:{(i % 50):02d}:00.000000Z",
            "version": o.get("modified", o.get("created")),
            "media_type": STIX,
        }
        for i, o in enumerate(objects)
    ]
    return {
        "/discovery": {
            "title": "Peer hub",
            "description": "medallion standing in for another hub",
            "default": f"{base}/api1/",
            "api_roots": [f"{base}/api1/"],
        },
        "api1": {
            "information": {
                "title": "Peer hub API root",
                "versions": ["application/taxii+json;version=2.1"],
                "max_content_length": 9765625,
            },
            "status": [],
            "collections": [
                {
                    "id": COLLECTION,
                    "title": "Shared with peers",
                    "can_read": True,
                    "can_write": True,
                    "media_types": [STIX],
                    "objects": objects,
                    "manifest": manifest,
                }
            ],
        },
    }


@contextmanager
def running_medallion(workdir: Path, objects: list[dict[str, Any]], page_size: int = 2) -> Iterator[Medallion]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    data_path = workdir / "medallion-data.json"
    data_path.write_text(json.dumps(_data(base, objects)), encoding="utf-8")
    config_path = workdir / "medallion.json"
    config_path.write_text(
        json.dumps(
            {
                "backend": {
                    "module": "medallion.backends.memory_backend",
                    "module_class": "MemoryBackend",
                    "filename": str(data_path),
                },
                "users": {USER: PASSWORD},
                "taxii": {"max_page_size": page_size},
            }
        ),
        encoding="utf-8",
    )
    script = Path(sys.executable).parent / "medallion"
    process = subprocess.Popen(
        [str(script), "--host", "127.0.0.1", "--port", str(port), "--log-level", "ERROR", str(config_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    token = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    deadline = time.monotonic() + 20
    try:
        while True:
            try:
                req = urllib.request.Request(  # noqa: S310 - the test's own server on 127.0.0.1
                    f"{base}/taxii2/",
                    headers={"Accept": "application/taxii+json;version=2.1", "Authorization": f"Basic {token}"},
                )
                with urllib.request.urlopen(req, timeout=2):  # noqa: S310
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("medallion did not start") from None
                time.sleep(0.2)
        yield Medallion(f"{base}/taxii2/", f"{base}/api1/", COLLECTION, USER, PASSWORD)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
