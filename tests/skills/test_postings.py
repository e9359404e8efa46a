"""Bad input for job postings: sizes, encodings, CSV columns, duplicated ids, HTML."""

from __future__ import annotations

import codecs
import json

import pytest

from herdsec.core.errors import InvalidInput, PayloadTooLarge
from herdsec.skills import postings

LINE = {"id": "a1", "title": "SOC analyst", "text": "Giám sát an ninh mạng"}


def jsonl(*rows: dict[str, str]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def test_jsonl_csv_and_text_are_read() -> None:
    assert postings.read(jsonl(LINE), "p.jsonl")[0].text == "Giám sát an ninh mạng"
    csv_bytes = "id,title,text,province\nb2,Pentester,Kiểm thử xâm nhập,Hà Nội\n".encode()
    read = postings.read(csv_bytes, "p.csv")
    assert read[0].id == "b2" and read[0].province == "Hà Nội"
    text = postings.read("Kỹ sư mạng\nCấu hình bộ định tuyến\n".encode(), "tuyen-dung.txt")
    assert (text[0].id, text[0].title, text[0].text) == ("tuyen-dung", "Kỹ sư mạng", "Cấu hình bộ định tuyến")


@pytest.mark.parametrize(
    "encoded",
    [
        codecs.BOM_UTF8 + jsonl(LINE),
        codecs.BOM_UTF16_LE + jsonl(LINE).decode().encode("utf-16-le"),
        codecs.BOM_UTF16_BE + jsonl(LINE).decode().encode("utf-16-be"),
        jsonl(LINE).decode().encode("utf-16-le"),  # no BOM: detected by its NUL bytes
        jsonl(LINE).decode().encode("utf-16-be"),
    ],
    ids=["utf8-bom", "utf16le-bom", "utf16be-bom", "utf16le", "utf16be"],
)
def test_utf8_with_bom_and_utf16_are_decoded(encoded: bytes) -> None:
    assert postings.read(encoded, "p.jsonl")[0].text == "Giám sát an ninh mạng"


def test_an_unknown_encoding_is_refused_clearly() -> None:
    with pytest.raises(InvalidInput, match=r"unknown text encoding.*UTF-8.*UTF-16"):
        postings.read("id,title,text\n1,Sécurité réseau,Analyste sécurité\n".encode("latin-1"), "p.csv")


def test_empty_file_and_empty_posting_are_refused() -> None:
    with pytest.raises(InvalidInput, match=r"no posting"):
        postings.read(b"  \n", "p.jsonl")
    with pytest.raises(InvalidInput, match=r"p.jsonl:2: missing or empty: text"):
        postings.read(jsonl(LINE, {"id": "a2", "title": "x", "text": "   "}), "p.jsonl")


def test_huge_posting_and_huge_file_hit_the_limits() -> None:
    big = {"id": "h", "title": "t", "text": "a" * (postings.MAX_POSTING_CHARS + 1)}
    with pytest.raises(PayloadTooLarge, match=r"p.jsonl:1: the posting text is 50001 characters"):
        postings.read(jsonl(big), "p.jsonl")
    with pytest.raises(PayloadTooLarge, match=r"over 20971520 bytes"):
        postings.read(b" " * (postings.MAX_FILE_BYTES + 1), "p.jsonl")


def test_csv_with_missing_columns_names_them() -> None:
    with pytest.raises(InvalidInput, match=r"p.csv:1: CSV header lacks the column\(s\) title, text"):
        postings.read(b"id,body\n1,x\n", "p.csv")
    with pytest.raises(InvalidInput, match=r"p.csv:3: missing or empty: title"):
        postings.read(b"id,title,text\n1,a,b\n2,,c\n", "p.csv")


def test_duplicated_ids_are_refused_with_both_lines() -> None:
    with pytest.raises(InvalidInput, match=r"p.jsonl:3: duplicated id 'a1' \(first on line 1\)"):
        postings.read(jsonl(LINE, {**LINE, "id": "a2"}, LINE), "p.jsonl")


def test_broken_json_lines_are_located() -> None:
    with pytest.raises(InvalidInput, match=r"p.jsonl:2: not JSON"):
        postings.read(jsonl(LINE) + b"\n{oops", "p.jsonl")
    with pytest.raises(InvalidInput, match=r"p.jsonl:1: each line must be a JSON object"):
        postings.read(b"[1, 2]", "p.jsonl")


def test_html_is_dropped_for_matching_only() -> None:
    read = postings.read(jsonl({**LINE, "text": "<b>Giám sát</b> &amp; <script>x()</script>SIEM"}), "p.jsonl")
    assert "<script>" in read[0].text  # kept as sent (pages escape it)
    assert postings.plain(read[0].text) == " Giám sát  &  x() SIEM"
