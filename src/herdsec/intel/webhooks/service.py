"""Use-cases of webhooks: register targets, queue the stream's items for them, claim and settle deliveries.

Several server processes may run the delivery worker at once: queueing locks each webhook row and claiming locks
due deliveries with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite has one writer anyway), and a claimed delivery
is leased (its next attempt moved into the future), so a process that dies mid-delivery only delays it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete as sql_delete
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import GenerativeSelect

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, NotFound, PermissionDenied
from herdsec.core.outbound import OutboundPolicy, Target, check_url
from herdsec.identity import Principal, Role
from herdsec.intel import stream
from herdsec.intel.stream import Cursor, Filters, Subscription
from herdsec.intel.webhooks.logic import backoff
from herdsec.intel.webhooks.models import Webhook, WebhookDelivery
from herdsec.intel.webhooks.schemas import DeliveryOut, WebhookCreated, WebhookIn, WebhookOut

LEASE = timedelta(minutes=2)
_Q = TypeVar("_Q", bound=GenerativeSelect)
QUEUE_ITEMS = 500


def check_target(url: str, policy: OutboundPolicy) -> Target:
    """Refuse targets that are not http(s), or that resolve to loopback, private, link-local, multicast or reserved
    addresses unless ``policy`` (``HERDSEC_OUTBOUND_ALLOW``) allows them: the same rule as federation. The returned
    target is pinned to the address that was checked."""
    return check_url(url, policy)


def _admin(actor: Principal) -> None:
    if actor.org_id == 0 or not actor.has_role(Role.ADMIN):
        raise PermissionDenied(N_("managing webhooks needs the admin role in a member organization"))


def create(session: Session, actor: Principal, data: WebhookIn, *, policy: OutboundPolicy) -> WebhookCreated:
    """Register a target for the actor's organization; it receives what happens from now on."""
    _admin(actor)
    check_target(data.url, policy)
    Filters.parse(data.types, data.tlp, data.min_score, data.sector)  # refuse unknown TLP names now
    hook = Webhook(
        org_id=actor.org_id,
        url=data.url,
        secret=secrets.token_urlsafe(32),
        types=data.types or None,
        tlps=data.tlp or None,
        sectors=data.sector or None,
        min_score=data.min_score,
        enabled=True,
        cursor_event=stream.newest_cursor(session).event,
        cursor_seq=stream.WHOLE,
        created_at=utcnow(),
        created_by=actor.label[:300],
    )
    session.add(hook)
    session.flush()
    identity.audit_record(
        session, actor, "intel.webhook.create", "webhook", str(hook.id), target_org_id=actor.org_id, url=data.url
    )
    return WebhookCreated(webhook=WebhookOut.model_validate(hook), secret=hook.secret)


def _own(session: Session, actor: Principal, webhook_id: int) -> Webhook:
    _admin(actor)
    hook = session.get(Webhook, webhook_id)
    if hook is None or hook.org_id != actor.org_id:
        raise NotFound(N_("no webhook %(id)s"), where="webhook", id=webhook_id)
    return hook


def list_webhooks(session: Session, actor: Principal) -> list[WebhookOut]:
    _admin(actor)
    rows = session.scalars(select(Webhook).where(Webhook.org_id == actor.org_id).order_by(Webhook.id))
    return [WebhookOut.model_validate(r) for r in rows]


def set_enabled(session: Session, actor: Principal, webhook_id: int, enabled: bool) -> None:
    hook = _own(session, actor, webhook_id)
    hook.enabled = enabled
    if enabled:  # resume from now: what happened while disabled is not sent
        hook.cursor_event, hook.cursor_seq = stream.newest_cursor(session).event, stream.WHOLE
    identity.audit_record(
        session,
        actor,
        "intel.webhook.enable" if enabled else "intel.webhook.disable",
        "webhook",
        str(hook.id),
        target_org_id=actor.org_id,
    )


def delete(session: Session, actor: Principal, webhook_id: int) -> None:
    hook = _own(session, actor, webhook_id)
    session.delete(hook)
    identity.audit_record(
        session, actor, "intel.webhook.delete", "webhook", str(webhook_id), target_org_id=actor.org_id
    )


