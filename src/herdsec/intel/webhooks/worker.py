"""The delivery worker that runs inside ``herdsec serve``: queue new items, claim due deliveries, POST them.

Each POST carries the item's JSON, ``X-HerdSec-Signature: t=<unix>,v1=<hex>``, ``X-HerdSec-Event-Id`` and
``X-HerdSec-Delivery``. A 2xx answer is success; anything else — another status, a redirect (never followed),
a timeout, a refused connection, a target that now resolves to a forbidden address — is a failed attempt, retried
with exponential backoff until ``HERDSEC_WEBHOOK_MAX_ATTEMPTS``, then dead-lettered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import timedelta

import httpx

from herdsec.core import events
from herdsec.core.clock import utcnow
from herdsec.core.db import Database
from herdsec.core.errors import HerdsecError
from herdsec.core.outbound import OutboundPolicy
from herdsec.core.settings import Settings
from herdsec.intel.webhooks import service
from herdsec.intel.webhooks.logic import SIGNATURE_HEADER, signature

log = logging.getLogger("herdsec.webhooks")
KEEP_DELIVERED = timedelta(days=7)
PURGE_EVERY_SECONDS = 3600.0


class WebhookWorker:
    def __init__(self, database: Database, settings: Settings) -> None:
        self.database, self.settings = database, settings
        self.policy = OutboundPolicy.from_settings(settings)  # the same outbound rule as federation
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._undo: object = None
        self._purged = time.monotonic()

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._undo = events.on_commit(self.wake)
        self._task = asyncio.create_task(self._run(), name="herdsec-webhooks")

    async def stop(self) -> None:
        if self._undo is not None:
            self._undo()  # type: ignore[operator]
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self._task = None

    def wake(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        timeout = httpx.Timeout(self.settings.webhook_timeout_seconds)
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            while True:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.webhook_poll_seconds)
                self._wake.clear()
                try:
                    await self.run_once(client)
                except asyncio.CancelledError:
                    raise
                except RuntimeError as exc:  # the interpreter or the loop is shutting down
                    log.debug("webhook worker stops: %s", exc)
                    return
                except Exception:
                    log.exception("webhook worker round failed; retrying")

    async def run_once(self, client: httpx.AsyncClient) -> int:
        """One round: queue, claim, deliver concurrently, settle. Returns the number of attempts made."""
        await asyncio.to_thread(self._enqueue)
        claims = await asyncio.to_thread(self._claim)
        if not claims:
            return 0
        results = await asyncio.gather(*(self._post(client, c) for c in claims))
        await asyncio.to_thread(self._settle, list(zip(claims, results, strict=True)))
        if len(claims) == self._claim_size:
            self._wake.set()  # more are due
        return len(claims)

    _claim_size = 50

    def _enqueue(self) -> None:
        """Queue in short transactions (each locks the webhooks it advances) until every webhook is caught up."""
        while True:
            with self.database.transaction() as session:
                service.enqueue(session)
                if not service.more(session):
                    break
        now = time.monotonic()
        if now - self._purged > PURGE_EVERY_SECONDS:
            self._purged = now
            with self.database.transaction() as session:
                service.purge_delivered(session, KEEP_DELIVERED)

    def _claim(self) -> list[service.Claim]:
        with self.database.transaction() as session:
            return service.claim(session, utcnow(), self._claim_size)

    def _settle(self, results: list[tuple[service.Claim, tuple[str | None, int | None]]]) -> None:
        s = self.settings
        with self.database.transaction() as session:
            for claim, (error, status) in results:
                outcome = service.settle(
                    session,
                    claim,
                    error=error,
                    status=status,
                    max_attempts=s.webhook_max_attempts,
                    base=s.webhook_backoff_seconds,
                    cap=s.webhook_backoff_cap_seconds,
                )
                if outcome == "dead":
                    log.warning("webhook %s: delivery %s dead-lettered: %s", claim.webhook_id, claim.delivery_id, error)

    async def _post(self, client: httpx.AsyncClient, claim: service.Claim) -> tuple[str | None, int | None]:
        """(error or None, HTTP status or None) of one attempt."""
        try:
            target = await asyncio.to_thread(service.check_target, claim.url, self.policy)
        except HerdsecError as exc:
            return f"target refused: {exc}", None
        body = claim.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "HerdSec-Webhook/1",
            SIGNATURE_HEADER: signature(claim.secret, body, int(time.time())),
            "X-HerdSec-Event-Id": claim.event_id,
            "X-HerdSec-Delivery": str(claim.delivery_id),
        }
        try:
            headers["Host"] = target.host_header
            extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
            request = client.build_request(
                "POST", target.pinned_url, content=body, headers=headers, extensions=extensions
            )
            response = await client.send(request)
        except httpx.TimeoutException:
            return f"timed out after {self.settings.webhook_timeout_seconds:g} s", None
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"[:500], None
        if 200 <= response.status_code < 300:
            return None, response.status_code
        if response.is_redirect:
            where = response.headers.get("location", "?")
            return f"redirect {response.status_code} to {where} (not followed)"[:500], response.status_code
        return f"HTTP {response.status_code}", response.status_code
