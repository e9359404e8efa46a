"""``herdsec scan``: the alliance's indicators against your own logs (the command-line adapter)."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

from herdsec.core.errors import N_, InvalidInput
from herdsec.core.i18n import gettext
from herdsec.scan import service, sources
from herdsec.scan.engine import FileReport, Match, Scanner
from herdsec.scan.hub import Hub
from herdsec.scan.readers import READERS

EXIT_CLEAN, EXIT_FOUND, EXIT_ERROR = 0, 1, 2
HELP = """Scan logs for the alliance's indicators (exact matches only) and optionally report sightings back.

Indicators come from --iocs files (plain list, CSV, STIX 2.1 bundle, MISP event) and/or the hub (--hub, --api-key:
your organization's active indicators, cached and updated incrementally). LOGS are files, directories or - for
standard input; gzip is read transparently and formats are detected (or give --format).

Exit status: 0 no match, 1 matches found, 2 error."""


def _say(message: str, **params: Any) -> None:
    text = gettext(message)
    print(f"herdsec scan: {text % params if params else text}", file=sys.stderr)


def _writer(output: str, stream: TextIO) -> Any:
    if output == "jsonl":

        def write_jsonl(match: Match) -> None:
            record = {
                "file": match.file,
                "line": match.line,
                "type": match.type,
                "indicator": match.indicator,
                "observed": match.observed,
            }
            if match.time is not None:
                record["time"] = match.time.isoformat()
            stream.write(json.dumps(record, ensure_ascii=False) + "\n")

        return write_jsonl
    from rich.console import Console
    from rich.markup import escape

    console = Console(file=stream, highlight=False)

    def write_table(match: Match) -> None:
        where = f"{match.file}:{match.line}"
        console.print(
            f"[bold red]{escape(match.type):7}[/] {escape(match.indicator)}  [dim]{escape(where)}[/]  "
            f"{escape(match.observed[:120])}"
        )

    return write_table


SUMMARY_ROWS = 100
"""The most frequent indicators shown in the summary table."""


def _print_summary(summary: service.Summary, stream: TextIO) -> None:
    from rich.console import Console
    from rich.table import Table

    if not summary.seen:
        return
    entries = sorted(summary.seen.values(), key=lambda item: -item.count)
    table = Table(title=gettext(N_("Matches per indicator")), title_justify="left")
    for column in ("type", "indicator", "lines", "files", "first seen", "last seen"):
        table.add_column(column, justify="right" if column in ("lines", "files") else "left")
    for entry in entries[:SUMMARY_ROWS]:
        table.add_row(
            entry.type,
            entry.indicator,
            str(entry.count),
            str(len(entry.files)),
            entry.first.isoformat(timespec="seconds") if entry.first else "",
            entry.last.isoformat(timespec="seconds") if entry.last else "",
        )
    console = Console(file=stream)
    console.print(table)
    if len(entries) > SUMMARY_ROWS:  # a table of thousands of rows helps nobody (and rich takes seconds to draw it)
        console.print(
            gettext(N_("… and %(count)d more indicators, fewer lines each (every match is in the output)"))
            % {"count": len(entries) - SUMMARY_ROWS}
        )


def _total_size(paths: list[str]) -> int:
    total = 0
    for path in paths:
        try:
            total += 0 if path == sources.STDIN else os.path.getsize(path)
        except OSError:
            continue
    return total


def scan(
    logs: Annotated[
        list[str], typer.Argument(metavar="LOGS...", help="Log files, directories, or - for standard input.")
    ],
    iocs: Annotated[
        list[Path] | None,
        typer.Option(
            "--iocs", metavar="FILE", help="Indicator file (plain list, CSV, STIX 2.1 bundle, MISP event); repeatable."
        ),
    ] = None,
    hub_url: Annotated[
        str | None, typer.Option("--hub", metavar="URL", help="Hub URL: scan for your organization's indicators.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            "--api-key", metavar="KEY", envvar="HERDSEC_API_KEY", help="API key for --hub (or HERDSEC_API_KEY)."
        ),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            "--cache", metavar="DIR", help="Directory for the hub's cached scan set (default ~/.cache/herdsec)."
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option("--format", metavar="NAME", help="Log format instead of detection: " + ", ".join(READERS) + "."),
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "--output", metavar="table|jsonl", help="table (default on a terminal) or jsonl (default otherwise)."
        ),
    ] = "auto",
    follow: Annotated[
        bool, typer.Option("--follow", help="Keep reading a growing file (one file; Ctrl-C stops).")
    ] = False,
    report_sightings: Annotated[
        bool, typer.Option("--report-sightings", help="Send counts and first/last seen per indicator to the hub.")
    ] = False,
    workers: Annotated[
        int | None, typer.Option("--workers", metavar="N", min=1, help="Worker processes (default: 2).")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar, no summary, no notices.")] = False,
) -> None:
    """Scan logs for the alliance's indicators (exact matches only). Exit status: 0 no match, 1 matches, 2 error."""
    if not iocs and not hub_url:
        raise InvalidInput(N_("give indicators: --iocs FILE and/or --hub URL --api-key KEY"), where="--iocs")
    if report_sightings and not hub_url:
        raise InvalidInput(N_("--report-sightings needs --hub and --api-key"), where="--report-sightings")
    if hub_url and not api_key:
        raise InvalidInput(N_("--hub needs --api-key (or HERDSEC_API_KEY)"), where="--api-key")
    if follow and (len(logs) != 1 or logs[0] == sources.STDIN):
        raise InvalidInput(N_("--follow reads exactly one file"), where="--follow")
    if output not in ("auto", "table", "jsonl"):
        raise InvalidInput(N_("--output is table or jsonl"), where="--output")
    if log_format is not None and log_format not in READERS:
        raise InvalidInput(N_("unknown log format %(name)r"), where="--format", name=log_format)
    hub = Hub(hub_url, api_key or "", cache) if hub_url else None
    indicators = service.load(iocs or [], hub)
    if not quiet:
        for problem in indicators.problems[:50]:
            print(problem, file=sys.stderr)
        if len(indicators.problems) > 50:
            _say(N_("%(count)d more lines were not indicators"), count=len(indicators.problems) - 50)
        for notice in indicators.notices:
            _say(N_("%(notice)s"), notice=notice)
        if not indicators.matcher.compiled:
            _say(
                N_(
                    "the compiled first stage is not installed (no C compiler when herdsec was installed): "
                    "scanning at a fraction of the usual speed"
                )
            )
        _say(
            N_(
                "%(count)d indicators loaded in %(seconds).2f s, %(cpu).2f s CPU "
                "(%(skipped)d skipped: not scannable or invalid)"
            ),
            count=indicators.matcher.count,
            seconds=indicators.seconds,
            cpu=indicators.cpu_seconds,
            skipped=indicators.skipped_types + len(indicators.problems),
        )
    mode = output if output != "auto" else ("table" if sys.stdout.isatty() else "jsonl")
    write = _writer(mode, sys.stdout)
    summary = service.Summary()

    def on_match(match: Match) -> None:
        summary.add(match)
        write(match)
        if follow:
            sys.stdout.flush()

    reports = _run(logs, indicators, on_match, log_format, workers, follow, quiet)
    for report in reports:
        if report.problem:
            _say(N_("%(file)s: %(problem)s"), file=report.path, problem=report.problem)
    if not quiet:
        _print_summary(summary, sys.stdout if mode == "table" else sys.stderr)
        scanned = sum(report.bytes for report in reports)
        _say(
            N_(
                "%(lines)d lines (%(megabytes).1f MB) in %(files)d files, "
                "%(matches)d matches of %(indicators)d indicators"
            ),
            lines=sum(report.lines for report in reports),
            megabytes=scanned / 1e6,
            files=len(reports),
            matches=summary.total,
            indicators=len(summary.seen),
        )
    if report_sightings and hub is not None and summary.seen:
        recorded, problems = hub.report(service.sightings(summary, indicators.ids))
        for problem in problems:
            _say(N_("sighting not recorded: %(problem)s"), problem=problem)
        _say(N_("%(count)d sightings recorded at the hub"), count=recorded)
    if reports and all(report.problem and not report.lines for report in reports) and not summary.seen:
        raise typer.Exit(EXIT_ERROR)
    raise typer.Exit(EXIT_FOUND if summary.seen else EXIT_CLEAN)


def _run(
    logs: list[str],
    indicators: service.IndicatorSet,
    on_match: Any,
    log_format: str | None,
    workers: int | None,
    follow: bool,
    quiet: bool,
) -> list[FileReport]:
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    paths = list(sources.expand(logs))
    total = _total_size(paths)
    show = not quiet and not follow and sys.stderr.isatty() and total > 32 * 1024 * 1024
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        transient=True,
        disable=not show,
        console=None,
    ) as bar:
        task = bar.add_task("scan", total=total or None)
        with Scanner(
            indicators.matcher,
            workers=workers,
            log_format=log_format,
            on_match=on_match,
            on_progress=lambda n: bar.advance(task, n),
        ) as scanner:
            if follow:
                try:
                    return [scanner.follow(paths[0])]
                except KeyboardInterrupt:
                    return []
                except OSError as exc:
                    raise InvalidInput(
                        N_("cannot read: %(reason)s"), where=paths[0], reason=exc.strerror or str(exc)
                    ) from None
            return scanner.scan_paths(paths)


def register(app: typer.Typer) -> None:
    app.command("scan", help=HELP, no_args_is_help=True)(scan)
