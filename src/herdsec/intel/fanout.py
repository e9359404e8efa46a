"""One reader of the outbox per server process, fanning items out to every subscriber of that process.

The hub keeps the newest items in a bounded ring (``HERDSEC_STREAM_BUFFER_EVENTS``): memory does not grow with the
number of subscribers or with their speed. A subscriber whose cursor is older than the ring (a resume from an old
``Last-Event-ID``, or a reader that fell behind during a burst) reads the outbox itself until it is back in the
ring. The hub reads the outbox when woken up — by a commit in this process (``core.events.on_commit``), by
PostgreSQL ``NOTIFY`` from another process, or by a slow poll (the safety net) — always from its own cursor, so a
lost wake-up delays an item by at most one poll and never loses it.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Protocol

from herdsec.core import events
from herdsec.core.db import Database
from herdsec.intel.stream import Cursor, Item, newest_cursor, read

log = logging.getLogger("herdsec.stream")
READ_ITEMS = 1000


class Stream(Protocol):
    """A subscriber's stream, as the hub's watchdog sees it."""

    def stall(self, now: float) -> str | None: ...


@dataclass
class Stats:
    subscribers: int = 0
    delivered: int = 0
    dropped: int = 0
    drop_reasons: list[str] = field(default_factory=list)

    def drop(self, reason: str) -> None:
        self.dropped += 1
        self.drop_reasons = [*self.drop_reasons[-99:], reason]
        log.warning("stream subscriber dropped: %s", reason)


class Hub:
    """The per-process outbox reader and its ring of recent items."""

    def __init__(
        self,
        database: Database,
        *,
        capacity: int = 5000,
        poll_seconds: float = 2.0,
        tick_seconds: float = 1.0,
        listen_url: str | None = None,
    ) -> None:
        self.database = database
        self.tick_seconds = tick_seconds
        self._streams: dict[Stream, asyncio.Task[None]] = {}
        self.capacity = max(capacity, 10)
        self.poll_seconds = poll_seconds
        self.listen_url = listen_url
        self.stats = Stats()
        self.head = Cursor(0)
        self._floor = Cursor(0)
        self._items: list[Item] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._news = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._undo: list[object] = []
        self._started = asyncio.Lock()

    # --- lifecycle ------------------------------------------------------------------------------------------------

    async def start(self) -> None:
        async with self._started:
            if self._loop is not None:
                return
            self._loop = asyncio.get_running_loop()
            self.head = self._floor = await asyncio.to_thread(self._newest)
            self._undo.append(events.on_commit(self.wake))
            self._tasks.append(asyncio.create_task(self._run(), name="herdsec-stream-reader"))
            self._tasks.append(asyncio.create_task(self._tick(), name="herdsec-stream-tick"))
            if self.listen_url:
                self._tasks.append(asyncio.create_task(self._listen(self.listen_url), name="herdsec-stream-listen"))

    async def stop(self) -> None:
        for undo in self._undo:
            undo()  # type: ignore[operator]
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        self._loop = None

    def wake(self) -> None:
        """Look at the outbox now (safe from any thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(self._wake.set)

    # --- subscribers ----------------------------------------------------------------------------------------------

    def after(self, cursor: Cursor, limit: int) -> tuple[list[Item], Cursor] | None:
        """Items after ``cursor`` from the ring and the cursor they reach, or None if the ring no longer holds
        what follows ``cursor`` (the caller reads the outbox then)."""
        if cursor < self._floor:
            return None
        start = bisect.bisect_right(self._items, cursor, key=lambda item: item.cursor)
        chunk = self._items[start : start + limit]
        if start + limit < len(self._items):
            return chunk, chunk[-1].cursor
        return chunk, max(self.head, cursor)

    async def changed(self) -> None:
        """Wait for news: items read from the outbox, or the tick (so that idle streams can send heartbeats)."""
        await self._news.wait()

    def attach(self, stream: Stream, task: asyncio.Task[None]) -> None:
        self._streams[stream] = task
        self.stats.subscribers = len(self._streams)

    def detach(self, stream: Stream) -> None:
        self._streams.pop(stream, None)
        self.stats.subscribers = len(self._streams)

    def replay(self, cursor: Cursor, limit: int) -> tuple[list[Item], Cursor]:
        """Read the outbox after ``cursor`` (in a worker thread)."""
        with self.database.transaction() as session:
            return read(session, cursor, limit)

    # --- the reader -----------------------------------------------------------------------------------------------

    def _newest(self) -> Cursor:
        with self.database.transaction() as session:
            return newest_cursor(session)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                while True:
                    items, reached = await asyncio.to_thread(self.replay, self.head, READ_ITEMS)
                    if reached <= self.head:
                        break
                    self._append(items, reached)
                    if len(items) < READ_ITEMS:
                        break
            except asyncio.CancelledError:
                raise
            except RuntimeError as exc:  # the interpreter or the loop is shutting down
                log.debug("stream reader stops: %s", exc)
                return
            except Exception:
                log.exception("reading the event outbox failed; retrying")
                await asyncio.sleep(self.poll_seconds)

    async def _tick(self) -> None:
        """Wake every stream now and then (heartbeats), and cut off those whose send has been stuck too long: one
        watchdog for all, instead of a timer per send."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.tick_seconds)
            now = loop.time()
            for stream, task in list(self._streams.items()):
                if stream.stall(now):
                    task.cancel()
            self._announce()

    def _announce(self) -> None:
        news, self._news = self._news, asyncio.Event()
        news.set()

    def _append(self, items: list[Item], reached: Cursor) -> None:
        self._items.extend(items)
        if len(self._items) > self.capacity:
            cut = len(self._items) - self.capacity
            self._floor = self._items[cut - 1].cursor
            del self._items[:cut]
        self.head = reached
        self._announce()

    async def _listen(self, url: str) -> None:
        """PostgreSQL LISTEN: other processes' commits wake this hub up."""
        import psycopg

        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(url, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {events.CHANNEL}")
                    self._wake.set()  # whatever was committed while not listening
                    async for _notice in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("LISTEN %s failed (%s); polling until it is back", events.CHANNEL, exc)
                await asyncio.sleep(max(self.poll_seconds, 1.0))
