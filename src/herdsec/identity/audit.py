"""The append-only audit log: every state-changing action records who, what, when and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.pagination import Page, check_limit, decode_cursor, encode_cursor
from herdsec.identity.logic import check_may_manage_org
from herdsec.identity.models import AuditEntry
from herdsec.identity.principal import Principal
from herdsec.identity.schemas import AuditOut


def record(
    session: Session,
    actor: Principal,
    action: str,
    target_type: str,
    target_id: object = None,
    *,
    target_org_id: int | None = None,
    **details: Any,
) -> None:
    """Append one entry in the caller's transaction (so it commits or rolls back with the change itself)."""
    session.add(
        AuditEntry(
            at=utcnow(),
            actor_user_id=actor.user_id,
            actor_org_id=actor.org_id or None,
            actor_label=actor.label[:300],
            api_key_prefix=actor.api_key_prefix,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            target_org_id=target_org_id,
            details=details,
            ip=actor.ip,
        )
    )


def list_entries(
    session: Session,
    actor: Principal,
    *,
    action: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[AuditOut]:
    """Newest first. Coordinators read the whole log; an organization's admins read what concerns their org."""
    check_may_manage_org(actor.org_id, actor.role, actor.is_coordinator, actor.org_id)
    limit = check_limit(limit)
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit + 1)
    if not actor.is_coordinator:
        query = query.where((AuditEntry.actor_org_id == actor.org_id) | (AuditEntry.target_org_id == actor.org_id))
    if action:
        query = query.where(AuditEntry.action == action)
    if since:
        query = query.where(AuditEntry.at >= since)
    before = decode_cursor(cursor)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    rows = list(session.scalars(query))
    items = [AuditOut.model_validate(r) for r in rows[:limit]]
    return Page[AuditOut](items=items, next=encode_cursor(items[-1].id) if len(rows) > limit else None)
