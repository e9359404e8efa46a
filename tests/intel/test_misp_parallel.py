"""A MISP document converted and prepared in a second process (``intel.misp.parallel``) must be stored exactly as
the in-process import stores it, refuse the same things in the same words, and lose nothing when the child fails."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks.mispgen import event as generated_event
from benchmarks.mispgen import write_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from herdsec.core import workers
from herdsec.core.errors import InvalidInput
from herdsec.intel import misp
from herdsec.intel import prepare as preparing
from herdsec.intel.misp import parallel
from herdsec.intel.models import StixObject
from herdsec.intel.prepare import WORKER_MODULES
from tests.factories import make_group, make_member, principal_of
from tests.intel.test_misp_fast_path import _rich_event, _stored


def _outcome(session: Session, org_id: int, status: misp.MispImportStatus) -> tuple[Any, ...]:
    return (
        _stored(session, org_id),
        [
            (
                e.uuid,
                e.info,
                e.report_id,
                e.attribute_count,
                e.total_count,
                e.stored_count,
                e.failure_count,
                [(f.where, f.uuid, f.reason) for f in e.failures],
                [(n.where, n.uuid, n.reason) for n in e.notices],
            )
            for e in status.events
        ],
        (status.total_count, status.success_count, status.stored_count, status.failure_count),
    )


def _both_ways(session: Session, org_id: int, run: Any) -> tuple[Any, Any]:
    outcomes = []
    for in_parallel in (True, False):
        savepoint = session.begin_nested()
        status = run(in_parallel)
        session.flush()
        outcomes.append(_outcome(session, org_id, status))
        savepoint.rollback()
    return outcomes[0], outcomes[1]


def test_the_second_process_stores_exactly_what_the_import_in_process_stores(session: Session) -> None:
    a, b = make_member(session, "admin"), make_member(session, "viewer")
    make_group(session, a.principal, [b.org.id], name="Nhóm song song")
    actor = principal_of(session, a.user)
    rich = _rich_event("Nhóm song song")["Event"]
    broken = {"uuid": "not-a-uuid", "info": "refused as a whole", "Attribute": []}
    second = {"uuid": "5b1c0d2e-0000-4000-8000-0000000000b2", "info": "Sự kiện thứ hai", "timestamp": "1700000000"}
    body = json.dumps({"response": [{"Event": rich}, {"Event": broken}, {"Event": second}]}).encode()

    def run(in_parallel: bool) -> misp.MispImportStatus:
        return misp.import_events(session, actor, io.BytesIO(body), tlp="green", parallel=in_parallel)

    there, here = _both_ways(session, a.org.id, run)
    assert there == here
    stored, events, _counts = there
    assert len(stored["objects"]) > 300 and stored["observables"] and stored["tags"] and stored["sightings"]
    assert [e[1] for e in events] == [rich["info"], "refused as a whole", "Sự kiện thứ hai"]
    assert "is not a UUID" in events[1][7][0][2]
    assert len(events[0][7]) == 5 and events[0][8]  # refused attributes and notices, named by place


def test_a_large_file_is_streamed_in_the_second_process(session: Session, tmp_path: Path) -> None:
    a = make_member(session, "analyst")
    path = tmp_path / "event.json"
    write_event(path, 2_000, seed=3)

    def run(in_parallel: bool) -> misp.MispImportStatus:
        with path.open("rb") as stream:  # a file on disk: the child reads it itself, streamed past 1 KB
            return misp.import_events(session, a.principal, stream, stream_over=1024, parallel=in_parallel)

    there, here = _both_ways(session, a.org.id, run)
    assert there == here
    assert there[2] == (2_001, 2_001, 2_001, 0)


def test_malformed_json_is_refused_in_the_same_words_and_nothing_is_stored(session: Session) -> None:
    a = make_member(session, "analyst")
    body = b'{"Event": {"uuid": "5b1c0d2e-0000-4000-8000-0000000000b3",\n "Attribute": [}'
    refusals = []
    for in_parallel in (True, False):
        with pytest.raises(InvalidInput) as info:
            misp.import_events(session, a.principal, io.BytesIO(body), parallel=in_parallel)
        refusals.append((type(info.value), info.value.message, info.value.where, dict(info.value.params)))
    assert refusals[0] == refusals[1]
    assert refusals[0][2] == "line 2, column 16"
    assert session.scalar(select(func.count()).select_from(StixObject)) == 0


def test_a_child_out_of_memory_fails_the_import_and_loses_nothing(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past its memory cap the child refuses the document (a MemoryError) or dies (a C parser's allocation fails
    hard): either way the import fails at once and the caller's rollback leaves nothing."""
    a = make_member(session, "analyst")
    monkeypatch.setattr(parallel, "WORKER_MEMORY", 64 * 1024 * 1024)  # less than the child already holds
    body = json.dumps(generated_event(20_000)).encode()  # building it needs tens of megabytes more
    with pytest.raises((InvalidInput, workers.WorkerFailed), match=r"needs more memory|stopped unexpectedly"):
        misp.import_events(session, a.principal, io.BytesIO(body), parallel=True)
    assert session.scalar(select(func.count()).select_from(StixObject)) == 0


