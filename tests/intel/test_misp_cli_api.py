"""The MISP and CSV doors: ``herdsec intel import --format``, CSV lists, and the MISP JSON API."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pymisp import MISPEvent
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.errors import InvalidInput
from herdsec.identity.visibility import TLP2_MARKINGS, Tlp
from herdsec.intel import lists, service
from herdsec.intel.cli import _format_of
from herdsec.intel.models import StixObject
from tests.factories import bearer, make_member
from tests.intel.test_cli import hub  # noqa: F401 - the fixture
from tests.intel.test_misp import attribute, event
from tests.intel_factories import bundle, indicator
from tests.test_cli import herdsec

CSV = (
    "value,type,comment,tags,tlp\n"
    '203.0.113[.]31,ip-dst,C2 của chiến dịch,"phishing; banking",green\n'
    "evil.example,domain,,,\n"
    '=HYPERLINK("http://x"),url,,,\n'
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855,sha256,=cmd|' /C calc'!A0,,red\n"
    "198.51.100.300,ipv4,,,\n"
    "198.51.100.33,,guessed,,\n"
    "10.0.0.1,ip-dst,,,ultraviolet\n"
)


def test_csv_rows_are_typed_tagged_marked_and_formulas_stay_text(session: Session) -> None:
    a, b = make_member(session, "analyst"), make_member(session, "viewer")
    table = lists.read_csv(io.BytesIO(CSV.encode()), "iocs.csv")
    assert [r.line for r in table.rows] == [2, 3, 5, 7]
    assert [p.split(": ")[0] for p in table.problems] == ["iocs.csv:4", "iocs.csv:6", "iocs.csv:8"]
    assert "unknown TLP 'ultraviolet'" in table.problems[2]
    status = lists.share_rows(session, a.principal, table.rows, tlp="amber")
    assert (status.stored_count, status.failure_count) == (4, 0)
    match = service.lookup(session, b.principal, "203.0.113.31").matches[0]
    assert match.tlp == "green"
    stored = {json.loads(d)["name"]: json.loads(d) for d in session.scalars(select(StixObject.data))}
    assert stored["203.0.113.31"]["labels"] == ["phishing", "banking"]
    assert stored["203.0.113.31"]["description"] == "C2 của chiến dịch"
    formula = stored["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]
    assert formula["description"] == "=cmd|' /C calc'!A0"  # kept as the text it is, never evaluated or altered
    assert formula["object_marking_refs"] == [TLP2_MARKINGS[Tlp.RED]]
    assert service.lookup(session, b.principal, "198.51.100.33").matches  # type guessed
    assert lists.share_rows(session, a.principal, table.rows).stored_count == 0  # idempotent


@pytest.mark.parametrize(
    ("text", "missing"),
    [
        ("type,comment\nip-dst,x\n", "value"),
        ("indicator,kind\n1.2.3.4,ip\n", "value, type"),
        ("value\n1.2.3.4\n", "type"),
    ],
)
def test_csv_without_the_required_columns_names_them_and_the_line(text: str, missing: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        lists.read_csv(io.BytesIO(text.encode()), "bad.csv")
    assert caught.value.where == "bad.csv:1"
    assert f"lacks the column(s) {missing}" in caught.value.render()


def test_csv_that_is_not_utf8_or_empty() -> None:
    with pytest.raises(InvalidInput, match="UTF-8"):
        lists.read_csv(io.BytesIO("value,type\nmáy.vn,domain\n".encode("cp1258")), "x.csv")
    with pytest.raises(InvalidInput, match="empty"):
        lists.read_csv(io.BytesIO(b""), "x.csv")


def test_format_detection(tmp_path: Path) -> None:
    files = {
        "a.json": json.dumps(bundle(indicator("192.0.2.1"))),
        "b.json": json.dumps(event(attribute("ip-dst", "192.0.2.2"))),
        "c.json": json.dumps([event(attribute("ip-dst", "192.0.2.3"))]),
        "d.txt": "value,type\n192.0.2.4,ipv4\n",
        "e.csv": "ioc\n192.0.2.5\n",
        "f.txt": "192.0.2.6\nevil.example\n",
    }
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    found = {name: _format_of(tmp_path / name, "auto") for name in files}
    assert found == {
        "a.json": "stix",
        "b.json": "misp",
        "c.json": "misp",
        "d.txt": "csv",
        "e.csv": "csv",
        "f.txt": "txt",
    }
    assert _format_of(tmp_path / "f.txt", "misp") == "misp"


def test_cli_imports_misp_and_csv(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    doc = event(attribute("ip-dst", "198.51.100.141"), attribute("ip-dst|port", "198.51.100.142|x"))
    (hub / "event.json").write_text(json.dumps(doc))
    (hub / "list.csv").write_text("value,type,tlp\n198.51.100.143,ipv4,clear\n")
    code, out, err = herdsec(
        capsys, "intel", "import", str(hub / "event.json"), str(hub / "list.csv"), "--org", "Ngân hàng Nguồn"
    )
    assert code == 1  # one attribute refused
    assert f"event {doc['Event']['uuid']}" in out and "2 attributes" in out and "1 refused" in out
    assert "Attribute[1]" in err and "is not a number" in err
    assert "list.csv: 1 objects, 1 stored" in out
    code, out, _ = herdsec(capsys, "intel", "lookup", "198.51.100.141", "--as-org", "Công ty Đọc", "--json")
    assert code == 0 and json.loads(out)["matches"][0]["tlp"] == "green"
    code, out, _ = herdsec(capsys, "intel", "import", str(hub / "event.json"), "--org", "Ngân hàng Nguồn", "--json")
    assert json.loads(out)["stored_count"] == 0
    (hub / "bad.csv").write_text("value\n1.2.3.4\n")
    code, _, err = herdsec(capsys, "intel", "import", str(hub / "bad.csv"), "--org", "Ngân hàng Nguồn")
    assert code == 2 and "lacks the column(s) type" in err and "bad.csv:1" in err
    code, _, err = herdsec(capsys, "intel", "import", str(hub / "event.json"), "--org", "X", "--format", "xml")
    assert code == 2 and "expected auto, stix, misp, csv or txt" in err


def test_api_imports_an_event_and_exports_it(client: TestClient, session: Session) -> None:
    a, b, viewer = make_member(session, "analyst"), make_member(session, "analyst"), make_member(session, "viewer")
    doc = event(
        attribute("domain", "api.example"),
        attribute("ip-src|port", "203.0.113.150"),
        attribute("ip-dst", "203.0.113.151", distribution="0"),
    )
    response = client.post("/api/v1/intel/misp/events", headers=bearer(a.key), json=doc)
    assert response.status_code == 200, response.text
    status = response.json()
    assert (status["success_count"], status["failure_count"]) == (3, 1)
    (failure,) = status["events"][0]["failures"]
    assert failure["where"] == "Attribute[1]" and failure["uuid"] == doc["Event"]["Attribute"][1]["uuid"]
    got = client.get(f"/api/v1/intel/misp/events/{doc['Event']['uuid']}", headers=bearer(b.key))
    assert got.status_code == 200
    loaded = MISPEvent()
    loaded.load(got.text)
    assert [x.value for x in loaded.attributes] == ["api.example"]  # the organization-only one stays private
    own = client.get(f"/api/v1/intel/misp/events/{doc['Event']['uuid']}", headers=bearer(a.key)).json()
    assert len(own["Event"]["Attribute"]) == 2
    assert (
        client.get("/api/v1/intel/misp/events/6b1f7e2c-0000-4000-8000-000000000000", headers=bearer(b.key)).status_code
        == 404
    )
    assert client.post("/api/v1/intel/misp/events", headers=bearer(viewer.key), json=doc).status_code == 403
    broken = client.post(
        "/api/v1/intel/misp/events",
        headers=bearer(a.key) | {"Content-Type": "application/json"},
        content=b'{"Event": {"Attribute": [}',
    )
    assert broken.status_code == 422 and "malformed JSON" in broken.text


def test_cli_writes_a_misp_feed(hub: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    shared = event(attribute("ip-dst", "198.51.100.161"), tags=("tlp:clear",), distribution="3")
    (hub / "event.json").write_text(json.dumps(shared))
    assert herdsec(capsys, "intel", "import", str(hub / "event.json"), "--org", "Ngân hàng Nguồn")[0] == 0
    code, out, _ = herdsec(capsys, "intel", "misp-feed", str(hub / "feed"), "--org", "Ngân hàng Nguồn", "--public")
    assert code == 0 and "1 events, 1 attribute values" in out
    manifest = json.loads((hub / "feed" / "manifest.json").read_text())
    assert list(manifest) == [shared["Event"]["uuid"]]
    code, _, err = herdsec(capsys, "intel", "misp-feed", str(hub / "feed"), "--org", "No Such Organization")
    assert code == 2 and err.startswith("herdsec: error:") and "No Such Organization" in err
    (hub / "a-file").write_text("not a directory")
    code, _, err = herdsec(capsys, "intel", "misp-feed", str(hub / "a-file"), "--org", "Ngân hàng Nguồn")
    assert code == 2 and err.startswith("herdsec: error:") and "a-file" in err
    assert (hub / "a-file").read_text() == "not a directory"
