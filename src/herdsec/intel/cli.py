"""``herdsec intel``: import files into the hub and look values up, from the command line."""

from __future__ import annotations

import getpass
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Annotated, Any

import typer

from herdsec import identity
from herdsec.cli.context import database_session
from herdsec.core.errors import N_, InvalidInput
from herdsec.intel import lists, service
from herdsec.intel.indicators import pattern_for
from herdsec.ioc.normalise import detect
from herdsec.ioc.refang import refang
from herdsec.ioc.types import IocType, Value

intel_app = typer.Typer(help="Threat intelligence: share and look up indicators.", no_args_is_help=True)


_session = database_session


class _Progress(io.RawIOBase):
    """A file that advances a progress bar as it is read."""

    def __init__(self, raw: IO[bytes], advance: Any) -> None:
        self.raw, self.advance = raw, advance

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self.raw.seek(offset, whence)

    def tell(self) -> int:
        return self.raw.tell()

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.advance(len(data))
        return len(data)


FORMATS = ("auto", "stix", "misp", "csv", "txt")


@contextmanager
def _reading(path: Path) -> Iterator[IO[bytes]]:
    """The file, buffered, with a progress bar on the terminal for files of 4 MB and more."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn, TransferSpeedColumn

    size = path.stat().st_size
    with (
        path.open("rb") as raw,
        Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            transient=True,
            disable=size < 4 * 1024 * 1024,
        ) as bar,
    ):
        task = bar.add_task(path.name, total=size)
        yield io.BufferedReader(_Progress(raw, lambda n, t=task: bar.advance(t, n)), 1 << 20)


def _format_of(path: Path, fmt: str) -> str:
    """The format named, or (auto) the one the file's start shows: a STIX bundle, MISP event JSON, a CSV list
    with a header naming a ``value`` column, else a plain list."""
    if fmt != "auto":
        return fmt
    with path.open("rb") as handle:
        head = handle.read(4096).lstrip()
    if head.startswith((b"{", b"[")):
        compact = head.replace(b" ", b"").replace(b"\n", b"")
        if b'"type":"bundle"' in compact or b'"spec_version"' in compact:
            return "stix"
        return "misp" if (b'"Event"' in head or b'"Attribute"' in head or b'"info"' in head) else "stix"
    first = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
    cells = [c.strip().strip('"') for c in first.split(",")]
    return "csv" if path.suffix.lower() == ".csv" or ("value" in cells and len(cells) > 1) else "txt"


def _values_from_text(path: Path) -> tuple[list[Value], list[str]]:
    """One value per line (defanged values refanged, types detected); blank lines and # comments skipped."""
    values: list[Value] = []
    problems: list[str] = []
    with path.open(encoding="utf-8-sig", errors="strict") as handle:
        try:
            lines = list(handle)
        except UnicodeDecodeError as exc:
            raise InvalidInput(N_("not UTF-8 text: %(reason)s"), where=str(path), reason=str(exc)) from None
    for number, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        value = detect(refang(text))
        if value is None or value.problem is not None or (pattern_for(value) is None and value.type is not IocType.CVE):
            reason = value.problem if value is not None and value.problem else "not an indicator"
            problems.append(f"{path}:{number}: {reason}: {text[:80]}")
            continue
        values.append(value)
    return values, problems


