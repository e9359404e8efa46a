"""``GET /api/v1/stream``: Server-Sent Events of every shared change the caller may see (see docs/stream.md)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request
from fastapi.responses import HTMLResponse, Response
from starlette.types import Receive, Scope, Send

from herdsec.core.errors import N_, HerdsecError
from herdsec.core.i18n import gettext
from herdsec.core.settings import Settings
from herdsec.identity import Principal
from herdsec.intel import stream
from herdsec.intel.fanout import Hub
from herdsec.intel.stream import Cursor, Filters, Item, Subscription
from herdsec.web.deps import api_principal, page_principal
from herdsec.web.render import render

router = APIRouter(tags=["stream"])
Caller = Annotated[Principal, Depends(api_principal)]
MEDIA_TYPE = "text/event-stream"
RETRY_MS = 2000
LAST_WORDS_SECONDS = 0.5
REAUTH_SECONDS = 60.0  # how often a long-lived stream checks that its key or session is still valid


def _listen_url(hub_db: object) -> str | None:
    bind = getattr(hub_db, "bind", None)
    url = getattr(bind, "url", None)
    if url is None or not str(url.drivername).startswith("postgresql"):
        return None
    return str(url.set(drivername="postgresql").render_as_string(hide_password=False))


async def hub_of(app: FastAPI) -> Hub:
    """The process's hub, created and started on first use (works with and without ASGI lifespan)."""
    hub: Hub | None = getattr(app.state, "stream_hub", None)
    if hub is None:
        settings: Settings = app.state.settings
        hub = Hub(
            app.state.db,
            capacity=settings.stream_buffer_events,
            poll_seconds=settings.stream_poll_seconds,
            tick_seconds=min(1.0, settings.stream_heartbeat_seconds / 2, settings.stream_send_timeout_seconds / 2),
            listen_url=_listen_url(app.state.db),
        )
        app.state.stream_hub = hub
    await hub.start()
    return hub


def frame(item_id: str, data: bytes, event: str | None = None) -> bytes:
    head = f"id: {item_id}\n".encode() + (f"event: {event}\n".encode() if event else b"")
    return head + b"data: " + data + b"\n\n"


@router.get(
    "/stream",
    summary="Live stream of shared changes (Server-Sent Events)",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPE: {}}, "description": "An endless text/event-stream."}},
)
async def get_stream(
    request: Request,
    caller: Caller,
    types: Annotated[str | None, Query(description="Comma-separated STIX types (sighting for sightings).")] = None,
    tlp: Annotated[str | None, Query(description="Comma-separated TLP levels to receive, e.g. clear,green.")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=100, description="Indicators scoring at least this.")] = None,
    sector: Annotated[str | None, Query(description="Comma-separated sectors of the sharing organization.")] = None,
    last_event_id: Annotated[
        str | None, Query(description="Resume after this id (like the Last-Event-ID header; 0 = everything).")
    ] = None,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID", include_in_schema=False)] = None,
) -> Response:
    """Each event has an ``id:`` and one ``data:`` line of JSON carrying the STIX id; a bad or future
    ``Last-Event-ID`` is refused with 422. Heartbeat comments keep idle connections open."""
    filters = Filters.parse(types, tlp, min_score, sector)
    raw = last_event_id_header if last_event_id_header is not None else last_event_id
    cursor = stream.parse_cursor(raw) if raw is not None and raw.strip() else None
    hub = await hub_of(request.app)
    if cursor is None:
        cursor = hub.head
    else:
        stream.check_not_future(cursor, await asyncio.to_thread(_newest, hub))
    return EventStream(
        hub, Subscription(caller, filters), cursor, request.app.state.settings, recheck=lambda: api_principal(request)
    )


def _newest(hub: Hub) -> int:
    with hub.database.transaction() as session:
        return stream.newest_cursor(session).event


