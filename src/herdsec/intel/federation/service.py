"""Use-cases of federation peers: register, list, show, remove (coordinators only). Runs are in ``sync``."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from herdsec import identity
from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, Conflict, InvalidInput, NotFound, PermissionDenied
from herdsec.core.outbound import OutboundPolicy, check_url
from herdsec.core.settings import Settings
from herdsec.identity import OrgKind, Principal
from herdsec.identity.schemas import OrganizationIn
from herdsec.intel.federation.credentials import seal
from herdsec.intel.federation.logic import MAX_INTERVAL, MIN_INTERVAL, Direction, PeerKind, check_name
from herdsec.intel.federation.models import FederationPeer, FederationRun
from herdsec.intel.federation.schemas import PeerIn, PeerOut, RunOut


def check_operator(actor: Principal) -> None:
    if not actor.is_coordinator:
        raise PermissionDenied(N_("only a coordinator may manage federation"))


def find_peer_row(session: Session, name: str, *, lock: bool = False) -> FederationPeer:
    query = select(FederationPeer).where(FederationPeer.name == name.strip())
    peer = session.scalar(query.with_for_update() if lock else query)
    if peer is None:
        raise NotFound(N_("no federation peer named %(name)r"), where="name", name=name)
    return peer


def _out(session: Session, peer: FederationPeer) -> PeerOut:
    out = PeerOut.model_validate(peer)
    out.org_name = identity.get_org(session, peer.org_id).name
    return out


def _peer_org(session: Session, actor: Principal, name: str, as_org: str | None) -> int:
    """The organization pulled objects are stored as: always of kind ``hub``, so a remote can never publish as
    (or over the objects of) a member; the ingest refuses ``created_by_ref`` and identities of other orgs."""
    if as_org:
        org = identity.find_org(session, as_org)
        if org.kind != OrgKind.HUB.value:
            raise InvalidInput(
                N_("organization %(name)r is a member, not of kind hub; pulled objects are stored as a hub"),
                where="as_org",
                name=org.name,
            )
        return org.id
    org_name = f"{name} (federation)"
    try:
        org = identity.find_org(session, org_name)
    except NotFound:
        return identity.create_org(session, actor, OrganizationIn(name=org_name, kind=OrgKind.HUB.value)).id
    if org.kind != OrgKind.HUB.value:
        raise Conflict(N_("a member organization is already named %(name)r; use --as-org"), name=org_name)
    return org.id


def _validated(data: PeerIn, policy: OutboundPolicy) -> tuple[str, PeerKind, Direction]:
    name = check_name(data.name)
    try:
        kind = PeerKind(data.kind)
        direction = Direction(data.direction)
    except ValueError as exc:
        raise InvalidInput(N_("unknown kind or direction: %(value)s"), where="direction", value=str(exc)) from None
    if kind is PeerKind.TAXII and not (data.collection_id or "").strip():
        raise InvalidInput(N_("a TAXII peer needs --collection ID"), where="collection")
    if kind is PeerKind.MISP_FEED and direction is not Direction.PULL:
        raise InvalidInput(N_("a MISP feed can only be pulled"), where="direction")
    if not MIN_INTERVAL <= data.interval_seconds <= 7 * 86400:
        raise InvalidInput(N_("the interval must be between %(low)s and %(high)s seconds"), where="interval",
                           low=MIN_INTERVAL, high=MAX_INTERVAL)  # fmt: skip
    if data.api_key and (data.username or data.password):
        raise InvalidInput(N_("give either an API key or a username and password, not both"), where="api_key")
    if (data.username is None) != (data.password is None):
        raise InvalidInput(N_("basic authentication needs both --username and --password"), where="username")
    check_url(data.url, policy)  # refused schemes and addresses fail now, not at the first run
    return name, kind, direction


def add_peer(session: Session, actor: Principal, data: PeerIn, settings: Settings, *, replace: bool = False) -> PeerOut:
    """Register a peer (or, with ``replace``, change one keeping its cursors and history)."""
    check_operator(actor)
    name, kind, direction = _validated(data, OutboundPolicy.from_settings(settings))
    peer = session.scalar(select(FederationPeer).where(FederationPeer.name == name))
    if peer is not None and not replace:
        raise Conflict(N_("a federation peer named %(name)r exists (use --replace to change it)"), name=name)
    org_id = _peer_org(session, actor, name, data.as_org)
    if peer is None:
        peer = FederationPeer(
            name=name, push_cursor=0, failures=0, enabled=True, created_at=utcnow(), org_id=org_id, auth_kind="none"
        )
        session.add(peer)
    peer.kind, peer.url, peer.direction = kind.value, data.url.strip(), direction.value
    peer.collection_id = (data.collection_id or "").strip() or None
    peer.interval_seconds = data.interval_seconds
    peer.org_id = org_id
    if data.username is not None:
        peer.username = data.username
    if data.api_key:
        peer.auth_kind, peer.secret, peer.username = "api-key", seal(settings.secret_key, data.api_key, name), None
    elif data.password is not None:
        peer.auth_kind, peer.secret = "basic", seal(settings.secret_key, data.password, name)
    elif peer.secret is None:  # a replacement without credentials keeps the stored ones
        peer.auth_kind = "none"
    peer.next_attempt_at = None
    peer.failures = 0
    session.flush()
    identity.audit_record(
        session, actor, "federation.replace" if replace else "federation.add", "federation_peer", peer.id,
        name=name, kind=kind.value, url=peer.url, direction=direction.value, auth=peer.auth_kind,
    )  # fmt: skip
    return _out(session, peer)


def list_peers(session: Session, actor: Principal) -> list[PeerOut]:
    check_operator(actor)
    return [_out(session, p) for p in session.scalars(select(FederationPeer).order_by(FederationPeer.name))]


def get_peer(session: Session, actor: Principal, name: str) -> PeerOut:
    check_operator(actor)
    return _out(session, find_peer_row(session, name))


def set_enabled(session: Session, actor: Principal, name: str, enabled: bool) -> PeerOut:
    """Pause a peer (the scheduler skips it; "run now" still runs it) or resume it (due at once)."""
    check_operator(actor)
    peer = find_peer_row(session, name)
    peer.enabled = enabled
    if enabled:
        peer.next_attempt_at = None
    session.flush()
    identity.audit_record(
        session, actor, "federation.enable" if enabled else "federation.disable", "federation_peer", peer.id,
        name=peer.name,
    )  # fmt: skip
    return _out(session, peer)


def remove_peer(session: Session, actor: Principal, name: str) -> None:
    """Forget a peer (its runs and source records); objects already pulled stay, owned by its hub org."""
    check_operator(actor)
    peer = find_peer_row(session, name)
    session.execute(delete(FederationRun).where(FederationRun.peer_id == peer.id))
    session.delete(peer)
    session.flush()
    identity.audit_record(session, actor, "federation.remove", "federation_peer", peer.id, name=peer.name)


def recent_runs(session: Session, actor: Principal, name: str | None = None, limit: int = 20) -> list[RunOut]:
    check_operator(actor)
    query = (
        select(FederationRun, FederationPeer.name)
        .join(FederationPeer, FederationPeer.id == FederationRun.peer_id)
        .order_by(FederationRun.id.desc())
        .limit(max(1, min(limit, 500)))
    )
    if name is not None:
        query = query.where(FederationPeer.id == find_peer_row(session, name).id)
    runs = []
    for run, peer_name in session.execute(query):
        out = RunOut.model_validate(run)
        out.peer_name = peer_name
        runs.append(out)
    return runs
