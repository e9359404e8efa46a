"""Accuracy of posting → role matching on a labelled set: a fixed train/test split, top-1 and top-3 per language.

Each labelled posting has one correct role (``role``) and acceptable ``alternates``. Top-1 counts the correct role
only; top-3 counts the correct role among the first three. The split is fixed by a hash of the posting id (40 % test),
so that nobody can move a posting between splits to please the numbers; tune only on ``train``.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from herdsec.skills.matching import Matcher

TEST_SHARE = 40  # percent


def split_of(posting_id: str) -> str:
    bucket = int(hashlib.sha256(posting_id.encode()).hexdigest()[:8], 16) % 100
    return "test" if bucket < TEST_SHARE else "train"


def read_labelled(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return rows


@dataclass(frozen=True)
class Accuracy:
    split: str
    language: str
    n: int
    top1: float
    top3: float
    acceptable1: float  # the first role is the correct one or an acceptable alternate


@dataclass(frozen=True)
class Miss:
    id: str
    language: str
    expected: str
    got: list[str]


def evaluate(matcher: Matcher, rows: Iterable[dict[str, Any]]) -> tuple[list[Accuracy], list[Miss], float]:
    """Accuracy per (split, language) and overall per split, the top-1 misses, and milliseconds per posting."""
    results: dict[tuple[str, str], list[tuple[bool, bool, bool]]] = {}
    misses: list[Miss] = []
    rows = list(rows)
    start = time.perf_counter()
    for row in rows:
        ranked = [r.code for r in matcher.match(row["title"], row["text"], limit=5).roles]
        hit1 = ranked[0] == row["role"]
        ok1 = ranked[0] == row["role"] or ranked[0] in row.get("alternates", [])
        hit3 = row["role"] in ranked[:3]
        split = split_of(row["id"])
        for language in (row["lang"], "all"):
            results.setdefault((split, language), []).append((hit1, hit3, ok1))
        if not hit1:
            misses.append(Miss(row["id"], row["lang"], row["role"], ranked[:3]))
    per_posting_ms = (time.perf_counter() - start) * 1000 / max(1, len(rows))
    table = []
    for (split, language), marks in sorted(results.items()):
        n = len(marks)
        table.append(
            Accuracy(
                split,
                language,
                n,
                round(sum(m[0] for m in marks) / n, 3),
                round(sum(m[1] for m in marks) / n, 3),
                round(sum(m[2] for m in marks) / n, 3),
            )
        )
    return table, misses, per_posting_ms
