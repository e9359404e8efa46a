"""The CLI contract that scripts and later issues rely on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from herdsec.cli.main import run
from herdsec.migrations import head_revision
from tests.conftest import PG_URL, _drop_postgres, _fresh_postgres


@pytest.fixture
def cli_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("HERDSEC_DATABASE_URL", url)
    return url


def herdsec(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = 0
    try:
        run(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_init_is_idempotent(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert herdsec(capsys, "init")[0] == 0
    code, out, _ = herdsec(capsys, "init")
    assert code == 0 and f"schema {head_revision()}" in out


def test_org_add_prints_the_id_and_list_json(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    herdsec(capsys, "init")
    code, out, _ = herdsec(
        capsys,
        "org",
        "add",
        "Ngân hàng TMCP Hồng Hà",
        "--kind",
        "bank",
        "--sector",
        "Tài chính",
        "--province",
        "Hà Nội",
    )
    assert code == 0 and out.strip().isdigit()
    code, out, _ = herdsec(capsys, "org", "list", "--json")
    listed = json.loads(out)
    assert listed[0]["name"] == "Ngân hàng TMCP Hồng Hà" and listed[0]["id"] == 1 and listed[0]["province"] == "Hà Nội"


def test_errors_are_one_line_on_stderr_with_exit_2(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    herdsec(capsys, "init")
    herdsec(capsys, "org", "add", "Công ty A", "--kind", "sme")
    cases = [
        ("org", "add", "công ty a", "--kind", "sme"),  # duplicate
        ("org", "add", "Công ty B", "--kind", "startup"),  # unknown kind
        ("key", "add", "--org", "Không tồn tại", "--role", "admin"),  # unknown organization
        ("key", "add", "--org", "Công ty A", "--role", "root"),  # unknown role
    ]
    for argv in cases:
        code, out, err = herdsec(capsys, *argv)
        assert code == 2, argv
        assert out == "" and err.count("\n") == 1 and err.startswith("herdsec: error: "), (argv, err)
    assert "Công ty A" in herdsec(capsys, *cases[0])[2]
    assert "kind" in herdsec(capsys, *cases[1])[2]


def test_key_add_prints_the_key_alone(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    herdsec(capsys, "init")
    herdsec(capsys, "org", "add", "Công ty Khóa", "--kind", "sme")
    code, out, _ = herdsec(
        capsys, "key", "add", "--org", "Công ty Khóa", "--role", "analyst", "--email", "soc@khoa.example"
    )
    assert code == 0 and len(out.splitlines()) == 1 and out.startswith("hsk_")
    from fastapi.testclient import TestClient

    from herdsec.core.settings import load_settings
    from herdsec.web.app import create_app

    with TestClient(create_app(load_settings(mode="dev", database_url=cli_db))) as client:
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {out.strip()}"}).json()
    assert me["organization"]["name"] == "Công ty Khóa" and me["role"] == "analyst"
    assert me["user"]["email"] == "soc@khoa.example"


def test_help_everywhere(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in ([], ["org"], ["org", "add"], ["key", "add"], ["serve"], ["demo"], ["init"], ["user", "add"]):
        code, out, _ = herdsec(capsys, *argv, "--help")
        assert code == 0 and "Usage:" in out, argv


def test_bad_database_url_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERDSEC_DATABASE_URL", f"sqlite:///{tmp_path}/missing-dir/x.db")
    code, _, err = herdsec(capsys, "init")
    assert code == 2 and "cannot open the database" in err
    monkeypatch.setenv("HERDSEC_DATABASE_URL", "mysql://nope")
    code, _, err = herdsec(capsys, "init")
    assert code == 2 and "sqlite" in err


def test_serve_refuses_the_default_secret_in_production(
    cli_db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HERDSEC_MODE", "production")
    monkeypatch.delenv("HERDSEC_SECRET_KEY", raising=False)
    code, _, err = herdsec(capsys, "serve")
    assert code == 2 and "HERDSEC_SECRET_KEY" in err


def test_demo_builds_a_populated_hub(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    for _ in range(2):  # a second run starts from scratch again
        code, out, _ = herdsec(capsys, "demo", "--no-serve", "--database", url)
        assert code == 0 and "herdsec-demo-2026" in out and "admin@vncc.example" in out
    os.environ["HERDSEC_DATABASE_URL"] = url
    try:
        listed = json.loads(herdsec(capsys, "org", "list", "--json")[1])
    finally:
        del os.environ["HERDSEC_DATABASE_URL"]
    kinds = {o["kind"] for o in listed}
    assert kinds == {
        "enterprise",
        "sme",
        "bank",
        "government",
        "university",
        "training",
        "vendor",
        "lab",
        "coordinator",
    }
    assert len({o["province"] for o in listed}) >= 5 and any("ệ" in o["name"] or "ố" in o["name"] for o in listed)


def test_console_script_is_installed(tmp_path: Path) -> None:
    exe = Path(sys.executable).with_name("herdsec")
    env = {**os.environ, "HERDSEC_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    done = subprocess.run([str(exe), "init"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="HERDSEC_TEST_DATABASE_URL is not set")
def test_init_on_postgresql(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    name, engine = _fresh_postgres()
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()
    try:
        monkeypatch.setenv("HERDSEC_DATABASE_URL", url)
        assert herdsec(capsys, "init")[0] == 0
        assert herdsec(capsys, "init")[0] == 0
        assert herdsec(capsys, "org", "add", "Tập đoàn Bưu chính Thử", "--kind", "enterprise")[1].strip() == "1"
    finally:
        _drop_postgres(name)


@pytest.mark.parametrize("argv", [["nosuch"], ["org", "add"], ["org", "add", "X", "--kind", "sme", "--bogus"]])
def test_usage_errors_exit_2_without_a_traceback(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, _, err = herdsec(capsys, *argv)
    assert code == 2 and "Traceback" not in err and "Error:" in err
