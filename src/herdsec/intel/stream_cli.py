"""``herdsec stream``: print a hub's live events, for a SOC's scripts (a client: no database needed)."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

HUB_HELP = "Base URL of the hub, e.g. https://hub.example.vn."


def register(app: typer.Typer) -> None:
    @app.command()
    def stream(
        hub: Annotated[str, typer.Option("--hub", envvar="HERDSEC_HUB", help=HUB_HELP)],
        api_key: Annotated[
            str, typer.Option("--api-key", envvar="HERDSEC_API_KEY", help="An API key of your organization.")
        ],
        jsonl: Annotated[
            bool, typer.Option("--jsonl", help="One JSON object per line (the event's data plus its id).")
        ] = False,
        last_event_id: Annotated[
            str | None, typer.Option("--last-event-id", help="Resume after this id (0 = replay everything).")
        ] = None,
        types: Annotated[list[str] | None, typer.Option("--type", help="Only these STIX types (repeat).")] = None,
        tlp: Annotated[str | None, typer.Option(help="Only these TLP levels, comma-separated.")] = None,
        min_score: Annotated[
            float | None, typer.Option("--min-score", help="Only indicators scoring at least this.")
        ] = None,
        sector: Annotated[str | None, typer.Option(help="Only from these sectors, comma-separated.")] = None,
        max_events: Annotated[
            int | None, typer.Option("--max-events", min=1, help="Stop after this many events.")
        ] = None,
    ) -> None:
        """Print the hub's events as they happen; reconnects with the last id on errors and restarts."""
        from herdsec.intel.stream_client import follow

        params = {
            k: v
            for k, v in {
                "types": ",".join(types) if types else None,
                "tlp": tlp,
                "min_score": None if min_score is None else str(min_score),
                "sector": sector,
            }.items()
            if v
        }
        printed = 0
        for event in follow(hub, api_key, last_event_id=last_event_id, params=params):
            if event.data is None:
                continue
            if event.event == "dropped":
                print(f"herdsec: the hub dropped the stream ({event.data}); reconnecting", file=sys.stderr)
                continue
            _print(event.id, event.data, jsonl)
            printed += 1
            if max_events is not None and printed >= max_events:
                return


def _print(event_id: str | None, data: str, jsonl: bool) -> None:
    try:
        body = json.loads(data)
    except ValueError:
        body = {"raw": data}
    if jsonl:
        print(json.dumps({"event_id": event_id, **body}, ensure_ascii=False), flush=True)
        return
    extra = ""
    if body.get("event") == "sighting":
        s = body.get("sighting") or {}
        who = f" by {s['organization']}" if s.get("organization") else ""
        extra = f" {s.get('kind')} ×{s.get('count')}{who}"
    name = (body.get("object") or {}).get("name") or ""
    print(
        f"{event_id}  {body.get('event', '?'):15} {body.get('tlp', '?'):12} {body.get('id')}  {name}{extra}".rstrip(),
        flush=True,
    )
