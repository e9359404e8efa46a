"""Read job postings from uploaded bytes (pure): JSON lines, CSV or plain text, UTF-8 (with or without BOM) or
UTF-16 (BOM or detected), with limits, every problem named by line and column."""

from __future__ import annotations

import codecs
import csv
import html
import io
import json
import re
from typing import Any

from pydantic import ValidationError

from herdsec.core.errors import N_, InvalidInput, PayloadTooLarge
from herdsec.skills.schemas import MAX_POSTING_CHARS, PostingIn

__all__ = ["MAX_FILE_BYTES", "MAX_POSTINGS", "MAX_POSTING_CHARS", "decode", "plain", "read"]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_POSTINGS = 10_000
REQUIRED = ("id", "title", "text")
FORMATS = ("auto", "jsonl", "csv", "text")
TAG = re.compile(r"<[^>]{0,2000}>")


def decode(data: bytes, where: str) -> str:
    """UTF-8 (BOM optional) or UTF-16 (BOM, or NUL bytes in every other position); anything else is refused."""
    if data.startswith(codecs.BOM_UTF8):
        data, encoding = data[len(codecs.BOM_UTF8) :], "utf-8"
    elif data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    elif len(data) >= 4 and data[1:80:2].count(0) > len(data[1:80:2]) * 0.6:
        encoding = "utf-16-le"
    elif len(data) >= 4 and data[0:80:2].count(0) > len(data[0:80:2]) * 0.6:
        encoding = "utf-16-be"
    else:
        encoding = "utf-8"
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            N_("unknown text encoding (byte %(offset)s): send UTF-8 (with or without BOM) or UTF-16"),
            where=where,
            offset=exc.start,
        ) from None


def plain(text: str) -> str:
    """The text of a posting for matching: tags dropped, entities decoded (pages still show the original, escaped)."""
    return html.unescape(TAG.sub(" ", text))


def _guess(text: str, name: str) -> str:
    lower = name.lower()
    if lower.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if lower.endswith(".csv"):
        return "csv"
    if lower.endswith(".txt"):
        return "text"
    head = text.lstrip()[:1]
    return "jsonl" if head == "{" else "text"


def read(data: bytes, name: str = "postings", fmt: str = "auto") -> list[PostingIn]:
    """Every posting of an upload, or one error naming the file, line and the problem."""
    if fmt not in FORMATS:
        raise InvalidInput(N_("unknown format %(format)r (use auto, jsonl, csv or text)"), where=name, format=fmt)
    if len(data) > MAX_FILE_BYTES:
        raise PayloadTooLarge(N_("the file is over %(max)s bytes"), where=name, max=MAX_FILE_BYTES)
    text = decode(data, name)
    if not text.strip():
        raise InvalidInput(N_("the file holds no posting"), where=name)
    kind = _guess(text, name) if fmt == "auto" else fmt
    raw = {"jsonl": _jsonl, "csv": _csv, "text": _text}[kind](text, name)
    if len(raw) > MAX_POSTINGS:
        raise PayloadTooLarge(N_("more than %(max)s postings in one file"), where=name, max=MAX_POSTINGS)
    postings: list[PostingIn] = []
    seen: dict[str, int] = {}
    for line, row in raw:
        where = f"{name}:{line}"
        posting = _posting(row, where)
        if posting.id in seen:
            raise InvalidInput(
                N_("duplicated id %(id)r (first on line %(first)s)"), where=where, id=posting.id, first=seen[posting.id]
            )
        seen[posting.id] = line
        postings.append(posting)
    return postings


def _posting(row: dict[str, Any], where: str) -> PostingIn:
    missing = [c for c in REQUIRED if row.get(c) in (None, "")]
    if "text" not in missing and isinstance(row.get("text"), str) and not row["text"].strip():
        missing.append("text")
    if missing:
        raise InvalidInput(N_("missing or empty: %(columns)s"), where=where, columns=", ".join(missing))
    text = str(row["text"])
    if len(text) > MAX_POSTING_CHARS:
        raise PayloadTooLarge(
            N_("the posting text is %(size)s characters, over the limit of %(max)s"),
            where=where,
            size=len(text),
            max=MAX_POSTING_CHARS,
        )
    fields = {
        k: (str(v).strip() if v is not None and k != "date" else v)
        for k, v in row.items()
        if k in PostingIn.model_fields
    }
    if fields.get("date") in ("", None):
        fields.pop("date", None)
    for optional in ("employer", "province", "sector"):
        if fields.get(optional) == "":
            fields.pop(optional)
    try:
        return PostingIn.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InvalidInput(N_("%(field)s: %(reason)s"), where=where, field=field, reason=first["msg"]) from None


def _jsonl(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidInput(N_("not JSON: %(reason)s"), where=f"{name}:{number}", reason=exc.msg) from None
        if not isinstance(value, dict):
            raise InvalidInput(N_("each line must be a JSON object"), where=f"{name}:{number}")
        rows.append((number, value))
    return rows


def _csv(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InvalidInput(
            N_("CSV header lacks the column(s) %(columns)s"), where=f"{name}:1", columns=", ".join(missing)
        )
    reader.fieldnames = header
    rows = []
    try:
        for row in reader:
            if None in row:
                raise InvalidInput(N_("more cells than header columns"), where=f"{name}:{reader.line_num}")
            if any(v not in (None, "") for v in row.values()):
                rows.append((reader.line_num, dict(row)))
    except csv.Error as exc:
        raise InvalidInput(
            N_("malformed CSV: %(reason)s"), where=f"{name}:{reader.line_num}", reason=str(exc)
        ) from None
    return rows


def _text(text: str, name: str) -> list[tuple[int, dict[str, Any]]]:
    """One posting per file: the first non-empty line is the title, the rest the text."""
    lines = text.strip().splitlines()
    title, body = lines[0].strip(), "\n".join(lines[1:]).strip() or lines[0].strip()
    stem = re.sub(r"\.[A-Za-z0-9]+$", "", name.rsplit("/", 1)[-1]) or "posting"
    return [(1, {"id": stem, "title": title[:300], "text": body})]
