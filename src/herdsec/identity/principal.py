"""Who is acting: the value every service function takes to decide permissions and visibility."""

from __future__ import annotations

from dataclasses import dataclass, field

from herdsec.identity.logic import Role, role_at_least


@dataclass(frozen=True, slots=True)
class Principal:
    """A member acting through a web session, an API key or the CLI.

    ``group_ids`` are the sharing groups its organization belongs to (as owner or member), loaded once when the
    principal is built, so that visibility filters need no extra query.
    """

    org_id: int
    org_name: str
    role: Role
    user_id: int | None = None
    label: str = ""
    is_coordinator: bool = False
    is_lab_evaluator: bool = False
    group_ids: frozenset[int] = field(default_factory=frozenset)
    api_key_prefix: str | None = None
    ip: str | None = None
    language: str | None = None

    def has_role(self, needed: Role) -> bool:
        return role_at_least(self.role, needed)
