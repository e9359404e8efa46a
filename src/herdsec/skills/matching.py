"""Match free text (job postings, learning outcomes, search queries) onto work roles and statements, offline.

Pure and lexical: BM25 over each role's document (its names in both languages, the hub's job-title aliases, its
description and its task/knowledge/skill statements), with Vietnamese bridged into English through the glossary.

Vietnamese handling is diacritics-aware: a text is taken as Vietnamese when it carries Vietnamese letters (or, when
typed without accents, Vietnamese function words); matching runs on a folded form (tone and vowel marks removed,
``đ`` → ``d``) so that the two tone placements (``hóa``/``hoá``) and unaccented typing meet the same glossary entry.
Longer glossary terms win (``kiểm thử xâm nhập`` before ``kiểm thử``).
"""

from __future__ import annotations

import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache

from herdsec.skills.catalogue import Catalogue, package_data, shipped

VIETNAMESE_LETTERS = set("ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ")
# Syllables common in Vietnamese postings that are not English words (to recognise text typed without accents).
VI_FUNCTION_WORDS = frozenset(
    [
        "va",
        "cua",
        "cac",
        "voi",
        "trong",
        "nhung",
        "duoc",
        "khong",
        "nguoi",
        "viec",
        "thong",
        "tin",
        "quan",
        "ly",
        "xu",
        "phat",
        "trien",
        "mang",
        "toan",
        "ninh",
        "cong",
        "nghe",
        "ky",
        "kinh",
        "nghiem",
        "yeu",
        "cau",
        "vien",
        "chuyen",
        "su",
        "dich",
        "vu",
        "bao",
        "mat",
        "giam",
        "sat",
        "phan",
        "tich",
        "du",
        "lieu",
        "thiet",
        "bi",
    ]
)
STOPWORDS = {
    "a",
    "an",
    "and",
    "are",
    "as",
    "at",
    "be",
    "by",
    "for",
    "from",
    "has",
    "have",
    "in",
    "into",
    "is",
    "it",
    "its",
    "of",
    "on",
    "or",
    "that",
    "the",
    "their",
    "this",
    "to",
    "with",
    "within",
    "will",
    "your",
    "you",
    "we",
    "our",
    "us",
    "all",
    "any",
    "other",
    "such",
    "e",
    "g",
    "i",
    "including",
    "related",
    "relevant",
    "use",
    "using",
    "used",
    "skill",
    "skills",
    "ability",
    "abilities",
    "perform",
    "performing",
    "performs",
    "ensure",
    "ensures",
    "ensuring",
    "develop",
    "developing",
    "developed",
    "provide",
    "provides",
    "providing",
    "support",
    "supports",
    "supporting",
    "work",
    "working",
    "new",
    "may",
    "can",
    "must",
    "should",
    "etc",
    "per",
    "via",
    "about",
    "over",
    "under",
    "across",
    "based",
}
WORD = re.compile(r"[a-z0-9][a-z0-9+#.]*[a-z0-9+#]|[a-z0-9]")
TITLE_WEIGHT = 3
NAME_WEIGHT = 4
ALIAS_WEIGHT = 4
TEXT_WEIGHT = 2
K1 = 1.2
STATEMENT_MIN_IDF = 2.0  # a term in more than ~1 statement in 8 is no evidence of a particular statement
B = 0.5


def fold(text: str) -> str:
    """Lower-case, strip every diacritic (tone and vowel marks) and map ``đ`` to ``d``."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d").replace("Đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def detect_language(text: str) -> str:
    """``vi`` when the text carries Vietnamese letters or (typed without accents) Vietnamese function words."""
    sample = text[:4000].lower()
    letters = sum(1 for ch in sample if ch.isalpha())
    if not letters:
        return "en"
    marked = sum(1 for ch in unicodedata.normalize("NFC", sample) if ch in VIETNAMESE_LETTERS)
    if marked / letters > 0.02:
        return "vi"
    words = re.findall(r"[a-z]+", sample)
    hits = sum(1 for w in words if w in VI_FUNCTION_WORDS)
    return "vi" if words and hits / len(words) > 0.15 else "en"


def stem(word: str) -> str:
    """A light English stemmer: enough to meet "tests/testing/tested", "policies/policy", "analysis/analyze"."""
    if len(word) <= 4 or not word.isalpha():
        return word
    for suffix, repl in (
        ("ization", "ize"),
        ("ational", "ate"),
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ed", ""),
        ("es", "e"),
        ("ysis", "yz"),
        ("yst", "yz"),
        ("yze", "yz"),
        ("ise", "ize"),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                return word
            return word[: len(word) - len(suffix)] + repl
    return word


class Glossary:
    """Vietnamese → English terms, applied longest first on folded text."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self.pairs = [(vi.strip(), en.strip()) for vi, en in pairs if vi.strip() and en.strip()]
        self.english: dict[str, str] = {}
        self.original: dict[str, str] = {}
        for vi, en in self.pairs:
            key = " ".join(fold(vi).split())
            self.english.setdefault(key, en.lower())
            self.original.setdefault(key, vi)
        keys = sorted(self.english, key=lambda k: (-len(k), k))
        self.pattern = re.compile(
            r"(?<![a-z0-9])(" + "|".join(re.escape(k).replace(r"\ ", r"\s+") for k in keys) + r")(?![a-z0-9])"
        )

    def bridge(self, folded: str) -> tuple[str, list[tuple[str, str]]]:
        """The folded text with each glossary term replaced by its English, and the (Vietnamese, English) pairs used."""
        used: list[tuple[str, str]] = []

        def swap(match: re.Match[str]) -> str:
            key = " ".join(match.group(1).split())
            used.append((self.original[key], self.english[key]))
            return f" {self.english[key]} "

        return self.pattern.sub(swap, folded), used

    def __len__(self) -> int:
        return len(self.pairs)


