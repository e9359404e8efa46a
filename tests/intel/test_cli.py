"""`herdsec intel import` and `herdsec intel lookup`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.intel_factories import bundle, indicator
from tests.test_cli import herdsec


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("HERDSEC_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    herdsec(capsys, "init")
    herdsec(capsys, "org", "add", "Ngân hàng Nguồn", "--kind", "bank")
    herdsec(capsys, "org", "add", "Công ty Đọc", "--kind", "sme")
    return tmp_path


def test_import_a_bundle_and_a_text_list_then_look_up(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stix = hub / "report.json"
    stix.write_text(json.dumps(bundle(indicator("198.51.100.77"), indicator(pattern="[ipv4-addr:value = 'x'"))))
    text = hub / "iocs.txt"
    text.write_text(
        "# from the bank's SOC\nhxxps://phish-vcb-login[.]example/otp\n45.77.1[.]2\nnot an ioc\n", encoding="utf-8"
    )
    code, out, err = herdsec(
        capsys, "intel", "import", str(stix), str(text), "--org", "Ngân hàng Nguồn", "--tlp", "green"
    )
    assert code == 1  # something was refused
    assert "1 stored" in out and "2 stored" in out
    assert "object 1" in err and "invalid pattern" in err and "iocs.txt:4: not an indicator" in err
    code, out, _ = herdsec(capsys, "intel", "lookup", "45.77.1.2", "--as-org", "Công ty Đọc", "--json")
    result = json.loads(out)
    assert code == 0 and result["matches"][0]["creator"] == "Ngân hàng Nguồn"
    code, out, _ = herdsec(capsys, "intel", "import", str(text), "--org", "Ngân hàng Nguồn", "--json")
    assert code == 0 and json.loads(out)["stored_count"] == 0  # idempotent
    code, out, _ = herdsec(capsys, "intel", "lookup", "203.0.113.1", "--as-org", "Công ty Đọc")
    assert code == 1 and "0 match" in out


def test_import_errors(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = hub / "broken.json"
    broken.write_text('{"type": "bundle",\n"objects": [\n{"type": "indicator",}]}')
    code, _, err = herdsec(capsys, "intel", "import", str(broken), "--org", "Ngân hàng Nguồn")
    assert code == 2 and "line 3" in err
    code, _, err = herdsec(capsys, "intel", "import", str(broken), "--org", "Không có")
    assert code == 2 and "Không có" in err
    code, _, err = herdsec(capsys, "intel", "import", str(hub / "missing.json"), "--org", "Ngân hàng Nguồn")
    assert code == 2
    latin = hub / "latin1.txt"
    latin.write_bytes("1.2.3.4 caf\xe9\n".encode("latin-1"))
    code, _, err = herdsec(capsys, "intel", "import", str(latin), "--org", "Ngân hàng Nguồn", "--format", "txt")
    assert code == 2 and "UTF-8" in err
