"""The stream against a real uvicorn server: latency, format, resuming, bad ids, visibility, filters, slow clients,
and the ``herdsec stream`` client."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.factories import Member
from tests.intel_factories import indicator
from tests.stream.live import HERDSEC, LiveHub, Subscriber, position, prepare, running_hub, scratch_url

BACKENDS = ["sqlite", "postgresql"]
MORE = ["--max-events", "2", "--type", "indicator"]


@pytest.fixture(scope="module", params=BACKENDS)
def hub(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveHub, list[Member]]]:
    """One hub per backend for this module (tests use distinct values and start from their own position)."""
    with scratch_url(request.param, tmp_path_factory.mktemp("hub")) as url:
        members = prepare(url, "analyst", "analyst", "analyst")
        with running_hub(url) as live:
            yield live, members


def _data(sub: Subscriber) -> list[dict[str, object]]:
    return [json.loads(e.data) for e in sub.received if e.data and e.event == "message"]


def test_a_shared_object_reaches_another_member_within_a_second(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, _c) = hub
    sub = Subscriber(live.url, b.key).start()
    sub.connected()
    ind = indicator("198.51.100.7")
    assert live.share(a.key, ind, tlp="green").status_code == 200
    acknowledged = time.monotonic()  # (the first share of a process also loads the warninglists: seconds)
    sub.wait_for(lambda got: ind["id"] in [json.loads(e.data)["id"] for e in got if e.data], 1.0)
    assert time.monotonic() - acknowledged < 1.0
    (event,) = [e for e in sub.received if e.data and ind["id"] in e.data]
    body = json.loads(event.data or "")
    assert body["event"] == "object.created" and body["type"] == "indicator" and body["tlp"] == "green"
    assert body["object"]["pattern"] == ind["pattern"] and body["event_id"] == event.id
    assert event.id is not None and "." in event.id


def test_raw_format_ids_data_lines_and_heartbeats(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, _c) = hub
    start = position(live.url, b.key)
    assert live.share(a.key, indicator("198.51.100.8"), tlp="green").status_code == 200
    lines: list[str] = []
    with httpx.stream(
        "GET",
        f"{live.url}/api/v1/stream?last_event_id={start}",
        headers={"Authorization": f"Bearer {b.key}"},
        timeout=5,
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        deadline = time.monotonic() + 3
        for line in response.iter_lines():
            lines.append(line)
            if line == ": heartbeat" or time.monotonic() > deadline:
                break
    data = [line for line in lines if line.startswith("data: ")]
    assert len(data) == 1 and "198.51.100.8" in data[0]
    assert json.loads(data[0][6:])["id"].startswith("indicator--")
    index = lines.index(data[0])
    assert lines[index - 1].startswith("id: ") and lines[index + 1] == ""
    assert ": heartbeat" in lines


def test_last_event_id_replays_what_followed_by_header_and_query(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, _c) = hub
    start = position(live.url, b.key)
    shared = [indicator(f"198.51.100.{n}") for n in (20, 21, 22)]
    for ind in shared:
        assert live.share(a.key, ind, tlp="green").status_code == 200
    everything = Subscriber(live.url, b.key, params={"last_event_id": start}).start()
    everything.wait_for(lambda got: len(got) >= 3, 3)
    assert everything.ids() == [i["id"] for i in shared]
    first_id = everything.received[0].id
    resumed = Subscriber(live.url, b.key, last_event_id=first_id).start()  # as the Last-Event-ID header
    resumed.wait_for(lambda got: len(got) >= 2, 3)
    time.sleep(0.3)
    resumed.wait_for(lambda got: False, 0.2)
    assert resumed.ids() == [i["id"] for i in shared[1:]]


@pytest.mark.parametrize("bad", ["banana", "12.x", "-3", "1" * 50])
def test_a_garbage_last_event_id_is_a_clear_422(hub: tuple[LiveHub, list[Member]], bad: str) -> None:
    live, (_a, b, _c) = hub
    for headers, params in (({"Last-Event-ID": bad}, {}), ({}, {"last_event_id": bad})):
        response = httpx.get(
            f"{live.url}/api/v1/stream", params=params, headers={"Authorization": f"Bearer {b.key}", **headers}
        )
        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert "not a stream position" in response.json()["detail"]


def test_a_last_event_id_from_the_future_is_refused(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (_a, b, _c) = hub
    response = httpx.get(
        f"{live.url}/api/v1/stream", headers={"Authorization": f"Bearer {b.key}", "Last-Event-ID": "999999"}
    )
    assert response.status_code == 422 and "newer than the newest event" in response.json()["detail"]


def test_no_key_no_stream(hub: tuple[LiveHub, list[Member]]) -> None:
    live, _members = hub
    assert httpx.get(f"{live.url}/api/v1/stream").status_code == 401


def test_another_organizations_private_objects_are_never_streamed(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, _c) = hub
    secret = indicator("198.51.100.30")
    red = indicator("198.51.100.31")
    public = indicator("198.51.100.32")
    own_view = Subscriber(live.url, a.key).start()
    other_view = Subscriber(live.url, b.key).start()
    own_view.connected()
    other_view.connected()
    assert live.share(a.key, secret, tlp="amber", distribution="organization").status_code == 200
    assert live.share(a.key, red, tlp="red").status_code == 200
    assert live.share(a.key, public, tlp="green").status_code == 200
    other_view.wait_for(lambda got: public["id"] in [json.loads(e.data)["id"] for e in got if e.data], 3)
    own_view.wait_for(lambda got: len(got) >= 3, 3)
    assert other_view.ids() == [public["id"]]  # items are in order: the private ones would have come first
    assert own_view.ids() == [secret["id"], red["id"], public["id"]]


def test_filters_on_the_endpoint(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, _c) = hub
    start = position(live.url, b.key)
    green, clear = indicator("198.51.100.40"), indicator("198.51.100.41")
    live.share(a.key, green, tlp="green")
    live.share(a.key, clear, tlp="clear")
    only_clear = Subscriber(live.url, b.key, params={"last_event_id": start, "tlp": "clear"}).start()
    only_clear.wait_for(lambda got: len(got) >= 1, 3)
    time.sleep(0.3)
    only_clear.wait_for(lambda got: False, 0.2)
    assert only_clear.ids() == [clear["id"]]
    bad = httpx.get(f"{live.url}/api/v1/stream?tlp=purple", headers={"Authorization": f"Bearer {b.key}"})
    assert bad.status_code == 422


def test_sightings_are_streamed_and_name_the_reporter_only_to_the_creator(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, c) = hub
    ind = indicator("198.51.100.50")
    live.share(a.key, ind, tlp="green")
    creator = Subscriber(live.url, a.key, params={"types": "sighting"}).start()
    bystander = Subscriber(live.url, c.key, params={"types": "sighting"}).start()
    creator.connected()
    bystander.connected()
    response = httpx.post(
        f"{live.url}/api/v1/intel/sightings",
        json={"value": "198.51.100.50", "count": 2},
        headers={"Authorization": f"Bearer {b.key}"},
    )
    assert response.status_code == 201
    creator.wait_for(lambda got: len(got) >= 1, 3)
    bystander.wait_for(lambda got: len(got) >= 1, 3)
    (seen_by_creator,) = _data(creator)
    (seen_by_bystander,) = _data(bystander)
    assert seen_by_creator["id"] == ind["id"] == seen_by_bystander["id"]
    assert seen_by_creator["sighting"]["organization"] == b.org.name  # type: ignore[index]
    assert "organization" not in seen_by_bystander["sighting"]  # type: ignore[operator]


def test_a_client_that_never_reads_is_dropped_and_costs_no_memory(tmp_path: Path) -> None:
    with scratch_url("sqlite", tmp_path) as url:
        a, b = prepare(url, "analyst", "analyst")
        with running_hub(url, stream_send_timeout_seconds=0.5, stream_batch_events=50) as live:
            sock = socket.socket()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            port = int(live.url.rsplit(":", 1)[1])
            sock.connect(("127.0.0.1", port))
            sock.sendall(f"GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {b.key}\r\n\r\n".encode())
            deadline = time.monotonic() + 5
            hub = None
            while hub is None or hub.stats.subscribers < 1:
                hub = getattr(live.app.state, "stream_hub", None)
                assert time.monotonic() < deadline, "the stream never opened"
                time.sleep(0.05)
            padding = "x" * 20_000
            for burst in range(6):
                objects = [indicator(f"10.{burst}.{n // 250}.{n % 250 + 1}", description=padding) for n in range(100)]
                assert live.share(a.key, *objects, tlp="green").status_code == 200
                if hub.stats.dropped:
                    break
            deadline = time.monotonic() + 10
            while hub.stats.subscribers and time.monotonic() < deadline:
                time.sleep(0.1)
            assert hub.stats.dropped == 1 and hub.stats.subscribers == 0
            assert "read nothing for 0.5 s" in hub.stats.drop_reasons[-1]
            sock.close()
            # The hub still serves everyone else.
            fresh = Subscriber(live.url, b.key).start()
            fresh.connected()
            ind = indicator("198.51.100.60")
            live.share(a.key, ind, tlp="green")
            fresh.wait_for(lambda got: len(got) >= 1, 3)
            assert fresh.ids() == [ind["id"]]


@pytest.mark.parametrize("hub", ["sqlite"], indirect=True)
def test_herdsec_stream_prints_events_as_json_lines(hub: tuple[LiveHub, list[Member]]) -> None:
    live, (a, b, _c) = hub
    start = position(live.url, b.key)
    shared = [indicator("198.51.100.70"), indicator("198.51.100.71")]
    live.share(a.key, *shared, tlp="green")
    result = subprocess.run(
        [str(HERDSEC), "stream", "--hub", live.url, "--api-key", b.key, "--jsonl", "--last-event-id", start, *MORE],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["id"] for line in lines] == [s["id"] for s in shared]
    assert all(line["event_id"] for line in lines)
    plain = subprocess.run(
        [str(HERDSEC), "stream", "--hub", live.url, "--api-key", b.key, "--last-event-id", start, "--max-events", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert plain.returncode == 0 and shared[0]["id"] in plain.stdout and "object.created" in plain.stdout
    refused = subprocess.run(
        [str(HERDSEC), "stream", "--hub", live.url, "--api-key", b.key, "--last-event-id", "nope"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert refused.returncode == 2 and "not a stream position" in refused.stderr


def test_a_revoked_key_ends_an_open_stream(hub: tuple[LiveHub, list[Member]], monkeypatch: pytest.MonkeyPatch) -> None:
    from herdsec import identity
    from herdsec.intel import stream_api
    from tests.factories import make_member

    live, _members = hub
    monkeypatch.setattr(stream_api, "REAUTH_SECONDS", 0.3)
    with live.database.transaction() as session:
        member = make_member(session, "analyst")
    sub = Subscriber(live.url, member.key).start()
    sub.connected()
    with live.database.transaction() as session:
        (key,) = identity.list_api_keys(session, member.principal)
        identity.revoke_api_key(session, member.principal, key.id)
    got = sub.wait_for(lambda got: any(e.event in ("dropped", "error") for e in got), 5)
    dropped = [e for e in got if e.event == "dropped"]
    assert dropped and "credentials no longer accepted" in (dropped[0].data or "")
    # Reconnecting with the revoked key is refused (the client stops: a refusal is not retried).
    refused = sub.wait_for(lambda got: any(e.event == "error" for e in got), 5)
    assert any(e.event == "error" and "refused the API key" in (e.data or "") for e in refused)
