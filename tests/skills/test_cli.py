"""``herdsec skills``: the match contract (JSON lines in, ranked roles out), clear errors, idempotent load."""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.test_cli import cli_db, herdsec

__all__ = ["cli_db"]
DATA = Path(__file__).parent / "data" / "eval-postings.jsonl"


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_match_writes_one_line_per_posting_with_five_ranked_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()[:5]]
    file = _write(tmp_path / "p.jsonl", [{"id": r["id"], "title": r["title"], "text": r["text"]} for r in rows])
    code, out, err = herdsec(capsys, "skills", "match", str(file))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["id"] for line in lines] == [r["id"] for r in rows]
    for line, row in zip(lines, rows, strict=True):
        assert set(line) == {"id", "roles"} and len(line["roles"]) >= 5
        assert all(set(r) == {"id", "title", "score"} for r in line["roles"])
        scores = [r["score"] for r in line["roles"]]
        assert scores == sorted(scores, reverse=True)
        assert line["roles"][0]["id"] == row["role"]


def test_match_as_a_real_process_without_a_database(tmp_path: Path) -> None:
    file = _write(tmp_path / "p.jsonl", [{"id": "x1", "title": "Chuyên viên SOC", "text": "Giám sát SIEM, cảnh báo"}])
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "herdsec",
            "--database-url",
            f"sqlite:///{tmp_path}/none.db",
            "skills",
            "match",
            str(file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["roles"][0]["id"] == "PD-WRL-001"
    assert not (tmp_path / "none.db").exists()


def test_match_with_evidence_csv_and_utf16(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = "id,title,text\nc1,Kỹ sư mạng,Cấu hình bộ định tuyến và bộ chuyển mạch\n"
    file = tmp_path / "p.csv"
    file.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    code, out, err = herdsec(capsys, "skills", "match", str(file), "--evidence", "--limit", "6")
    assert code == 0, err
    line = json.loads(out)
    assert len(line["roles"]) == 6 and line["roles"][0]["id"] == "IO-WRL-004" and line["language"] == "vi"
    assert line["evidence"][0]["phrases"] and line["statements"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"id,title\n1,x\n", "p.csv:1: CSV header lacks the column(s) text"),
        (b"id,title,text\n1,a,b\n1,a,c\n", "p.csv:3: duplicated id '1' (first on line 2)"),
        (b"", "p.csv: the file holds no posting"),
        ("id,title,text\n1,é,è\n".encode("latin-1"), "unknown text encoding"),
    ],
)
def test_match_errors_are_one_line_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, message: str
) -> None:
    file = tmp_path / "p.csv"
    file.write_bytes(content)
    code, out, err = herdsec(capsys, "skills", "match", str(file))
    assert code == 2 and out == "" and message in err and len(err.strip().splitlines()) == 1


def test_match_refuses_fewer_than_five_roles(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = _write(tmp_path / "p.jsonl", [{"id": "1", "title": "a", "text": "b"}])
    code, _out, _err = herdsec(capsys, "skills", "match", str(file), "--limit", "3")
    assert code == 2


def test_load_is_idempotent_and_roles_are_listed(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert herdsec(capsys, "init")[0] == 0
    code, out, err = herdsec(capsys, "skills", "load")
    assert code == 0, err
    first = json.loads(out)
    assert first["work_roles"] == 41 and first["created"] > 2000
    code, out, _ = herdsec(capsys, "skills", "load")
    assert (json.loads(out)["created"], json.loads(out)["updated"]) == (0, 0)
    code, out, _ = herdsec(capsys, "skills", "roles", "--category", "IN")
    assert code == 0 and out.splitlines() == [
        "IN-WRL-001\tCybercrime Investigation\tĐiều tra tội phạm mạng",
        "IN-WRL-002\tDigital Evidence Analysis\tPhân tích chứng cứ số",
    ]


def test_match_against_the_hub_includes_custom_roles(
    cli_db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from herdsec.core.db import Database
    from herdsec.skills import service
    from herdsec.skills.schemas import CustomRoleIn
    from tests.factories import make_member

    assert herdsec(capsys, "init")[0] == 0
    assert herdsec(capsys, "skills", "load")[0] == 0
    db = Database.from_url(cli_db)
    with db.transaction() as session:
        coordinator = make_member(session, coordinator=True)
        service.create_custom_role(
            session,
            coordinator.principal,
            CustomRoleIn(code="VN-WRL-002", name_en="Payment fraud analyst", name_vi="Chuyên viên chống gian lận thẻ"),
        )
    db.dispose()
    file = _write(
        tmp_path / "p.jsonl", [{"id": "1", "title": "Chuyên viên chống gian lận thẻ", "text": "gian lận thẻ"}]
    )
    code, out, err = herdsec(capsys, "skills", "match", str(file), "--hub")
    assert code == 0, err
    assert json.loads(out)["roles"][0]["id"] == "VN-WRL-002"


CPRT = Path(__file__).resolve().parents[3] / "shared" / "data" / "nist-nice"


@pytest.mark.skipif(not CPRT.exists(), reason="../shared/data/nist-nice is not present")
def test_load_from_nists_cprt_export_keeps_the_version_and_old_ids(
    cli_db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert herdsec(capsys, "init")[0] == 0
    code, out, err = herdsec(
        capsys,
        "skills",
        "load",
        "--cprt",
        str(CPRT / "cprt" / "cprt_SP_800_181_2_1_0.json"),
        "--roles-2017",
        str(CPRT / "sp800-181-2017" / "work_roles.json"),
    )
    assert code == 0, err
    assert json.loads(out)["version"] == "2.1.0"
    code, out, _ = herdsec(capsys, "skills", "load")  # the shipped copy is the same data: nothing changes
    assert (json.loads(out)["created"], json.loads(out)["updated"]) == (0, 0)
    bad = CPRT.parent / "nist-nice" / "MANIFEST.md"
    code, _out, err = herdsec(capsys, "skills", "load", "--cprt", str(bad))
    assert code == 2 and "not JSON" in err


def test_statement_shows_a_2017_id_with_its_successor(cli_db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert herdsec(capsys, "init")[0] == 0
    assert herdsec(capsys, "skills", "load")[0] == 0
    code, out, err = herdsec(capsys, "skills", "statement", "K0048")
    assert code == 0, err
    found = json.loads(out)
    assert found["legacy"]["method"] == "same-text" and [s["code"] for s in found["statements"]] == ["K0734"]
    code, _out, err = herdsec(capsys, "skills", "statement", "Q1234")
    assert code != 0 and "Q1234" in err
