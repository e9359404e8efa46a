"""The federation page (coordinators: status, errors, run now with CSRF) and the ``herdsec federation`` CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from herdsec.core.db import Database
from herdsec.core.settings import load_settings
from herdsec.intel import federation
from herdsec.web.app import create_app
from tests.factories import OPERATOR, make_member
from tests.federation.servers import FakeTaxii, envelope, fake_taxii, garbage
from tests.intel_factories import indicator
from tests.test_cli import herdsec
from tests.test_pages import csrf, log_in


@pytest.fixture
def local_client(db: Database) -> Iterator[TestClient]:
    settings = load_settings(mode="dev", default_language="en", outbound_allow="loopback", outbound_timeout=2)
    with TestClient(create_app(settings, database=db), base_url="http://testserver") as c:
        yield c


def test_the_page_shows_peers_errors_and_runs_now(local_client: TestClient, session: Session) -> None:
    coordinator = make_member(session, "admin", coordinator=True)
    with fake_taxii() as fake:
        fake.pages = [garbage()]
        federation.add_peer(
            session,
            OPERATOR,
            federation.PeerIn(name="peer-a", url=fake.url, collection_id=FakeTaxii.COLLECTION),
            load_settings(mode="dev", outbound_allow="loopback"),
        )
        session.commit()
        log_in(local_client, coordinator, "/federation")
        page = local_client.get("/federation")
        assert page.status_code == 200 and "peer-a" in page.text and "Never run" in page.text
        assert local_client.post("/federation/peer-a/run", data={"csrf_token": "f" * 40}).status_code == 403
        failed = local_client.post("/federation/peer-a/run", data={"csrf_token": csrf(page.text)})
        assert failed.status_code == 200 and "The run failed" in failed.text and "not JSON" in failed.text
        assert "Failing (1 in a row)" in failed.text
        fake.calls, fake.pages = 0, [envelope([indicator()])]
        done = local_client.post("/federation/peer-a/run", data={"csrf_token": csrf(page.text)}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"] == "/federation?ran=1"
        after = local_client.get("/federation?ran=1")
        assert "The run finished." in after.text and ">page<" in after.text
        vi = local_client.get("/federation", headers={"Accept-Language": "vi"})
        assert "Liên thông" in vi.text
        unknown = local_client.post("/federation/no-such-peer/run", data={"csrf_token": csrf(page.text)})
        assert unknown.status_code == 404 and "no-such-peer" in unknown.text


def test_the_page_is_for_coordinators_only(local_client: TestClient, session: Session) -> None:
    admin = make_member(session, "admin")
    log_in(local_client, admin, "/federation")
    assert local_client.get("/federation").status_code == 403
    assert "/federation" not in local_client.get("/account").text


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HERDSEC_DATABASE_URL", url)
    monkeypatch.setenv("HERDSEC_MODE", "dev")
    return url


def test_cli_add_list_show_run_remove(
    cli_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    herdsec(capsys, "init")
    with fake_taxii() as fake:
        fake.pages = [envelope([indicator(), indicator()])]
        code, _out, err = herdsec(capsys, "federation", "add", "peer-b", "--taxii", fake.url, "--collection", "c")
        assert code == 2 and "loopback" in err and "refused to contact" in err
        monkeypatch.setenv("HERDSEC_OUTBOUND_ALLOW", "loopback")
        code, out, err = herdsec(
            capsys, "federation", "add", "peer-b", "--taxii", fake.url, "--collection", FakeTaxii.COLLECTION,
            "--direction", "both", "--interval", "10m", "--api-key", "remote-key",
        )  # fmt: skip
        assert code == 0, err
        assert "peer-b: taxii both every 10m" in out
        code, _out, err = herdsec(capsys, "federation", "add", "x", "--taxii", fake.url, "--interval", "5 minutes")
        assert code == 2 and "not a duration" in err
        code, out, err = herdsec(capsys, "federation", "run", "--once")
        assert code == 0, err
        assert "pulled 2, pushed 0" in out
        assert fake.server.requests[0][2].get("Authorization") == "Bearer remote-key"
        fake.calls, fake.pages = 0, [garbage()]
        code, out, err = herdsec(capsys, "federation", "run", "--once", "peer-b")
        assert code == 2 and "1 of 1 federation runs failed" in err and "error:" in out
        code, out, _err = herdsec(capsys, "federation", "list")
        assert "peer-b" in out and "FAILING x1" in out and "not JSON" in out
        code, out, _err = herdsec(capsys, "federation", "list", "--json")
        listed = json.loads(out)
        assert listed[0]["failures"] == 1 and "secret" not in listed[0] and "remote-key" not in out
        code, out, _err = herdsec(capsys, "federation", "show", "peer-b")
        assert code == 0 and "push cursor" in out and out.count("peer-b\t") >= 3
        code, out, _err = herdsec(capsys, "federation", "run", "--once")  # backed off: nothing due
        assert code == 0 and out == ""
    code, out, _err = herdsec(capsys, "federation", "add", "feed", "--misp-feed", "https://93.184.216.34/f/")
    assert code == 0 and "misp-feed pull" in out
    assert herdsec(capsys, "federation", "disable", "peer-b") == (0, "peer-b: disabled\n", "")
    code, out, _err = herdsec(capsys, "federation", "list")
    assert "disabled; FAILING" in out
    assert "peer-b" not in herdsec(capsys, "federation", "run", "--once")[1]
    assert herdsec(capsys, "federation", "enable", "peer-b")[0] == 0
    assert "next attempt: now" in herdsec(capsys, "federation", "show", "peer-b")[1]
    assert herdsec(capsys, "federation", "remove", "peer-b")[0] == 0
    code, _out, err = herdsec(capsys, "federation", "show", "peer-b")
    assert code == 2 and "no federation peer" in err


def test_cli_run_keeps_running_until_interrupted(
    cli_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    herdsec(capsys, "init")
    monkeypatch.setenv("HERDSEC_OUTBOUND_ALLOW", "loopback")
    waits: list[float] = []

    def stop(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("herdsec.intel.federation.cli.sleep", stop)
    with fake_taxii() as fake:
        fake.pages = [envelope([indicator()])]
        herdsec(capsys, "federation", "add", "loop", "--taxii", fake.url, "--collection", FakeTaxii.COLLECTION,
                "--interval", "1h")  # fmt: skip
        code, out, _err = herdsec(capsys, "federation", "run")
    assert code == 130
    assert out.count("pulled 1") == 1  # the second pass found nothing due (next run in an hour)
    assert waits[0] == 60.0 and waits[1] == 60.0  # capped idle wait, then the next due time is far away
