"""Real hubs for the stream tests: uvicorn in a thread (with lifespan, so the webhook worker runs) or
``herdsec serve`` processes; a background SSE reader; members made through the services."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import make_url

from herdsec.core.db import Database, make_engine
from herdsec.core.settings import load_settings
from herdsec.intel.stream_client import SseEvent, follow
from herdsec.migrations import upgrade
from herdsec.web.app import create_app
from tests.factories import Member, make_member

PG_URL = os.environ.get("HERDSEC_TEST_DATABASE_URL", "")
HERDSEC = Path(sys.executable).with_name("herdsec")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def scratch_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A new empty database: a SQLite file, or a throw-away PostgreSQL database (skipped without one)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / f'hub-{uuid.uuid4().hex[:6]}.db'}"
        return
    if not PG_URL:
        pytest.skip("needs HERDSEC_TEST_DATABASE_URL (PostgreSQL) for this test")
    name = f"herdsec_stream_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def position(base: str, key: str) -> str:
    """The stream's current position (what a new subscriber starts from)."""
    sub = Subscriber(base, key).start()
    sub.connected()
    assert sub.opening_id is not None
    return sub.opening_id


def prepare(url: str, *roles: str) -> list[Member]:
    """Migrate ``url`` and create one member organization (with a user and API key) per role."""
    database = Database.from_url(url)
    try:
        upgrade(database.bind)  # type: ignore[arg-type]
        with database.transaction() as session:
            return [make_member(session, role) for role in roles]
    finally:
        database.dispose()


@dataclass
class LiveHub:
    url: str
    app: FastAPI
    database: Database

    def share(self, key: str, *objects: dict[str, Any], **params: str) -> httpx.Response:
        body = {"type": "bundle", "id": f"bundle--{uuid.uuid4()}", "objects": list(objects)}
        return httpx.post(
            f"{self.url}/api/v1/intel/bundles",
            json=body,
            params=params,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )


@contextmanager
def running_hub(database_url: str, **overrides: Any) -> Iterator[LiveHub]:
    """Serve the hub on 127.0.0.1 (a free port) in a thread until the block ends."""
    options: dict[str, Any] = {
        "mode": "dev",
        "database_url": database_url,
        "default_language": "en",
        "outbound_allow": "loopback",
        "stream_heartbeat_seconds": 0.5,
        "stream_poll_seconds": 0.5,
    }
    options.update(overrides)
    settings = load_settings(**options)
    database = Database.from_url(database_url)
    app = create_app(settings, database=database)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test hub did not start")
            time.sleep(0.02)
        yield LiveHub(f"http://127.0.0.1:{port}", app, database)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
        database.dispose()


@dataclass
class Subscriber:
    """Reads a stream in a background thread (reconnecting with its last id, like ``herdsec stream``)."""

    base: str
    key: str
    params: dict[str, str] = field(default_factory=dict)
    last_event_id: str | None = None
    events: queue.Queue[SseEvent] = field(default_factory=queue.Queue)
    received: list[SseEvent] = field(default_factory=list)
    opening_id: str | None = None

    def start(self) -> Subscriber:
        threading.Thread(target=self._run, daemon=True).start()
        return self

    def _run(self) -> None:
        try:
            for event in follow(self.base, self.key, last_event_id=self.last_event_id, params=self.params):
                self.events.put(event)
        except Exception as exc:  # refusals end the reader; the test sees them as a special event
            self.events.put(SseEvent(None, "error", str(exc)))

    def wait_for(self, done: Callable[[list[SseEvent]], bool], timeout: float) -> list[SseEvent]:
        deadline = time.monotonic() + timeout
        while not done(self.received):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event.data is not None:
                self.received.append(event)
        return self.received

    def ids(self) -> list[str]:
        import json

        return [json.loads(e.data)["id"] for e in self.received if e.data and e.event == "message"]

    def connected(self, timeout: float = 5) -> None:
        """Wait until the stream is open (its first heartbeat has moved the id)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                event = self.events.get(timeout=0.1)
            except queue.Empty:
                continue
            if event.data is not None:
                self.received.append(event)
            self.opening_id = event.id
            return
        raise AssertionError("the stream did not open")


@dataclass
class ServeProcess:
    """``herdsec serve`` as a real process (for kill -9 and for several processes)."""

    database_url: str
    port: int = field(default_factory=free_port)
    extra: dict[str, str] = field(default_factory=dict)
    workers: int = 1
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90) -> ServeProcess:
        env = {
            **os.environ,
            "HERDSEC_DATABASE_URL": self.database_url,
            "HERDSEC_MODE": "dev",
            "HERDSEC_STREAM_HEARTBEAT_SECONDS": "0.5",
            "HERDSEC_STREAM_POLL_SECONDS": "1",
            **self.extra,
        }
        self.proc = subprocess.Popen(
            [str(HERDSEC), "serve", "--port", str(self.port), "--workers", str(self.workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"herdsec serve exited with {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError("herdsec serve did not become healthy")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
