"""Coverage arithmetic (pure): statements a programme, a person or a team covers against work roles' statements.

A role is a set of statement codes; coverage is the share of them covered, per kind (task, knowledge, skill)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

KINDS = ("task", "knowledge", "skill")
HIRE_BELOW = 0.3
TRAIN_BELOW = 0.7


@dataclass(frozen=True)
class RoleCoverage:
    code: str
    total: int
    covered: int
    by_kind: dict[str, tuple[int, int]]  # kind -> (covered, total)

    @property
    def share(self) -> float:
        return round(self.covered / self.total, 3) if self.total else 0.0


@dataclass(frozen=True)
class CourseStep:
    course_id: int
    title: str
    programme: str
    covers: list[str]


@dataclass(frozen=True)
class Path:
    """The missing statements toward a target role and the fewest hub courses that cover most of them."""

    target: str
    missing: list[str]
    courses: list[CourseStep]
    uncovered: list[str] = field(default_factory=list)


def role_coverage(
    covered: set[str], roles: Mapping[str, Iterable[str]], kinds: Mapping[str, str]
) -> list[RoleCoverage]:
    """Coverage of every role, best first (ties by code)."""
    out = []
    for code, statements in roles.items():
        own = set(statements)
        by_kind = {
            k: (sum(1 for s in own if kinds.get(s) == k and s in covered), sum(1 for s in own if kinds.get(s) == k))
            for k in KINDS
        }
        out.append(RoleCoverage(code, len(own), len(own & covered), by_kind))
    out.sort(key=lambda c: (-c.share, c.code))
    return out


def shortest_path(
    target: str,
    have: set[str],
    roles: Mapping[str, Iterable[str]],
    courses: Iterable[tuple[int, str, str, Iterable[str]]],
    max_courses: int = 8,
) -> Path:
    """Greedy set cover: repeatedly take the course that covers the most still-missing statements."""
    missing = sorted(set(roles[target]) - have)
    left = set(missing)
    pool = [(cid, title, programme, set(st)) for cid, title, programme, st in courses]
    steps: list[CourseStep] = []
    while left and len(steps) < max_courses:
        best = max(pool, key=lambda c: (len(c[3] & left), -c[0]), default=None)
        if best is None or not best[3] & left:
            break
        steps.append(CourseStep(best[0], best[1], best[2], sorted(best[3] & left)))
        left -= best[3]
        pool.remove(best)
    return Path(target, missing, steps, sorted(left))


@dataclass(frozen=True)
class TeamLine:
    """For one needed role: how much of it the team covers (tasks against knowledge and skills) and the advice."""

    code: str
    category: str
    tasks: tuple[int, int]
    knowledge_skills: tuple[int, int]
    share: float
    advice: str  # "covered" | "train" | "hire"
    closest: str | None  # the team role that covers most of it


def team_coverage(
    needed: Iterable[str],
    team: Mapping[str, int],
    roles: Mapping[str, Iterable[str]],
    kinds: Mapping[str, str],
    categories: Mapping[str, str],
) -> list[TeamLine]:
    """NICE mapping-tool style: the statements of the roles a team needs against those of the roles it has."""
    have: set[str] = set()
    for code, headcount in team.items():
        if headcount > 0:
            have |= set(roles.get(code, ()))
    lines = []
    for code in needed:
        own = set(roles.get(code, ()))
        tasks = {s for s in own if kinds.get(s) == "task"}
        ks = own - tasks
        share = round(len(own & have) / len(own), 3) if own else 0.0
        closest = max(
            (c for c, n in team.items() if n > 0), key=lambda c: (len(own & set(roles.get(c, ()))), c), default=None
        )
        advice = (
            "covered"
            if code in team and team[code] > 0
            else ("hire" if share < HIRE_BELOW else "train" if share < TRAIN_BELOW else "covered")
        )
        lines.append(
            TeamLine(
                code,
                categories.get(code, ""),
                (len(tasks & have), len(tasks)),
                (len(ks & have), len(ks)),
                share,
                advice,
                closest,
            )
        )
    return lines


@dataclass(frozen=True)
class TeamCategory:
    """One category of the needed roles: its distinct tasks, and its distinct knowledge and skill statements, that
    the team covers (covered, total). A statement two needed roles share counts once."""

    category: str
    tasks: tuple[int, int]
    knowledge_skills: tuple[int, int]


def team_by_category(
    needed: Iterable[str],
    team: Mapping[str, int],
    roles: Mapping[str, Iterable[str]],
    kinds: Mapping[str, str],
    categories: Mapping[str, str],
) -> list[TeamCategory]:
    """NICE mapping-tool view: per category of the needed roles, tasks against knowledge and skills (by category
    code; a role without a category goes under "")."""
    have: set[str] = set()
    for code, headcount in team.items():
        if headcount > 0:
            have |= set(roles.get(code, ()))
    wanted: dict[str, set[str]] = {}
    for code in needed:
        wanted.setdefault(categories.get(code, ""), set()).update(roles.get(code, ()))
    out = []
    for category, statements in sorted(wanted.items()):
        tasks = {s for s in statements if kinds.get(s) == "task"}
        ks = statements - tasks
        out.append(TeamCategory(category, (len(tasks & have), len(tasks)), (len(ks & have), len(ks))))
    return out
