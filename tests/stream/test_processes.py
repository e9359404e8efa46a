"""Real ``herdsec serve`` processes: kill -9 in the middle of a burst loses no acknowledged event; on PostgreSQL
a share through one process reaches the subscribers of another (LISTEN/NOTIFY) within a second."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from herdsec.intel.stream import parse_cursor
from tests.intel_factories import bundle, indicator
from tests.stream.live import ServeProcess, Subscriber, prepare, scratch_url


def _post(base: str, key: str, *objects: dict[str, object]) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/intel/bundles?tlp=green",
        json=bundle(*objects),
        headers={"Authorization": f"Bearer {key}"},
        timeout=20,
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_kill_minus_nine_mid_burst_loses_no_acknowledged_event(backend: str, tmp_path: Path) -> None:
    with scratch_url(backend, tmp_path) as url:
        a, b = prepare(url, "analyst", "analyst")
        server = ServeProcess(url).start()
        acked: list[str] = []
        stop = threading.Event()

        def publish() -> None:
            n = 0
            while not stop.is_set():
                n += 1
                ind = indicator(f"10.77.{n // 250}.{n % 250 + 1}")
                try:
                    response = _post(server.url, a.key, ind)
                except httpx.HTTPError:
                    time.sleep(0.05)  # the hub is down: this one was never acknowledged
                    continue
                if response.status_code == 200:
                    acked.append(ind["id"])

        try:
            _post(server.url, a.key, indicator("10.76.0.1"))  # warm up (warninglists) before the clock matters
            sub = Subscriber(server.url, b.key).start()
            sub.connected()
            publisher = threading.Thread(target=publish, daemon=True)
            publisher.start()
            deadline = time.monotonic() + 30
            while len(acked) < 10 and time.monotonic() < deadline:
                time.sleep(0.02)
            server.kill()  # SIGKILL, in the middle of the burst
            before = len(acked)
            assert before >= 10
            server.start()
            deadline = time.monotonic() + 30
            while len(acked) < before + 5 and time.monotonic() < deadline:
                time.sleep(0.05)
            stop.set()
            publisher.join(timeout=30)
            assert len(acked) >= before + 5, "the restarted hub acknowledged nothing"
            sub.wait_for(lambda got: set(acked) <= {json.loads(e.data)["id"] for e in got if e.data}, 30)
            missing = set(acked) - set(sub.ids())
            assert not missing, f"{len(missing)} acknowledged events never arrived"
            cursors = [parse_cursor(e.id) for e in sub.received if e.id and e.data]
            assert cursors == sorted(cursors), "the stream went backwards"
        finally:
            stop.set()
            server.stop()


def test_two_processes_on_postgresql_share_through_one_and_deliver_through_the_other(tmp_path: Path) -> None:
    with scratch_url("postgresql", tmp_path) as url:
        a, b = prepare(url, "analyst", "analyst")
        slow_poll = {"HERDSEC_STREAM_POLL_SECONDS": "30"}  # so that only NOTIFY can be this fast
        one = ServeProcess(url, extra=slow_poll).start()
        two = ServeProcess(url, extra=slow_poll).start()
        try:
            _post(one.url, a.key, indicator("10.78.0.1"))
            _post(two.url, a.key, indicator("10.78.0.2"))
            on_two = Subscriber(two.url, b.key).start()
            on_one = Subscriber(one.url, b.key).start()
            on_two.connected()
            on_one.connected()
            for source, sink, value in ((one, on_two, "10.78.0.3"), (two, on_one, "10.78.0.4")):
                ind = indicator(value)
                assert _post(source.url, a.key, ind).status_code == 200
                acknowledged = time.monotonic()
                sink.wait_for(lambda got, i=ind: i["id"] in [json.loads(e.data)["id"] for e in got if e.data], 2)
                assert ind["id"] in sink.ids()
                assert time.monotonic() - acknowledged < 1.0
        finally:
            one.stop()
            two.stop()


def test_workers_2_on_postgresql_reach_every_subscriber(tmp_path: Path) -> None:
    with scratch_url("postgresql", tmp_path) as url:
        a, b = prepare(url, "analyst", "analyst")
        server = ServeProcess(url, workers=2, extra={"HERDSEC_STREAM_POLL_SECONDS": "30"}).start()
        try:
            for n in range(4):  # both workers load their warninglists
                _post(server.url, a.key, indicator(f"10.79.0.{n + 1}"))
            subs = [Subscriber(server.url, b.key).start() for _ in range(6)]
            for sub in subs:
                sub.connected()
            ind = indicator("10.79.1.1")
            assert _post(server.url, a.key, ind).status_code == 200
            for sub in subs:
                sub.wait_for(lambda got: len(got) >= 1, 2)
                assert sub.ids() == [ind["id"]]
        finally:
            server.stop()
