"""The labelled evaluation set is what the issue asks for, the evaluation runs, and docs/skills-accuracy.md holds
exactly the numbers it computes (on the test split, never tuned on)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from benchmarks import bench_skills

from herdsec.skills.catalogue import shipped
from herdsec.skills.evaluation import evaluate, read_labelled, split_of
from herdsec.skills.matching import shipped_matcher

ROWS = read_labelled(bench_skills.LABELLED)


def test_the_labelled_set_is_large_varied_and_bilingual() -> None:
    roles = {r.code for r in shipped().roles}
    assert len(ROWS) >= 80 and len({r["id"] for r in ROWS}) == len(ROWS)
    assert len({r["role"] for r in ROWS}) >= 25
    languages = Counter(r["lang"] for r in ROWS)
    assert languages["vi"] >= len(ROWS) / 3 and set(languages) == {"en", "vi"}
    for r in ROWS:
        assert r["role"] in roles and set(r["alternates"]) <= roles and r["role"] not in r["alternates"]
        assert r["alternates"] and r["title"].strip() and len(r["text"]) > 80
    splits = Counter((split_of(r["id"]), r["lang"]) for r in ROWS)
    assert all(splits[(s, lang)] >= 15 for s in ("train", "test") for lang in ("en", "vi"))


def test_the_split_is_fixed() -> None:
    assert [split_of(f"p{i:03d}") for i in range(1, 11)] == [split_of(f"p{i:03d}") for i in range(1, 11)]
    assert [split_of(i) for i in ("p001", "p003", "p006", "p004")] == ["test", "train", "test", "train"]


def test_the_doc_publishes_the_numbers_the_evaluation_computes() -> None:
    table, _misses, _ms = evaluate(shipped_matcher(), ROWS)
    doc = Path(bench_skills.DOC).read_text(encoding="utf-8")
    for a in table:
        line = f"| {a.split} | {a.language} | {a.n} | {a.top1:.3f} | {a.top3:.3f} | {a.acceptable1:.3f} |"
        assert line in doc, f"docs/skills-accuracy.md is stale (run python -m benchmarks skills): {line}"
    speed = re.search(r"Speed: ([0-9.]+) ms per posting", doc)
    assert speed and float(speed.group(1)) < 50


def test_the_targets_are_met_on_the_test_split_in_each_language() -> None:
    table, _misses, _ms = evaluate(shipped_matcher(), ROWS)
    for a in table:
        if a.split == "test" and a.language in ("en", "vi"):
            assert a.top1 >= 0.80 and a.top3 >= 0.95, a