@dataclass(frozen=True)
class Analysed:
    terms: list[str]
    language: str
    bridged: list[tuple[str, str]] = field(default_factory=list)


def analyse(text: str, glossary: Glossary, language: str | None = None) -> Analysed:
    """Terms of a text: stemmed words without stop words, plus adjacent-word bigrams (``incident_respons``)."""
    lang = language or detect_language(text)
    folded = fold(text)
    bridged: list[tuple[str, str]] = []
    terms = _terms(folded)
    if lang == "vi":
        # Both the English the glossary bridges to and the Vietnamese words themselves (as ``vi:`` terms, which
        # meet the Vietnamese role names and aliases).
        english, bridged = glossary.bridge(folded)
        terms = _terms(english) + [f"vi:{t}" for t in terms]
    return Analysed(terms, lang, bridged)


def _terms(folded: str) -> list[str]:
    words = [stem(w) for w in WORD.findall(folded) if w not in STOPWORDS and len(w) > 1]
    return words + [f"{a}_{b}" for a, b in itertools.pairwise(words) if a != b]


@dataclass(frozen=True)
class RoleDoc:
    """What the matcher knows of one role."""

    code: str
    title: str
    title_vi: str | None
    text: str
    aliases: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()  # statement codes


@dataclass(frozen=True)
class StatementHit:
    code: str
    kind: str
    text: str
    score: float


@dataclass(frozen=True)
class RoleScore:
    code: str
    title: str
    title_vi: str | None
    score: float
    statements: list[StatementHit]
    phrases: list[str]


@dataclass(frozen=True)
class MatchResult:
    language: str
    roles: list[RoleScore]
    statements: list[StatementHit]


