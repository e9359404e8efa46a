"""``herdsec federation``: peers this hub pulls from and pushes to (TAXII 2.1 collections, MISP feeds)."""

from __future__ import annotations

import getpass
import json
from datetime import datetime
from typing import Annotated

import typer

from herdsec import identity
from herdsec.cli.context import database_session, settings_from
from herdsec.core.db import Database
from herdsec.core.errors import N_, HerdsecError, InvalidInput
from herdsec.intel import federation
from herdsec.intel.federation.schemas import PeerIn, PeerOut, RunOut
from herdsec.intel.federation.sync import sleep

federation_app = typer.Typer(
    help="Federation with other hubs (TAXII 2.1) and MISP feeds: pull, push, on an interval.", no_args_is_help=True
)
IDLE_SECONDS = 60.0


class RunsFailed(HerdsecError):
    """Some federation runs failed (each was printed and recorded)."""


def _operator() -> identity.Principal:
    return identity.system_principal(f"cli:{getpass.getuser()}")


def _when(value: datetime | None) -> str:
    return value.isoformat(timespec="seconds") if value is not None else "-"


def _peer_line(p: PeerOut) -> str:
    state = "ok" if p.last_error is None else f"FAILING x{p.failures}: {p.last_error}"
    state = state if p.enabled else f"disabled; {state}"
    last = _when(p.last_run_at) if p.last_run_at else "never"
    return (
        f"{p.name}\t{p.kind}\t{p.direction}\tevery {federation.format_duration(p.interval_seconds)}\t{p.url}"
        f"\tlast run {last}\t{state}"
    )


def _run_line(r: RunOut) -> str:
    outcome = f"error: {r.error}" if r.error else "ok"
    note = f" ({r.note})" if r.note else ""
    return (
        f"{r.peer_name}\t{_when(r.started_at)}\t{r.trigger}\tpulled {r.pulled}, pushed {r.pushed}, "
        f"skipped {r.skipped}, refused {r.refused}\t{outcome}{note}"
    )


@federation_app.command("add")
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A short name for the peer (letters, digits, . _ -).")],
    taxii: Annotated[str | None, typer.Option("--taxii", help="TAXII 2.1 discovery or API root URL.")] = None,
    misp_feed: Annotated[str | None, typer.Option("--misp-feed", help="MISP feed base URL (pull only).")] = None,
    collection: Annotated[str | None, typer.Option("--collection", help="TAXII collection id.")] = None,
    direction: Annotated[str, typer.Option(help="pull, push or both.")] = "pull",
    interval: Annotated[str, typer.Option(help="How often: 30s, 5m, 1h, 1d.")] = "5m",
    api_key: Annotated[
        str | None, typer.Option("--api-key", envvar="HERDSEC_PEER_API_KEY", help="API key for the remote.")
    ] = None,
    username: Annotated[str | None, typer.Option(help="Basic-auth user for the remote.")] = None,
    password: Annotated[
        str | None,
        typer.Option(envvar="HERDSEC_PEER_PASSWORD", help="Basic-auth password (asked for when omitted)."),
    ] = None,
    as_org: Annotated[
        str | None, typer.Option("--as-org", help="Store pulls as this existing organization of kind hub.")
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Change an existing peer (cursors kept).")] = False,
) -> None:
    """Register a peer. Its URL must be public unless HERDSEC_OUTBOUND_ALLOW allows it."""
    if (taxii is None) == (misp_feed is None):
        raise InvalidInput(N_("give exactly one of --taxii URL or --misp-feed URL"), where="--taxii")
    if username is not None and password is None:
        password = getpass.getpass(f"password for {username}: ")
    data = PeerIn(
        name=name,
        kind="taxii" if taxii else "misp-feed",
        url=taxii or misp_feed or "",
        collection_id=collection,
        direction=direction,
        interval_seconds=federation.parse_duration(interval, "--interval"),
        username=username,
        password=password,
        api_key=api_key,
        as_org=as_org,
    )
    with database_session(ctx) as s:
        peer = federation.add_peer(s, _operator(), data, settings_from(ctx), replace=replace)
    typer.echo(f"{peer.name}: {peer.kind} {peer.direction} every {federation.format_duration(peer.interval_seconds)}"
               f", pulls stored as {peer.org_name!r}")  # fmt: skip


@federation_app.command("list")
def list_peers(
    ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False
) -> None:
    """The peers with their last run and last error."""
    with database_session(ctx) as s:
        peers = federation.list_peers(s, _operator())
    if as_json:
        typer.echo(json.dumps([p.model_dump(mode="json") for p in peers], ensure_ascii=False, indent=2))
        return
    for p in peers:
        typer.echo(_peer_line(p))


@federation_app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The peer.")],
    runs: Annotated[int, typer.Option(help="How many recent runs to show.")] = 10,
) -> None:
    """One peer: settings, cursors, recent runs and errors."""
    with database_session(ctx) as s:
        peer = federation.get_peer(s, _operator(), name)
        recent = federation.recent_runs(s, _operator(), name, runs)
    typer.echo(_peer_line(peer))
    typer.echo(f"collection: {peer.collection_id or '-'}; stored as: {peer.org_name}; auth: {peer.auth_kind}")
    typer.echo(f"pull cursor (added_after): {peer.pull_cursor or '-'}; push cursor (seq): {peer.push_cursor}")
    typer.echo(f"next attempt: {_when(peer.next_attempt_at) if peer.next_attempt_at else 'now'}")
    for r in recent:
        typer.echo(_run_line(r))


@federation_app.command("disable")
def disable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The peer.")]) -> None:
    """Pause a peer: `run` skips it until it is enabled again (cursors are kept)."""
    with database_session(ctx) as s:
        federation.set_enabled(s, _operator(), name, False)
    typer.echo(f"{name}: disabled")


@federation_app.command("enable")
def enable(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The peer.")]) -> None:
    """Resume a paused peer; it is due at once."""
    with database_session(ctx) as s:
        federation.set_enabled(s, _operator(), name, True)
    typer.echo(f"{name}: enabled")


@federation_app.command("remove")
def remove(ctx: typer.Context, name: Annotated[str, typer.Argument(help="The peer.")]) -> None:
    """Forget a peer; what was pulled from it stays (owned by its hub organization)."""
    with database_session(ctx) as s:
        federation.remove_peer(s, _operator(), name)
    typer.echo(f"{name}: removed")


@federation_app.command("run")
def run(
    ctx: typer.Context,
    names: Annotated[list[str] | None, typer.Argument(help="Only these peers (run now, due or not).")] = None,
    once: Annotated[bool, typer.Option("--once", help="Run the due (or named) peers once and exit.")] = False,
) -> None:
    """Run due peers; without --once keep running them as their intervals come (run this as a service)."""
    settings = settings_from(ctx)
    db = Database.from_url(settings.database_url)
    try:
        while True:
            results = federation.run_due(db, _operator(), settings, names or None, trigger="cli")
            for result in results:
                typer.echo(_run_line(result))
            if once:
                failed = [r for r in results if r.error]
                if failed:
                    raise RunsFailed(N_("%(failed)d of %(total)d federation runs failed"), failed=len(failed),
                                     total=len(results))  # fmt: skip
                return
            names = None
            wait = federation.seconds_until_due(db)
            sleep(IDLE_SECONDS if wait is None else min(max(wait, 1.0), IDLE_SECONDS))
    finally:
        db.dispose()