@intel_app.command("import")
def import_files(
    ctx: typer.Context,
    files: Annotated[
        list[Path],
        typer.Argument(
            help="STIX 2.1 bundles, MISP event JSON, CSV lists (header: value,type[,comment,tags,tlp]) or plain "
            "lists of values.",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    org: Annotated[str, typer.Option(help="The sharing organization (name or id).")],
    tlp: Annotated[
        str, typer.Option(help="clear, green, amber, amber+strict or red: for objects without marking.")
    ] = "amber",
    distribution: Annotated[
        str | None,
        typer.Option(
            help="organization, community (the default), connected, all or sharing-group:<id>. MISP events keep "
            "their own distribution, narrowed to this one when it is given."
        ),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", help="auto, stix, misp, csv or txt.")] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print each file's status as JSON.")] = False,
) -> None:
    """Share files with the hub as ORG. Invalid objects are reported; the rest is stored."""
    if fmt not in FORMATS:
        raise InvalidInput(
            N_("unknown format %(value)r; expected auto, stix, misp, csv or txt"), where="--format", value=fmt
        )
    failed = 0
    for path in files:
        with _session(ctx) as s:
            target = identity.find_org(s, org)
            actor = identity.org_principal(s, target.id, f"cli:{getpass.getuser()} for {target.name}")
            kind = _format_of(path, fmt)
            if kind == "misp":
                failed += _import_misp(s, actor, path, tlp=tlp, distribution=distribution, as_json=as_json)
                continue
            if kind == "csv":
                with path.open("rb") as raw_csv:
                    table = lists.read_csv(raw_csv, str(path))
                for problem in table.problems:
                    typer.echo(problem, err=True)
                status = lists.share_rows(
                    s, actor, table.rows, tlp=tlp, distribution=distribution, source=f"cli:{path.name}"[:60]
                )
            elif kind == "txt":
                values, problems = _values_from_text(path)
                for problem in problems:
                    typer.echo(problem, err=True)
                status = service.share_values(
                    s, actor, values, tlp=tlp, distribution=distribution, source=f"cli:{path.name}"
                )
            else:
                with _reading(path) as reader:
                    status = service.ingest_bundle(
                        s, actor, reader, tlp=tlp, distribution=distribution, source=f"cli:{path.name}"
                    )
        failed += status.failure_count
        if as_json:
            typer.echo(status.model_dump_json())
        else:
            typer.echo(
                f"{path}: {status.total_count} objects, {status.stored_count} stored, "
                f"{status.success_count - status.stored_count} already known, {status.failure_count} refused"
            )
            for failure in status.failures[:50]:
                typer.echo(f"{path}: object {failure.index} ({failure.id or 'no id'}): {failure.reason}", err=True)
    if failed:
        raise typer.Exit(1)


def _import_misp(session: Any, actor: Any, path: Path, *, tlp: str, distribution: str | None, as_json: bool) -> int:
    """Import a MISP event file; print a line per event and its problems. Returns the number refused."""
    from herdsec.intel import misp

    with _reading(path) as reader:
        status = misp.import_events(
            session, actor, reader, tlp=tlp, distribution=distribution, source=f"cli:{path.name}"[:60]
        )
    if as_json:
        typer.echo(status.model_dump_json())
        return status.failure_count
    for event in status.events:
        typer.echo(
            f"{path}: event {event.uuid} ({(event.info or '')[:60]}): {event.attribute_count} attributes, "
            f"{event.total_count} objects, {event.stored_count} stored, "
            f"{event.success_count - event.stored_count} already known, {event.failure_count} refused"
        )
        for problem in event.failures[:50]:
            typer.echo(f"{path}: {problem.where} ({problem.uuid or 'no uuid'}): {problem.reason}", err=True)
        for notice in event.notices[:50]:
            typer.echo(f"{path}: {notice.where} ({notice.uuid or 'no uuid'}): note: {notice.reason}", err=True)
    return status.failure_count


@intel_app.command("lookup")
def lookup(
    ctx: typer.Context,
    value: Annotated[str, typer.Argument(help="An IP, domain, URL, e-mail, hash, CVE… (defanged is fine).")],
    as_org: Annotated[str, typer.Option("--as-org", help="Look up with what this organization may see.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every object carrying VALUE that the organization may see. Exit 1 when there is none."""
    with _session(ctx) as s:
        target = identity.find_org(s, as_org)
        actor = identity.org_principal(s, target.id, f"cli:{getpass.getuser()} as {target.name}")
        result = service.lookup(s, actor, value)
    if as_json:
        typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False, indent=2))
    else:
        typer.echo(
            f"{result.value_type} {result.value}: {len(result.matches)} match(es)"
            + (" (over-correlating, truncated)" if result.over_correlating else "")
        )
        for m in result.matches:
            flags = f" warninglists={','.join(m.warninglists)}" if m.warninglists else ""
            typer.echo(f"  {m.id}  {m.type}  TLP:{m.tlp.upper()}  {m.creator or ''}  {m.modified}{flags}")
    if not result.matches:
        raise typer.Exit(1)


@intel_app.command("misp-feed")
def misp_feed(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="Where to write manifest.json, <uuid>.json and hashes.csv.")],
    org: Annotated[str, typer.Option(help="Publish what this organization may see and share (name or id).")],
    public: Annotated[
        bool, typer.Option("--public", help="Only what the public may receive (TLP:CLEAR, distribution all).")
    ] = False,
) -> None:
    """Write the hub's shareable events as a MISP feed (serve DIRECTORY over HTTP for MISP instances to pull)."""
    from herdsec.intel import misp

    with _session(ctx) as s:
        target = identity.find_org(s, org)
        actor = identity.org_principal(s, target.id, f"cli:{getpass.getuser()} for {target.name}")
        written = misp.write_feed(s, actor, directory, public=public)
    typer.echo(f"{directory}: {written.events} events, {written.attributes} attribute values")


@intel_app.command("attack")
def attack(ctx: typer.Context) -> None:
    """Load (or refresh) the MITRE ATT&CK techniques, tactics and groups shipped with HerdSec."""
    from herdsec.intel import attack as attack_data

    with _session(ctx) as s:
        status = attack_data.load(s)
    typer.echo(
        f"ATT&CK: {status.total_count} objects, {status.stored_count} stored, "
        f"{status.success_count - status.stored_count} already known"
    )