class Bm25:
    """Okapi BM25 over weighted term counts."""

    def __init__(self, docs: Sequence[Counter[str]], k1: float = K1, b: float = B) -> None:
        self.docs, self.k1, self.b = docs, k1, b
        self.lengths = [sum(d.values()) for d in docs]
        self.avg = (sum(self.lengths) / len(docs)) if docs else 1.0
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        n = len(docs)
        self.idf = {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.postings: dict[str, list[tuple[int, float]]] = {}
        for i, d in enumerate(docs):
            norm = self.k1 * (1 - self.b + self.b * self.lengths[i] / self.avg)
            for term, tf in d.items():
                self.postings.setdefault(term, []).append((i, tf * (self.k1 + 1) / (tf + norm)))

    def totals(self, query: Counter[str], min_idf: float = 0.0) -> tuple[dict[int, float], Counter[int]]:
        """Per document, the total score and the number of distinct query terms it shares (terms rarer than
        ``min_idf`` only: common words carry little evidence and cost the most)."""
        score: dict[int, float] = {}
        shared: Counter[int] = Counter()
        get = score.get
        for term, qtf in query.items():
            idf = self.idf.get(term)
            if idf is None or idf < min_idf:
                continue
            weight = idf * (1 + math.log(qtf))
            for i, part in self.postings[term]:
                score[i] = get(i, 0.0) + weight * part
                shared[i] += 1
        return score, shared

    def contributions(self, query: Counter[str]) -> dict[int, dict[str, float]]:
        """Per document, the score contributed by each query term."""
        out: dict[int, dict[str, float]] = {}
        for term, qtf in query.items():
            idf = self.idf.get(term)
            if idf is None:
                continue
            weight = idf * (1 + math.log(qtf))
            for i, part in self.postings[term]:
                out.setdefault(i, {})[term] = weight * part
        return out


class Matcher:
    """An index over role documents and statements, built once, queried many times (a few ms per posting)."""

    def __init__(self, roles: Sequence[RoleDoc], statements: dict[str, tuple[str, str]], glossary: Glossary) -> None:
        self.roles = list(roles)
        self.glossary = glossary
        self.statement_text = statements
        self.statement_terms = {c: Counter(analyse(t, glossary, "en").terms) for c, (_k, t) in statements.items()}
        self.statement_codes = list(self.statement_terms)
        self.statement_index = Bm25([self.statement_terms[c] for c in self.statement_codes])
        docs = [self._role_counter(r) for r in self.roles]
        self.index = Bm25(docs)

    def _role_counter(self, role: RoleDoc) -> Counter[str]:
        bag: Counter[str] = Counter()
        for name in (role.title, role.title_vi or ""):
            for t in analyse(name, self.glossary).terms:
                bag[t] += NAME_WEIGHT
        for alias in role.aliases:
            for t in analyse(alias, self.glossary).terms:
                bag[t] += ALIAS_WEIGHT
        for t in analyse(role.text, self.glossary, "en").terms:
            bag[t] += TEXT_WEIGHT
        for code in role.statements:
            bag.update(self.statement_terms.get(code, Counter()))
        return bag

    def query_terms(self, title: str, text: str) -> tuple[Counter[str], Analysed]:
        lang = detect_language(f"{title}\n{text}")
        head = analyse(title, self.glossary, lang)
        body = analyse(text, self.glossary, lang)
        query: Counter[str] = Counter(body.terms)
        for t in head.terms:
            query[t] += TITLE_WEIGHT
        return query, Analysed(head.terms + body.terms, lang, head.bridged + body.bridged)

    def match(self, title: str, text: str, limit: int = 5, evidence: int = 5) -> MatchResult:
        query, analysed = self.query_terms(title, text)
        parts = self.index.contributions(query)
        ranked = sorted(parts.items(), key=lambda item: (-sum(item[1].values()), self.roles[item[0]].code))
        hits = self.statement_hits(query, limit=40)
        bridged = {en_word: vi for vi, en in analysed.bridged for en_word in en.split()}
        roles: list[RoleScore] = []
        for i, contrib in ranked[:limit]:
            role = self.roles[i]
            own = set(role.statements)
            top_terms = sorted(contrib.items(), key=lambda kv: -kv[1])[:8]
            roles.append(
                RoleScore(
                    code=role.code,
                    title=role.title,
                    title_vi=role.title_vi,
                    score=round(sum(contrib.values()), 3),
                    statements=[h for h in hits if h.code in own][:evidence],
                    phrases=_phrases(top_terms, bridged),
                )
            )
        if len(roles) < limit:  # a posting with no known term still gets a full, deterministic list
            seen = {r.code for r in roles}
            for role in sorted(self.roles, key=lambda r: r.code):
                if len(roles) >= limit:
                    break
                if role.code not in seen:
                    roles.append(RoleScore(role.code, role.title, role.title_vi, 0.0, [], []))
        return MatchResult(analysed.language, roles, hits[:15])

    def statement_hits(self, query: Counter[str], limit: int = 20, minimum: float = 0.0) -> list[StatementHit]:
        totals, shared = self.statement_index.totals(query, min_idf=STATEMENT_MIN_IDF)
        # A statement counts when it shares at least two distinct terms with the text (one word is too weak).
        scored = [(total, i) for i, total in totals.items() if shared[i] >= 2]
        scored.sort(key=lambda x: (-x[0], self.statement_codes[x[1]]))
        out = []
        for score, i in scored[:limit]:
            if score <= minimum:
                break
            code = self.statement_codes[i]
            kind, text = self.statement_text[code]
            out.append(StatementHit(code, kind, text, round(score, 3)))
        return out

    def search(self, text: str, limit: int = 20) -> list[StatementHit]:
        """Statements nearest a query in either language (a single word is enough here)."""
        query = Counter(analyse(text, self.glossary).terms)
        totals, _shared = self.statement_index.totals(query)
        scored = sorted(((total, i) for i, total in totals.items()), key=lambda x: (-x[0], x[1]))
        return [
            StatementHit(self.statement_codes[i], *self.statement_text[self.statement_codes[i]], round(s, 3))
            for s, i in scored[:limit]
        ]


def _phrases(top_terms: list[tuple[str, float]], bridged: dict[str, str]) -> list[str]:
    out: list[str] = []
    for term, _score in top_terms:
        words = term.split("_")
        shown = " ".join(words)
        origins = list(dict.fromkeys(bridged[w] for w in words if w in bridged))
        label = f"{' '.join(origins)} ({shown})" if origins else shown
        if label not in out:
            out.append(label)
    return out


@cache
def shipped_glossary() -> Glossary:
    return Glossary((vi, en) for vi, en in package_data("glossary.json")["terms"])


def role_docs(catalogue: Catalogue) -> list[RoleDoc]:
    """The NICE roles of a catalogue with the hub's Vietnamese names and job-title aliases."""
    names = package_data("vi-names.json")["work_roles"]
    aliases = package_data("aliases.json")["roles"]
    return [
        RoleDoc(
            code=r.code,
            title=r.title,
            title_vi=names.get(r.code),
            text=r.text,
            aliases=tuple(aliases.get(r.code, [])),
            statements=r.statements,
        )
        for r in catalogue.roles
    ]


@cache
def shipped_matcher() -> Matcher:
    """The matcher over the shipped NICE v2.1.0 catalogue (built once per process, ~1 s)."""
    catalogue = shipped()
    statements = {s.code: (s.kind, s.text) for s in catalogue.statements}
    return Matcher(role_docs(catalogue), statements, shipped_glossary())
