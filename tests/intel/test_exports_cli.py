"""`herdsec intel export`: formats to stdout, a file or a directory, filters, errors."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.test_cli import herdsec


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("HERDSEC_DATABASE_URL", f"sqlite:///{tmp_path / 'hub.db'}")
    herdsec(capsys, "init")
    herdsec(capsys, "org", "add", "Ngân hàng Nguồn", "--kind", "bank")
    herdsec(capsys, "org", "add", "Công ty Đọc", "--kind", "sme")
    herdsec(capsys, "org", "add", "Công ty Riêng", "--kind", "sme")
    values = tmp_path / "iocs.txt"
    values.write_text("listed[.]example\n91.243.44.12\ngoogle.com\nhxxp://c2-bad[.]xyz/gate.php\n", encoding="utf-8")
    code, _, _ = herdsec(capsys, "intel", "import", str(values), "--org", "Ngân hàng Nguồn", "--tlp", "green")
    assert code == 0
    private = tmp_path / "private.txt"
    private.write_text("amber-private.xyz\n", encoding="utf-8")
    code, _, _ = herdsec(
        capsys, "intel", "import", str(private), "--org", "Công ty Riêng", "--distribution", "organization"
    )
    assert code == 0
    return tmp_path


def test_export_to_stdout_with_filters(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = herdsec(capsys, "intel", "export", "--format", "txt", "--as-org", "Công ty Đọc")
    assert code == 0 and set(out.split()) == {"listed.example", "91.243.44.12", "http://c2-bad.xyz/gate.php"}
    code, out, _ = herdsec(
        capsys, "intel", "export", "--format", "txt", "--as-org", "Công ty Đọc", "--include-warninglisted"
    )
    assert "google.com" in out.split() and "amber-private.xyz" not in out
    code, out, _ = herdsec(
        capsys, "intel", "export", "--format", "txt", "--as-org", "Công ty Đọc", "--type", "ipv4", "--since", "1d"
    )
    assert out.split() == ["91.243.44.12"]
    code, out, _ = herdsec(capsys, "intel", "export", "--format", "txt", "--as-org", "Công ty Riêng")
    assert "amber-private.xyz" in out.split()
    code, out, _ = herdsec(capsys, "intel", "export", "--format", "stix", "--as-org", "Công ty Đọc")
    assert code == 0 and json.loads(out)["type"] == "bundle"


def test_export_to_a_file_and_a_directory(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    zone = hub / "out" / "rpz.zone"
    zone.parent.mkdir()
    code, _, _ = herdsec(
        capsys, "intel", "export", "--format", "rpz", "--as-org", "Công ty Đọc", "-o", str(zone), "--zone", "rpz.lan"
    )
    assert code == 0 and "listed.example CNAME ." in zone.read_text()
    assert not list(zone.parent.glob("*.partial"))
    target = hub / "datasets"
    code, _, err = herdsec(
        capsys, "intel", "export", "--format", "suricata-dataset", "--as-org", "Công ty Đọc", "-o", str(target)
    )
    assert code == 0
    assert sorted(p.name for p in target.iterdir()) == [
        "herdsec-datasets.rules",
        "herdsec-domains.lst",
        "herdsec-ips.lst",
        "herdsec-user-agents.lst",
    ]
    domains = (target / "herdsec-domains.lst").read_text().split()
    assert [base64.b64decode(d).decode() for d in domains] == ["listed.example"]
    assert "herdsec-ips.lst" in err


def test_export_errors(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = herdsec(capsys, "intel", "export", "--format", "pdf", "--as-org", "Công ty Đọc")
    assert code == 2 and "unknown export format" in err
    code, _, err = herdsec(capsys, "intel", "export", "--format", "txt", "--as-org", "Không có")
    assert code == 2 and "Không có" in err
    code, _, err = herdsec(capsys, "intel", "export", "--format", "suricata-dataset", "--as-org", "Công ty Đọc")
    assert code == 2 and "-o DIRECTORY" in err
    code, _, err = herdsec(capsys, "intel", "export", "--format", "txt", "--as-org", "Công ty Đọc", "--since", "soon")
    assert code == 2 and "since" in err


def test_export_misp_events_and_a_misp_feed(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from pymisp import MISPEvent

    event = {
        "Event": {
            "uuid": "5b2f3c1e-7a0d-4e59-9a52-2c7f5d0e9a01",
            "info": "Phishing wave against banks",
            "distribution": "3",
            "threat_level_id": "2",
            "analysis": "1",
            "date": "2026-11-30",
            "timestamp": "1764460800",
            "Tag": [{"name": "tlp:green"}],
            "Attribute": [
                {"uuid": "0e3b8c52-9d1f-4c0a-8f3e-1a2b3c4d5e6f", "type": "domain", "category": "Network activity",
                 "value": "phish-bank.example", "to_ids": True, "distribution": "5", "timestamp": "1764460800"},
            ],
        }
    }  # fmt: skip
    source = hub / "event.json"
    source.write_text(json.dumps(event), encoding="utf-8")
    code, _, err = herdsec(capsys, "intel", "import", str(source), "--org", "Ngân hàng Nguồn", "--format", "misp")
    assert code == 0, err
    code, out, err = herdsec(capsys, "intel", "export", "--format", "misp", "--as-org", "Công ty Đọc")
    assert code == 0, err
    exported = json.loads(out)["response"]
    assert len(exported) == 1
    loaded = MISPEvent()
    loaded.load(exported[0])
    assert [(a.type, a.value) for a in loaded.attributes] == [("domain", "phish-bank.example")]
    code, _, err = herdsec(capsys, "intel", "export", "--format", "misp-feed", "--as-org", "Công ty Đọc")
    assert code == 2 and "-o DIRECTORY" in err
    feed = hub / "feed"
    code, _, err = herdsec(
        capsys, "intel", "export", "--format", "misp-feed", "--as-org", "Công ty Đọc", "-o", str(feed)
    )
    assert code == 0, err
    manifest = json.loads((feed / "manifest.json").read_text(encoding="utf-8"))
    assert list(manifest) == [event["Event"]["uuid"]]
    assert (feed / "hashes.csv").read_text(encoding="utf-8").strip()
