"""A client of ``GET /api/v1/stream`` (used by ``herdsec stream``): parses Server-Sent Events and reconnects with
the last id it saw, so that a restart of the hub loses nothing (duplicates are possible, gaps are not)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx

from herdsec.core.errors import N_, AuthenticationRequired, InvalidInput, PermissionDenied

MAX_BACKOFF = 5.0


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched block. ``data`` is None for a block that only moves the id (a heartbeat)."""

    id: str | None
    event: str
    data: str | None


def parse(lines: Iterable[str]) -> Iterator[SseEvent]:
    """The events of a text/event-stream, line by line (comments skipped, ``retry:`` ignored)."""
    event_id: str | None = None
    kind = "message"
    data: list[str] = []
    seen_id = False
    for line in lines:
        if line == "":
            if data or seen_id:
                yield SseEvent(event_id, kind, "\n".join(data) if data else None)
            kind, data, seen_id = "message", [], False
            continue
        if line.startswith(":"):
            continue
        name, _sep, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            data.append(value)
        elif name == "id":
            event_id, seen_id = value, True
        elif name == "event":
            kind = value


def _refusal(response: httpx.Response) -> Exception:
    try:
        detail = str(response.json().get("detail"))
    except ValueError:
        detail = response.text[:300]
    if response.status_code == 401:
        return AuthenticationRequired(N_("the hub refused the API key: %(detail)s"), detail=detail)
    if response.status_code == 403:
        return PermissionDenied(N_("the hub refused the stream: %(detail)s"), detail=detail)
    return InvalidInput(
        N_("the hub refused the stream (%(status)s): %(detail)s"), status=response.status_code, detail=detail
    )


def follow(
    hub: str,
    api_key: str,
    *,
    last_event_id: str | None = None,
    params: dict[str, str] | None = None,
    reconnect: bool = True,
    read_timeout: float = 60.0,
) -> Iterator[SseEvent]:
    """Yield the stream's events for ever, reconnecting (with backoff) from the last id seen. Refusals (bad key,
    bad filter, bad id) raise at once; network errors and the hub going away are retried."""
    url = hub.rstrip("/") + "/api/v1/stream"
    backoff = 0.5
    timeout = httpx.Timeout(10.0, read=read_timeout)
    with httpx.Client(timeout=timeout, trust_env=False) as client:
        while True:
            headers = {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}
            if last_event_id is not None:
                headers["Last-Event-ID"] = last_event_id
            try:
                with client.stream("GET", url, params=params or {}, headers=headers) as response:
                    if response.status_code != 200:
                        response.read()
                        if response.status_code < 500:
                            raise _refusal(response)
                        raise httpx.HTTPStatusError("server error", request=response.request, response=response)
                    backoff = 0.5
                    for event in parse(response.iter_lines()):
                        if event.id is not None:
                            last_event_id = event.id
                        yield event
            except (httpx.TransportError, httpx.HTTPStatusError):
                pass
            if not reconnect:
                return
            time.sleep(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
