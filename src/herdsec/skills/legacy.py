"""The 2017 (SP 800-181) task, knowledge, skill and ability statement ids mapped onto NICE v2.1.0 (pure: no session).

Neither NIST's CPRT export nor the v2.1.0 tables carry the 2017 ids or a crosswalk, so the mapping is derived, and
each mapping says how:

- ``same-id``: v2.1.0 kept the 2017 id (107 statements; NIST reused an id only for the same statement, sometimes
  lightly edited);
- ``same-text``: another v2.1.0 statement has the same text once case, punctuation and spacing are set aside;
- ``similar-text``: the v2.1.0 statement that reads most like it, with its score, when the score reaches
  ``THRESHOLD`` (chosen by a hand-checked sample, see docs/skills.md);
- ``none``: nothing in v2.1.0 reads enough like it (mostly the retired intelligence and cyber-operations statements).

The score of a pair is the mean of the TF-IDF cosine of the two texts (after the "Knowledge of" / "Skill in" /
"Ability to" lead and parenthesised examples are dropped) and the share of the v2.1.0 statement's weighted words
found in the 2017 text (v2.1.0 shortened most statements, so a short successor is mostly contained in its
predecessor). Kinds must agree: a task maps onto a task; knowledge, skill and ability statements (v2.1.0 has no
abilities) onto knowledge or skill statements, the same kind first. Ties go to a statement of a v2.1.0 role that
took over a 2017 role holding the old statement.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from herdsec.skills.catalogue import LEGACY_KINDS, METHODS, Catalogue, LegacyRole, LegacyStatement

THRESHOLD = 0.60
CROSS_KIND = 0.05  # knowledge ↔ skill costs this much of the score
ROLE_TIE = 0.02  # a candidate held by a successor role ranks this much higher (the score shown is not changed)
STATEMENT_ID = re.compile(r"\b([TKSA])(\d{4})\b")
_TAG = re.compile(r"\[([A-Z0-9 ,;]+)\]")

_LEAD = re.compile(r"^(?:knowledge of|skills? (?:in|to)|ability (?:to|in))\s+")
_EXAMPLES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    (
        "a",
        "an",
        "the",
        "of",
        "and",
        "or",
        "in",
        "to",
        "for",
        "on",
        "with",
        "by",
        "as",
        "at",
        "from",
        "its",
        "their",
        "e",
        "g",
        "i",
        "ie",
        "eg",
        "etc",
        "such",
        "that",
        "which",
        "is",
        "are",
        "be",
        "into",
        "use",
        "using",
    )
)
_COMPATIBLE = {
    "task": ("task",),
    "knowledge": ("knowledge", "skill"),
    "skill": ("skill", "knowledge"),
    "ability": ("skill", "knowledge"),
}


def normalised(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _terms(text: str) -> Counter[str]:
    body = _EXAMPLES.sub(" ", _LEAD.sub("", text.lower().strip()))
    out: Counter[str] = Counter()
    for word in _WORD.findall(body):
        if word in _STOP:
            continue
        if len(word) > 4 and word.endswith("ies"):
            word = word[:-3] + "y"
        elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
            word = word[:-1]
        out[word] += 1
    return out


class _Index:
    def __init__(self, catalogue: Catalogue) -> None:
        self.kind = {s.code: s.kind for s in catalogue.statements}
        self.terms = {s.code: _terms(s.text) for s in catalogue.statements}
        df = Counter(t for terms in self.terms.values() for t in terms)
        n = len(self.terms)
        self.idf = {t: math.log(n / (1 + c)) + 1 for t, c in df.items()}
        self.unseen = math.log(n) + 1
        self.vectors = {code: self.vector(terms) for code, terms in self.terms.items()}
        self.postings: dict[str, list[tuple[str, float]]] = defaultdict(list)
        for code, vec in self.vectors.items():
            for term, weight in vec.items():
                self.postings[term].append((code, weight))

    def weight(self, term: str) -> float:
        return self.idf.get(term, self.unseen)

    def vector(self, terms: Counter[str]) -> dict[str, float]:
        raw = {t: n * self.weight(t) for t, n in terms.items()}
        norm = math.sqrt(sum(v * v for v in raw.values())) or 1.0
        return {t: v / norm for t, v in raw.items()}

    def best(self, text: str, kind: str, holders: set[str], roles_of: Mapping[str, set[str]]) -> tuple[str, float]:
        terms = _terms(text)
        cosine: dict[str, float] = defaultdict(float)
        for term, weight in self.vector(terms).items():
            for code, other in self.postings.get(term, ()):
                cosine[code] += weight * other
        allowed = _COMPATIBLE[kind]
        ranked: list[tuple[float, float, str]] = []
        for code, cos in cosine.items():
            if self.kind[code] not in allowed:
                continue
            mine = self.terms[code]
            total = sum(self.weight(t) for t in mine) or 1.0
            contained = sum(self.weight(t) for t in mine if t in terms) / total
            score = (cos + contained) / 2 - (CROSS_KIND if self.kind[code] != allowed[0] else 0.0)
            rank = score + (ROLE_TIE if roles_of.get(code, set()) & holders else 0.0)
            ranked.append((rank, score, code))
        if not ranked:
            return "", 0.0
        _rank, score, code = max(ranked, key=lambda r: (r[0], r[1], [-ord(c) for c in r[2]]))
        return code, round(score, 3)


def map_2017(
    statements: Iterable[Mapping[str, str]],
    role_links: Iterable[Mapping[str, str]],
    legacy_roles: Iterable[LegacyRole],
    current: Catalogue,
) -> tuple[LegacyStatement, ...]:
    """Map the 2017 statements (``id``, ``type``, ``description``) onto ``current``; ``role_links`` are the 2017
    work-role → statement links (``work_role_id``, ``ksat_id``), used only to break ties."""
    index = _Index(current)
    by_text: dict[str, list[str]] = defaultdict(list)
    for s in current.statements:
        by_text[normalised(s.text)].append(s.code)
    successors_of_role = {r.code: set(r.successors) for r in legacy_roles}
    holders: dict[str, set[str]] = defaultdict(set)
    for link in role_links:
        holders[str(link["ksat_id"])] |= successors_of_role.get(str(link["work_role_id"]), set())
    roles_of: dict[str, set[str]] = defaultdict(set)
    for role in current.roles:
        for code in role.statements:
            roles_of[code].add(role.code)
    out = []
    for item in sorted(statements, key=lambda s: str(s["id"])):
        code, kind, text = str(item["id"]), str(item["type"]), str(item["description"]).strip()
        if kind not in LEGACY_KINDS:
            raise ValueError(f"2017 statement {code}: unknown kind {kind!r}")
        if code in index.kind:
            out.append(LegacyStatement(code, kind, text, (code,), "same-id"))
            continue
        same = sorted(by_text.get(normalised(text), []))
        if same:
            out.append(LegacyStatement(code, kind, text, tuple(same), "same-text"))
            continue
        best, score = index.best(text, kind, holders[code], roles_of)
        if best and score >= THRESHOLD:
            out.append(LegacyStatement(code, kind, text, (best,), "similar-text", score))
        else:
            out.append(LegacyStatement(code, kind, text, (), "none", score or None))
    return tuple(out)


def coverage(mapped: Iterable[LegacyStatement]) -> dict[str, dict[str, int]]:
    """How many 2017 statements of each kind each method mapped (``none``: not mapped)."""
    table: dict[str, dict[str, int]] = {m: dict.fromkeys(LEGACY_KINDS, 0) for m in METHODS}
    for item in mapped:
        table[item.method][item.kind] += 1
    return table


@dataclass(frozen=True, slots=True)
class Resolution:
    """Statement ids as asked, resolved onto current ones: ``current`` maps each resolvable id to its current
    id(s) (a current id to itself), ``retired`` lists 2017 ids with no v2.1.0 successor, ``unknown`` the rest."""

    current: dict[str, tuple[str, ...]]
    retired: tuple[str, ...]
    unknown: tuple[str, ...]

    @property
    def codes(self) -> list[str]:
        return sorted({c for codes in self.current.values() for c in codes})


def resolve(codes: Iterable[str], current: Collection[str], legacy: Mapping[str, LegacyStatement]) -> Resolution:
    """Resolve statement ids (current v2.1.0 ones, or 2017 ones through the shipped mapping); case and spaces are
    ignored. A current id always wins: v2.1.0 reused a 2017 id only for the same statement."""
    found: dict[str, tuple[str, ...]] = {}
    retired: list[str] = []
    unknown: list[str] = []
    for raw in codes:
        code = raw.strip().upper()
        if code in found or code in retired or code in unknown:
            continue
        if code in current:
            found[code] = (code,)
        elif code in legacy:
            successors = tuple(s for s in legacy[code].successors if s in current)
            if successors:
                found[code] = successors
            else:
                retired.append(code)
        else:
            unknown.append(code)
    return Resolution(found, tuple(retired), tuple(unknown))


def tagged_ids(text: str) -> list[str]:
    """Statement ids written in square brackets into a text (a learning outcome tagged ``[K0001, T0084]``)."""
    found = {m.group(1) + m.group(2) for tag in _TAG.findall(text.upper()) for m in STATEMENT_ID.finditer(tag)}
    return sorted(found)
