"""The hub as the source of indicators and the place sightings go back to, over its JSON API (standard library
HTTP only).

The scan set (``GET /api/v1/intel/scanset``) is cached in a local directory and updated incrementally: the hub sends
NDJSON lines ``{"op": "add"|"remove", "type", "value", "id"}`` and a last line ``{"cursor": …, "full": bool}``; a
``full`` answer replaces the cache. When the hub cannot be reached, the cached set is used (and the caller says so).

Sightings (``POST /api/v1/intel/sightings``) carry the indicator (its object id when it came from the hub, else its
value and type), a count and the first and last time seen: never a log line.
"""

from __future__ import annotations

import hashlib
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from herdsec.core.errors import N_, HerdsecError, InvalidInput

TIMEOUT = 30.0
SCANSET = "/api/v1/intel/scanset"
SIGHTINGS = "/api/v1/intel/sightings"


class HubUnreachable(HerdsecError):
    """The hub did not answer (down, refused, timed out) or answered with a server error."""


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "herdsec"


@dataclass(slots=True)
class ScanSet:
    """The organization's scan set: (type, value) → object ids, with the hub's cursor."""

    entries: dict[tuple[str, str], set[str]]
    cursor: str | None = None
    fetched_at: str | None = None
    from_cache: bool = False

    def apply(self, line: dict[str, Any]) -> None:
        key = (str(line.get("type")), str(line.get("value")))
        ident = str(line.get("id"))
        if line.get("op") == "add":
            self.entries.setdefault(key, set()).add(ident)
        elif line.get("op") == "remove":
            ids = self.entries.get(key)
            if ids is not None:
                ids.discard(ident)
                if not ids:
                    del self.entries[key]


class Hub:
    """A hub at ``url`` reached with an API key; ``cache`` is the directory for its scan set."""

    def __init__(self, url: str, api_key: str, cache: Path | None = None, timeout: float = TIMEOUT) -> None:
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise InvalidInput(N_("the hub URL must be http(s)://host[:port]"), where="--hub")
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        tag = hashlib.sha256(f"{self.url}\n{api_key}".encode()).hexdigest()[:16]
        self.cache_dir = (cache or default_cache()) / f"scanset-{tag}"

    # --- HTTP ---------------------------------------------------------------------------------------------------

    def _open(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked in __init__
            self.url + path,
            data=data,
            method="GET" if body is None else "POST",
            headers={
                "Authorization": f"Bearer {self.api_key}",
                "Accept": "application/x-ndjson, application/json",
                **({"Content-Type": "application/json"} if body is not None else {}),
            },
        )
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)  # noqa: S310
        except urllib.error.HTTPError as exc:
            detail = _problem(exc)
            if exc.code >= 500:
                raise HubUnreachable(
                    N_("the hub answered %(status)s: %(detail)s"), status=exc.code, detail=detail
                ) from None
            raise InvalidInput(
                N_("the hub refused the request (%(status)s): %(detail)s"),
                where=self.url,
                status=exc.code,
                detail=detail,
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise HubUnreachable(
                N_("the hub at %(url)s is unreachable: %(reason)s"), url=self.url, reason=reason
            ) from None

    # --- the scan set -------------------------------------------------------------------------------------------

    def load_cache(self) -> ScanSet | None:
        state_file, values_file = self.cache_dir / "state.json", self.cache_dir / "scanset.tsv"
        if not state_file.exists() or not values_file.exists():
            return None
        state = json.loads(state_file.read_text())
        entries: dict[tuple[str, str], set[str]] = {}
        with values_file.open(encoding="utf-8") as handle:
            for line in handle:
                kind, value, ids = line.rstrip("\n").split("\t")
                entries[kind, value] = set(ids.split(","))
        return ScanSet(entries, state.get("cursor"), state.get("fetched_at"), from_cache=True)

    def save_cache(self, scanset: ScanSet) -> None:
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        values_file = self.cache_dir / "scanset.tsv"
        temporary = values_file.with_suffix(".tmp")
        with temporary.open("w", encoding="utf-8") as handle:
            handle.writelines(
                f"{kind}\t{value}\t{','.join(sorted(ids))}\n" for (kind, value), ids in scanset.entries.items()
            )
        temporary.replace(values_file)
        state = {"cursor": scanset.cursor, "fetched_at": scanset.fetched_at, "url": self.url}
        (self.cache_dir / "state.json").write_text(json.dumps(state))

    def fetch(self, cached: ScanSet | None) -> ScanSet:
        """The scan set brought up to date from the hub (incrementally from ``cached``), and saved."""
        after = cached.cursor if cached is not None and cached.cursor else None
        query = "" if after is None else "?" + urllib.parse.urlencode({"after": after})
        scanset = ScanSet(dict(cached.entries) if cached is not None else {})
        with self._open(SCANSET + query) as response:
            lines = _ndjson(response)
            for line in lines:
                if "cursor" in line:  # the last line
                    scanset.cursor = str(line["cursor"])
                elif "op" in line:
                    scanset.apply(line)
                elif line.get("full") is True:  # the first line of a full answer: it replaces the cache
                    scanset.entries.clear()
        scanset.fetched_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.save_cache(scanset)
        return scanset

    # --- sightings ----------------------------------------------------------------------------------------------

    def report(self, sightings: Iterable[dict[str, Any]]) -> tuple[int, list[str]]:
        """Post each sighting; (how many were recorded, problems)."""
        recorded, problems = 0, []
        for body in sightings:
            try:
                with self._open(SIGHTINGS, body) as response:
                    recorded += int(json.load(response).get("recorded", 0))
            except HerdsecError as exc:
                problems.append(f"{body.get('object_id') or body.get('value')}: {exc.render()}")
                if isinstance(exc, HubUnreachable):
                    break
        return recorded, problems


def _ndjson(response: Any) -> Iterator[dict[str, Any]]:
    for raw in response:
        text = raw.strip()
        if text:
            value = json.loads(text)
            if isinstance(value, dict):
                yield value


def _problem(exc: urllib.error.HTTPError) -> str:
    try:
        body = json.loads(exc.read() or b"{}")
    except ValueError:
        return str(exc.reason)
    return str(body.get("detail") or body.get("title") or exc.reason)[:200]
