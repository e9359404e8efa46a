"""MISP feeds: publish the hub's shareable events as a feed a MISP instance can pull, and pull remote feeds.

A feed is a directory (or its URL): ``manifest.json`` (event uuid → info, Orgc, tags, date, analysis, threat level
and timestamp), one ``<uuid>.json`` per event (``{"Event": {...}}``) and ``hashes.csv`` (``md5(value),uuid`` per
attribute value, composite values split), as MISP and PyMISP's feed generator write them.

Only what may leave the hub goes into a feed: what the publishing member may see in bulk *and* what a connected
community may receive (TLP:CLEAR or GREEN, distribution ``connected`` or ``all``), or with ``public=True`` what the
public may receive (TLP:CLEAR, distribution ``all``). Never AMBER or RED, never organization-only or sharing-group
content. Distribution and sharing groups are not written into the feed (as MISP's feeds do not).
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from herdsec.core.clock import utcnow
from herdsec.core.errors import N_, HerdsecError, InvalidInput, PermissionDenied
from herdsec.core.text import ascii_digits
from herdsec.core.workers import WorkerFailed
from herdsec.identity import Principal, Role
from herdsec.identity.visibility import Viewer
from herdsec.intel.access import visible_objects
from herdsec.intel.misp.exporter import export_events
from herdsec.intel.misp.importer import import_events
from herdsec.intel.misp.models import MispFeedEvent
from herdsec.intel.misp.schemas import FeedPullStatus, MispProblem
from herdsec.intel.misp.vocab import UUID_RE

Fetch = Callable[[str], bytes]
MANIFEST_FIELDS = ("Orgc", "Tag", "info", "date", "analysis", "threat_level_id", "timestamp")
MAX_MANIFEST_EVENTS = 1_000_000
MAX_FEED_URL = 500


@dataclass(frozen=True)
class FeedWritten:
    directory: Path
    events: int
    attributes: int


def write_feed(session: Session, actor: Principal, directory: Path, *, public: bool = False) -> FeedWritten:
    """Write the feed into ``directory`` (created if needed). Files are replaced atomically; event files of events
    no longer shareable are removed, so a feed never keeps what may no longer leave the hub."""
    if directory.exists() and not directory.is_dir():
        raise InvalidInput(N_("%(path)s is not a directory"), where=str(directory), path=str(directory))
    directory.mkdir(parents=True, exist_ok=True)
    audience = Viewer.public() if public else Viewer.peer()
    manifest: dict[str, Any] = {}
    hashes: list[str] = []
    attributes = 0
    for exported in export_events(session, actor, extra=visible_objects(audience)):
        event = _for_feed(exported["Event"])
        uuid = event["uuid"]
        manifest[uuid] = _manifest_entry(event)
        values = _values(event)
        attributes += len(values)
        hashes.extend(f"{hashlib.md5(v.encode(), usedforsecurity=False).hexdigest()},{uuid}" for v in values)
        _write(directory / f"{uuid}.json", orjson.dumps({"Event": event}))
    for stale in directory.glob("*.json"):
        if UUID_RE.match(stale.stem) and stale.stem not in manifest:
            stale.unlink()
    _write(directory / "manifest.json", orjson.dumps(manifest))
    _write(directory / "hashes.csv", "".join(f"{line}\n" for line in hashes).encode())
    return FeedWritten(directory, len(manifest), attributes)


def _manifest_entry(event: dict[str, Any]) -> dict[str, Any]:
    """As PyMISP writes it: numbers as numbers."""
    entry = {key: event[key] for key in MANIFEST_FIELDS if key in event}
    for key in ("analysis", "threat_level_id", "timestamp"):
        if ascii_digits(str(entry.get(key, ""))):
            entry[key] = int(entry[key])
    return entry


def _for_feed(event: dict[str, Any]) -> dict[str, Any]:
    """The event without its distribution and sharing group (a feed's reader sets its own)."""
    out = {k: v for k, v in event.items() if k not in ("distribution", "sharing_group_id", "SharingGroup")}
    out["Attribute"] = [_strip(a) for a in event.get("Attribute", [])]
    out["Object"] = [
        {**_strip(o), "Attribute": [_strip(a) for a in o.get("Attribute", [])]} for o in event.get("Object", [])
    ]
    return out


def _strip(element: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in element.items() if k not in ("distribution", "sharing_group_id", "SharingGroup")}


def _values(event: dict[str, Any]) -> list[str]:
    attributes = list(event.get("Attribute", [])) + [a for o in event.get("Object", []) for a in o.get("Attribute", [])]
    values = []
    for attribute in attributes:
        value = str(attribute.get("value", ""))
        composite = "|" in str(attribute.get("type", "")) or attribute.get("type") == "malware-sample"
        values.extend(value.split("|") if composite else [value])
    return values


def _write(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def pull_feed(
    session: Session,
    actor: Principal,
    base_url: str,
    fetch: Fetch,
    *,
    tlp: str | None = None,
    distribution: str | None = None,
) -> FeedPullStatus:
    """Pull a remote MISP feed as ``actor``'s organization: the manifest first, then only the events whose
    timestamp changed since this organization's last pull of this feed (kept in ``misp_feed_events``).

    ``fetch(url) -> bytes`` does the HTTP (the caller provides it: the hub's SSRF-safe fetcher in production).
    An event that cannot be fetched or read is reported and retried at the next pull; the others are stored."""
    if not actor.has_role(Role.ANALYST) or actor.org_id == 0:
        raise PermissionDenied(N_("sharing needs the analyst or admin role in a member organization"))
    base = base_url.rstrip("/")
    if not base or len(base) > MAX_FEED_URL:
        raise InvalidInput(N_("a feed URL must have 1 to %(n)s characters"), where="feed", n=MAX_FEED_URL)
    status = FeedPullStatus(feed=base)
    manifest = _manifest(fetch, base)
    status.listed = len(manifest)
    known = dict(
        session.execute(
            select(MispFeedEvent.event_uuid, MispFeedEvent.timestamp).where(
                MispFeedEvent.org_id == actor.org_id, MispFeedEvent.feed == base
            )
        ).all()
    )
    for event_uuid, meta in sorted(manifest.items()):
        stamp = _stamp(meta)
        if not UUID_RE.match(event_uuid) or stamp is None:
            status.failed.append(MispProblem(where="manifest.json", uuid=event_uuid[:60], reason="not a feed entry"))
            continue
        key = event_uuid.lower()
        if known.get(key, -1) >= stamp:
            status.unchanged += 1
            continue
        try:
            body = fetch(f"{base}/{key}.json")
            with session.begin_nested():
                result = import_events(
                    session, actor, io.BytesIO(body), tlp=tlp, distribution=distribution, source=f"feed:{base}"[:60]
                )
        except (HerdsecError, OSError, ValueError, WorkerFailed) as exc:  # that event only: the pull goes on
            status.failed.append(MispProblem(where=f"{key}.json", uuid=key, reason=str(exc)[:500]))
            continue
        status.fetched += 1
        status.stored_count += result.stored_count
        status.failure_count += result.failure_count
        _remember(session, actor.org_id, base, key, stamp, key in known)
    return status


def _manifest(fetch: Fetch, base: str) -> dict[str, Any]:
    try:
        manifest = orjson.loads(fetch(f"{base}/manifest.json"))
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(N_("the feed's manifest.json is not JSON: %(reason)s"), where=base, reason=exc.msg) from None
    if not isinstance(manifest, dict) or len(manifest) > MAX_MANIFEST_EVENTS:
        raise InvalidInput(N_("the feed's manifest.json is not a MISP feed manifest"), where=base)
    return manifest


def _stamp(meta: object) -> int | None:
    raw = meta.get("timestamp") if isinstance(meta, dict) else None
    text = str(raw) if isinstance(raw, int | str) and not isinstance(raw, bool) else ""
    return int(text) if ascii_digits(text) else None


def _remember(session: Session, org_id: int, feed: str, event_uuid: str, stamp: int, exists: bool) -> None:
    now = utcnow()
    if exists:
        row = session.scalar(
            select(MispFeedEvent).where(
                MispFeedEvent.org_id == org_id, MispFeedEvent.feed == feed, MispFeedEvent.event_uuid == event_uuid
            )
        )
        if row is not None:
            row.timestamp, row.pulled_at = stamp, now
            session.flush()
            return
    session.add(MispFeedEvent(org_id=org_id, feed=feed, event_uuid=event_uuid, timestamp=stamp, pulled_at=now))
    session.flush()