def deliveries(
    session: Session, actor: Principal, *, status: str | None = "dead", limit: int = 200
) -> list[DeliveryOut]:
    """The organization's deliveries (by default the dead letters), newest first."""
    _admin(actor)
    query = (
        select(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(Webhook.org_id == actor.org_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(WebhookDelivery.status == status)
    return [DeliveryOut.model_validate(r) for r in session.scalars(query)]


def redeliver(session: Session, actor: Principal, delivery_id: int) -> None:
    """Put a dead letter back in the queue for a fresh series of attempts."""
    _admin(actor)
    row = session.get(WebhookDelivery, delivery_id)
    hook = session.get(Webhook, row.webhook_id) if row else None
    if row is None or hook is None or hook.org_id != actor.org_id:
        raise NotFound(N_("no delivery %(id)s"), where="delivery", id=delivery_id)
    row.status, row.attempts, row.next_attempt_at, row.delivered_at = "pending", 0, utcnow(), None
    identity.audit_record(
        session,
        actor,
        "intel.webhook.redeliver",
        "webhook",
        str(hook.id),
        target_org_id=actor.org_id,
        delivery=delivery_id,
    )


# --- the worker's side --------------------------------------------------------------------------------------------


def _locking(session: Session, query: _Q) -> _Q:
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def enqueue(session: Session, limit: int = QUEUE_ITEMS) -> int:
    """Queue the stream's new items for every enabled webhook (as its organization sees them); returns how many.
    Reads at most ``limit`` items per webhook: :attr:`more` tells the caller to call again."""
    hooks = session.scalars(_locking(session, select(Webhook).where(Webhook.enabled.is_(True))))
    queued = 0
    session.info["webhooks_more"] = False
    now = utcnow()
    for hook in list(hooks):
        items, reached = stream.read(session, Cursor(hook.cursor_event, hook.cursor_seq), limit)
        if reached == Cursor(hook.cursor_event, hook.cursor_seq):
            continue
        if len(items) >= limit:
            session.info["webhooks_more"] = True
        principal = identity.org_principal(session, hook.org_id, f"webhook {hook.id}")
        sub = Subscription(principal, Filters.parse(hook.types, hook.tlps, hook.min_score, hook.sectors), bulk=True)
        wanted = [i for i in items if sub.admits(i)]
        if wanted and hook.min_score is not None:
            scored = stream.scores(session, principal, wanted, bulk=True)
            wanted = [i for i in wanted if scored.get(i.pk, -1.0) >= hook.min_score]
        if wanted:
            session.execute(
                insert(WebhookDelivery),
                [
                    {
                        "webhook_id": hook.id,
                        "event_id": str(i.cursor),
                        "body": i.body_for(principal).decode(),
                        "status": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for i in wanted
                ],
            )
        hook.cursor_event, hook.cursor_seq = reached.event, reached.seq
        queued += len(wanted)
    return queued


def more(session: Session) -> bool:
    """Whether the last :func:`enqueue` in this session stopped at its limit for some webhook."""
    return bool(session.info.get("webhooks_more"))


def purge_delivered(session: Session, older_than: timedelta) -> int:
    """Forget successful deliveries after a while (dead letters stay until redelivered or their webhook goes)."""
    result = session.execute(
        sql_delete(WebhookDelivery).where(
            WebhookDelivery.status == "delivered", WebhookDelivery.delivered_at < utcnow() - older_than
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class Claim:
    delivery_id: int
    webhook_id: int
    url: str
    secret: str
    event_id: str
    body: str
    attempts: int


def claim(session: Session, now: datetime, limit: int = 50) -> list[Claim]:
    """Take due deliveries (leased for a while, so another process does not take them too)."""
    rows = session.execute(
        _locking(
            session,
            select(WebhookDelivery, Webhook.url, Webhook.secret)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(
                WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now, Webhook.enabled.is_(True)
            )
            .order_by(WebhookDelivery.id)
            .limit(limit),
        )
    ).all()
    claims = []
    for delivery, url, secret in rows:
        delivery.next_attempt_at = now + LEASE
        claims.append(
            Claim(delivery.id, delivery.webhook_id, url, secret, delivery.event_id, delivery.body, delivery.attempts)
        )
    return claims


def settle(
    session: Session,
    claim_: Claim,
    *,
    error: str | None,
    status: int | None,
    max_attempts: int,
    base: float,
    cap: float,
) -> str:
    """Record an attempt: delivered, retried later (exponential backoff), or dead-lettered. Returns the status."""
    now = utcnow()
    attempts = claim_.attempts + 1
    if error is None:
        values = {"status": "delivered", "delivered_at": now, "last_error": None}
    elif attempts >= max_attempts:
        values = {"status": "dead", "last_error": error[:500]}
    else:
        values = {
            "status": "pending",
            "last_error": error[:500],
            "next_attempt_at": now + timedelta(seconds=backoff(attempts, base, cap)),
        }
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == claim_.delivery_id)
        .values(attempts=attempts, last_status=status, **values)
    )
    return str(values["status"])