class EventStream(Response):
    """An endless ``text/event-stream`` whose writes are bounded in time: a client that stops reading is cut off
    after ``HERDSEC_STREAM_SEND_TIMEOUT_SECONDS`` (and holds at most one batch of items meanwhile)."""

    media_type = MEDIA_TYPE

    def __init__(
        self,
        hub: Hub,
        subscription: Subscription,
        cursor: Cursor,
        settings: Settings,
        recheck: Callable[[], Awaitable[Principal]] | None = None,
    ) -> None:
        super().__init__(media_type=MEDIA_TYPE)
        self.recheck = recheck
        self.hub, self.subscription, self.cursor, self.settings = hub, subscription, cursor, settings
        self.confirmed = cursor  # the position of the last chunk fully handed to the server

    sending_since: float | None = None  # when the send now in progress started (the hub's watchdog reads it)
    stalled: str | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream; charset=utf-8"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        pump = asyncio.create_task(self._pump(send))
        watcher = asyncio.create_task(_watch_disconnect(receive))
        self.hub.attach(self, pump)
        try:
            await asyncio.wait({pump, watcher}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.hub.detach(self)
            for task in (pump, watcher):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.stalled:
            self.hub.stats.drop(f"{self.subscription.principal.label}: {self.stalled}")
            await _last_words(send, self.confirmed, self.stalled)

    def stall(self, now: float) -> str | None:
        """The reason to cut this client off, if its current send has been blocked for longer than allowed."""
        limit = self.settings.stream_send_timeout_seconds
        if self.sending_since is None or now - self.sending_since < limit:
            return None
        self.stalled = f"the client read nothing for {limit:g} s"
        return self.stalled

    async def _pump(self, send: Send) -> None:
        """Send what the hub has for this subscriber; wait for news; heartbeat when idle. One send per wake-up."""
        loop = asyncio.get_running_loop()
        hub, sub, batch = self.hub, self.subscription, self.settings.stream_batch_events
        heartbeat = self.settings.stream_heartbeat_seconds
        self.confirmed = self.cursor

        async def out(body: bytes) -> None:
            self.sending_since = loop.time()
            await send({"type": "http.response.body", "body": body, "more_body": True})
            self.sending_since = None
            self.confirmed = self.cursor

        # The opening id tells even a client that receives nothing where it started (so a reconnect loses nothing).
        await out(f"retry: {RETRY_MS}\nid: {self.cursor}\n: herdsec stream\n\n".encode())
        last_sent = last_auth = loop.time()
        while True:
            if self.recheck is not None and loop.time() - last_auth >= REAUTH_SECONDS:
                last_auth = loop.time()
                try:  # a revoked key or an ended session stops the stream
                    await self.recheck()
                except HerdsecError as exc:
                    self.stalled = f"credentials no longer accepted: {exc}"
                    return
            found = hub.after(self.cursor, batch)
            if found is None:  # older than the ring holds: read the outbox
                found = await asyncio.to_thread(hub.replay, self.cursor, batch)
            items, reached = found
            admitted = [item for item in items if sub.admits(item)]
            if admitted and sub.filters.min_score is not None:
                admitted = await asyncio.to_thread(_scored, hub, sub, admitted)
            moved = reached != self.cursor
            self.cursor = reached
            if admitted:
                body = b"".join(i.frame_for(sub.principal) for i in admitted)
                hub.stats.delivered += len(admitted)
                await out(body + (f"id: {reached}\n\n".encode() if reached != admitted[-1].cursor else b""))
                last_sent = loop.time()
                continue
            if moved:
                continue
            if loop.time() - last_sent >= heartbeat:
                # The id line moves a browser's lastEventId past items that were filtered out.
                await out(f": heartbeat\nid: {self.cursor}\n\n".encode())
                last_sent = loop.time()
            await hub.changed()  # news, or the hub's tick (heartbeats and the watchdog)


def _scored(hub: Hub, sub: Subscription, items: list[Item]) -> list[Item]:
    with hub.database.transaction() as session:
        found = stream.scores(session, sub.principal, items, bulk=sub.bulk)
    least = sub.filters.min_score or 0.0
    return [i for i in items if found.get(i.pk, -1.0) >= least]


async def _watch_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _last_words(send: Send, cursor: Cursor, reason: str) -> None:
    """Tell the client why it is cut off (if its socket takes anything at all any more)."""
    import orjson

    body = frame(str(cursor), orjson.dumps({"reason": reason, "last_event_id": str(cursor)}), event="dropped")
    with contextlib.suppress(Exception):
        await asyncio.wait_for(
            send({"type": "http.response.body", "body": body, "more_body": False}), LAST_WORDS_SECONDS
        )


def install(app: FastAPI) -> None:
    """Run the webhook worker (and stop the stream hub) with the app's lifespan. A database bound to one
    connection (the tests' per-test transaction) gets no background work."""
    from contextlib import asynccontextmanager

    from sqlalchemy import Engine

    from herdsec.intel.webhooks.worker import WebhookWorker

    previous = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Any) -> AsyncIterator[Any]:
        async with previous(app_) as state:
            worker = None
            if isinstance(app.state.db.bind, Engine):
                worker = WebhookWorker(app.state.db, app.state.settings)
                app.state.webhook_worker = worker
                await worker.start()
            try:
                yield state
            finally:
                if worker is not None:
                    await worker.stop()
                hub: Hub | None = getattr(app.state, "stream_hub", None)
                if hub is not None:
                    await hub.stop()

    app.router.lifespan_context = lifespan


pages = APIRouter(include_in_schema=False)


@pages.get("/live", response_class=HTMLResponse)
def live_page(request: Request, me: Annotated[Principal, Depends(page_principal)]) -> Response:
    """The live view: the page's script follows ``/api/v1/stream`` with the login cookie."""
    labels = {
        "object.created": gettext(N_("new")),
        "object.version": gettext(N_("updated")),
        "object.revoked": gettext(N_("revoked")),
        "sighting": gettext(N_("sighting")),
    }
    return render(request, "intel/live.html", principal=me, labels=labels)