def test_a_broken_streamed_document_is_refused_both_ways(session: Session, tmp_path: Path) -> None:
    """Broken inside the attribute list: the first pass over a streamed event (its own fields) meets it first."""
    a = make_member(session, "analyst")
    path = tmp_path / "broken.json"
    write_event(path, 2_000, seed=5)
    text = path.read_bytes()
    cut = text.index(b'"uuid"', len(text) // 2)  # inside the attribute list
    path.write_bytes(text[:cut] + b"}}}")
    refusals = []
    for in_parallel in (True, False):
        savepoint = session.begin_nested()
        with path.open("rb") as stream, pytest.raises(InvalidInput) as info:
            misp.import_events(session, a.principal, stream, stream_over=1024, parallel=in_parallel)
        savepoint.rollback()  # what the caller's transaction does
        refusals.append((info.value.message, info.value.where, dict(info.value.params)))
    assert refusals[0] == refusals[1] and refusals[0][1] == "event"
    assert session.scalar(select(func.count()).select_from(StixObject)) == 0


def _silent(outbox: Any) -> None:
    """A child that stops without a word."""
    import os

    os._exit(3)


def _cut_short(outbox: Any) -> None:
    """A child killed while it sends a large message."""
    import os
    import signal

    outbox.put(b"x" * 50_000_000)
    os.kill(os.getpid(), signal.SIGKILL)


def _broken(outbox: Any) -> None:
    """A child whose job fails after it sent part of its results."""
    outbox.put(1)
    raise ValueError("a bug")


def _chatty(count: int, outbox: Any) -> None:
    for number in range(count):
        outbox.put(number)


def test_the_fork_server_runs_jobs_and_notices_a_child_that_dies() -> None:
    import multiprocessing

    modules = WORKER_MODULES
    assert list(workers.run(_chatty, (50,), modules=modules, what="counting", backlog=2)) == list(range(50))
    assert workers.is_warm()
    with pytest.raises(workers.WorkerFailed, match=r"the silent child stopped unexpectedly \(exit code 3\)"):
        list(workers.run(_silent, (), modules=modules, what="the silent child"))
    with pytest.raises(workers.WorkerFailed, match=r"the cut child stopped unexpectedly \(exit code -9\)"):
        list(workers.run(_cut_short, (), modules=modules, what="the cut child"))
    with pytest.raises(workers.WorkerFailed, match=r"the broken child stopped unexpectedly \(exit code 1\)"):
        list(workers.run(_broken, (), modules=modules, what="the broken child"))
    reader = workers.run(_chatty, (10_000,), modules=modules, what="counting", backlog=2)
    assert next(reader) == 0
    reader.close()  # the reader stops early: the child, blocked on the full outbox, is stopped
    assert not multiprocessing.active_children()


def test_a_second_process_is_used_where_it_pays(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small, large = io.BytesIO(b"x" * 1000), io.BytesIO(b"x" * (preparing.WARM_PARALLEL_MIN_BYTES + 1))
    monkeypatch.setattr(workers, "_warm", True)
    assert not parallel.worth_it(small) and parallel.worth_it(large)
    monkeypatch.setattr(workers, "_warm", False)  # a command-line run: starting the server costs ~1.5 s
    assert not parallel.worth_it(large)
    monkeypatch.setattr(workers, "_warm", True)
    monkeypatch.setattr("os.cpu_count", lambda: 1)  # one core: nothing to overlap
    assert not parallel.worth_it(large)
    monkeypatch.setattr("os.cpu_count", lambda: 2)
    monkeypatch.setattr(workers, "_warm", False)
    monkeypatch.setattr(preparing, "PARALLEL_MIN_BYTES", 1000)
    monkeypatch.setattr(parallel, "IN_MEMORY_MAX", 500)
    on_disk = tmp_path / "event.json"
    on_disk.write_bytes(b"x" * 2000)
    with on_disk.open("rb") as stream:
        assert parallel.worth_it(stream)  # handed over by path
    assert not parallel.worth_it(io.BytesIO(b"x" * 2000))  # would have to be copied whole: streamed here instead


def test_the_server_starts_the_fork_server_and_imports_large_events_through_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real hub (uvicorn, with its lifespan): the fork server is started when the hub starts, and an event posted
    to the API large enough for a second process is converted there and stored as a whole."""
    import httpx

    from tests.stream.live import prepare, running_hub, scratch_url

    path = tmp_path / "event.json"
    write_event(path, 1_500, seed=11)
    assert path.stat().st_size > preparing.WARM_PARALLEL_MIN_BYTES
    monkeypatch.setattr(workers, "_warm", False)  # as in a new process (an earlier test may have started it)
    with scratch_url("sqlite", tmp_path) as url:
        (member,) = prepare(url, "analyst")
        with running_hub(url):
            pass  # starting and stopping once leaves the fork server running for this process
        assert workers.is_warm()
        with running_hub(url) as live:
            response = httpx.post(
                f"{live.url}/api/v1/intel/misp/events",
                content=path.read_bytes(),
                headers={"Authorization": f"Bearer {member.key}", "Content-Type": "application/json"},
                timeout=60,
            )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["events"][0]["attribute_count"], body["stored_count"], body["failure_count"]) == (1_500, 1_501, 0)