@intel_app.command("export")
def export(
    ctx: typer.Context,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="stix, misp, misp-feed, csv, txt, suricata, suricata-dataset, zeek, rpz, hosts, nft or ipset.",
        ),
    ],
    as_org: Annotated[str, typer.Option("--as-org", help="Export what this organization may see (in bulk).")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="A file, or a directory for every part of the format (default stdout)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only indicators added since: ISO 8601 or an age (24h, 7d).")
    ] = None,
    types: Annotated[
        list[str] | None, typer.Option("--type", help="Value types (ipv4, domain, url, sha256, ...); repeatable.")
    ] = None,
    part: Annotated[str | None, typer.Option(help="One part of a multi-file format (suricata-dataset).")] = None,
    include_warninglisted: Annotated[bool, typer.Option(help="Keep values on a warninglist.")] = False,
    include_expired: Annotated[bool, typer.Option(help="Keep expired indicators (decayed, past valid_until).")] = False,
    include_false_positive: Annotated[bool, typer.Option(help="Keep indicators reported as false positives.")] = False,
    include_malformed: Annotated[bool, typer.Option(help="Keep malformed values (where the format allows).")] = False,
    sid_base: Annotated[int, typer.Option(help="First Suricata signature id.")] = 1_000_000,
    zone: Annotated[str, typer.Option(help="RPZ zone name the file is loaded as.")] = "rpz.herdsec",
) -> None:
    """Export indicators as ORG may see them, as detection rules, blocklists or a STIX bundle.

    Warninglisted, malformed, expired and false-positive values are left out unless asked for; RED and
    unknown-marked objects never leave the hub in bulk.
    """
    import sys

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from herdsec.intel.exports import get_format
    from herdsec.intel.exports import service as exports

    since_at = exports.parse_since(since)
    request = exports.ExportRequest(
        format=fmt,
        part=part,
        types=tuple(types or ()),
        since=since_at,
        include_warninglisted=include_warninglisted,
        include_expired=include_expired,
        include_false_positive=include_false_positive,
        include_malformed=include_malformed,
        sid_base=sid_base,
        zone=zone,
    )
    if fmt.strip().lower() in ("misp", "misp-feed"):
        _export_misp(ctx, fmt.strip().lower(), as_org, output, since_at)
        return
    chosen = get_format(fmt)
    to_directory = output is not None and (output.is_dir() or (len(chosen.parts) > 1 and part is None))
    if output is None and len(chosen.parts) > 1 and part is None:
        raise InvalidInput(
            N_("format %(format)s has several files: give -o DIRECTORY or --part"), where="--output", format=fmt
        )
    with (
        _session(ctx) as s,
        Progress(
            SpinnerColumn(),
            TextColumn("{task.description}: {task.completed:,} read"),
            TimeElapsedColumn(),
            console=Console(stderr=True),
            transient=True,
            disable=not sys.stderr.isatty(),
            redirect_stdout=False,
        ) as bar,
    ):
        target = identity.find_org(s, as_org)
        actor = identity.org_principal(s, target.id, f"cli:{getpass.getuser()} export as {target.name}")
        task = bar.add_task(f"export {chosen.name}", total=None)
        count = [0]

        def tick() -> None:
            count[0] += 1
            if count[0] % 1000 == 0:
                bar.update(task, completed=count[0])

        if to_directory and output is not None:
            for path in exports.write_files(s, actor, request, output, tick=tick):
                typer.echo(str(path), err=True)
            return
        prepared = exports.prepare(s, actor, request)
        pieces = exports.chunks(s, actor, prepared, tick=tick)
        if output is None:
            for piece in pieces:
                sys.stdout.write(piece)
            sys.stdout.flush()
        else:
            exports.write_text(output, pieces)


def _export_misp(ctx: typer.Context, fmt: str, as_org: str, output: Path | None, since: Any) -> None:
    """MISP event JSON (``{"response": [{"Event": ...}, ...]}``) or a MISP feed directory."""
    import sys

    from herdsec.intel import misp

    if fmt == "misp-feed" and output is None:
        raise InvalidInput(N_("format %(format)s has several files: give -o DIRECTORY or --part"), where="--output",
                           format=fmt)  # fmt: skip
    with _session(ctx) as s:
        target = identity.find_org(s, as_org)
        actor = identity.org_principal(s, target.id, f"cli:{getpass.getuser()} export as {target.name}")
        if fmt == "misp-feed" and output is not None:
            written = misp.write_feed(s, actor, output)
            typer.echo(f"{output}: {written.events} events, {written.attributes} attribute values", err=True)
            return
        events = misp.export_events(s, actor, since=since)
        out = output.open("w", encoding="utf-8") if output is not None else sys.stdout
        try:
            out.write('{"response": [')
            for n, item in enumerate(events):
                out.write(("," if n else "") + json.dumps(item, ensure_ascii=False))
            out.write("]}\n")
        finally:
            if output is not None:
                out.close()
