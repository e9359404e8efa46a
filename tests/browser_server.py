"""A real HerdSec server for the browser tests: uvicorn in a background thread, over a fresh demo SQLite file.

Also the Chromium launch settings (Debian's Chromium, nothing downloaded), shared by the tests and by anyone taking
screenshots by hand::

    from tests.browser_server import running_demo_hub
    with running_demo_hub(Path("/tmp/hub")) as base_url: ...
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import uvicorn

from herdsec import demo
from herdsec.core.db import Database, make_engine
from herdsec.core.settings import load_settings
from herdsec.migrations import upgrade
from herdsec.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEMO_PASSWORD = demo.DEMO_PASSWORD
BANK_ADMIN = "admin@songhongbank.example"
BANK_NAME = "Ngân hàng TMCP Sông Hồng"
COORDINATOR = "admin@vncc.example"


def demo_database(path: Path) -> Database:
    """A new SQLite file, migrated and filled with the demo (the same code path as ``herdsec demo``)."""
    database = Database(make_engine(f"sqlite:///{path}"))
    upgrade(database.bind)
    demo.seed(database)
    return database


@contextmanager
def running_demo_hub(workdir: Path, startup_timeout: float = 10.0) -> Iterator[str]:
    """Serve the demo hub on 127.0.0.1 (a free port) until the block ends; yields the base URL."""
    path = workdir / "herdsec-browser.db"
    database = demo_database(path)
    settings = load_settings(mode="dev", database_url=f"sqlite:///{path}", default_language="en")
    app = create_app(settings, database=database)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))  # the kernel picks a free port; uvicorn serves on this very socket (no race)
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="herdsec-browser-server", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HerdSec test server did not start")
            time.sleep(0.02)
        health = httpx.get(f"{base_url}/healthz", timeout=5)
        if health.status_code != 200:
            raise RuntimeError(f"the HerdSec test server is unhealthy: {health.status_code} {health.text[:300]}")
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()
