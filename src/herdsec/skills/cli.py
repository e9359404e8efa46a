"""``herdsec skills``: load the catalogue, match job postings onto work roles, list roles."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from herdsec.cli.context import database_session
from herdsec.core.errors import N_, InvalidInput
from herdsec.skills import postings as posting_files
from herdsec.skills import service
from herdsec.skills.catalogue import from_cprt, legacy_from_2017
from herdsec.skills.matching import Matcher, shipped_matcher
from herdsec.skills.schemas import PostingIn

skills_app = typer.Typer(help="Skills: NICE/ECSF work roles, job postings and curricula.", no_args_is_help=True)
MIN_ROLES = 5


def _read_json(path: Path) -> object:
    try:
        return json.loads(posting_files.decode(path.read_bytes(), str(path)))
    except json.JSONDecodeError as exc:
        raise InvalidInput(N_("not JSON: %(reason)s"), where=f"{path}:{exc.lineno}", reason=exc.msg) from None
    except OSError as exc:
        raise InvalidInput(N_("cannot read the file: %(reason)s"), where=str(path), reason=exc.strerror) from None


@skills_app.command("load")
def load(
    ctx: typer.Context,
    cprt: Annotated[
        Path | None, typer.Option(help="A NIST CPRT JSON export to load instead of the shipped NICE v2.1.0.")
    ] = None,
    roles_2017: Annotated[
        Path | None, typer.Option("--roles-2017", help="The 2017 work roles (JSON list) to keep their old ids.")
    ] = None,
) -> None:
    """Store the NICE catalogue, the ECSF profiles and the crosswalk (running it again changes nothing)."""
    catalogue = None
    if cprt is not None:
        document = _read_json(cprt)
        if not isinstance(document, dict):
            raise InvalidInput(N_("not a CPRT export: expected response.elements.{documents,elements,relationships}"))
        catalogue = from_cprt(document, source=cprt.name)
        if roles_2017 is not None:
            old = _read_json(roles_2017)
            if not isinstance(old, list):
                raise InvalidInput(N_("the 2017 work roles must be a JSON list"), where=str(roles_2017))
            catalogue = dataclasses.replace(catalogue, legacy=legacy_from_2017(old, catalogue))
    with database_session(ctx) as session:
        report = service.load(session, catalogue)
    typer.echo(report.model_dump_json())


@skills_app.command("roles")
def roles(
    ctx: typer.Context,
    framework: Annotated[str | None, typer.Option(help="nice, ecsf or custom.")] = None,
    category: Annotated[str | None, typer.Option(help="A NICE category code (OG, DD, IO, PD, IN).")] = None,
) -> None:
    """List the work roles stored in the hub."""
    with database_session(ctx) as session:
        for role in service.list_roles(session, framework, category):
            typer.echo(f"{role.code}\t{role.name_en}\t{role.name_vi or ''}")


@skills_app.command("statement")
def statement(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="A statement id: NICE v2.1.0 (K0674) or 2017 (K0001, A0001).")],
) -> None:
    """Show a statement; a 2017 id shows its v2.1.0 successor(s) and how the mapping was derived."""
    with database_session(ctx) as session:
        typer.echo(service.statement_lookup(session, code).model_dump_json())


def _postings(path: Path, fmt: str) -> list[PostingIn]:
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise InvalidInput(N_("cannot read the file: %(reason)s"), where=str(path), reason=exc.strerror) from None
    return posting_files.read(data, path.name if str(path) != "-" else "stdin", fmt)


@skills_app.command("match")
def match(
    ctx: typer.Context,
    file: Annotated[
        Path, typer.Argument(help="Postings: JSON lines {id,title,text}, CSV (id,title,text) or text; - for stdin.")
    ],
    fmt: Annotated[str, typer.Option("--format", help="auto, jsonl, csv or text.")] = "auto",
    limit: Annotated[int, typer.Option(min=MIN_ROLES, max=41, help="Roles per posting (at least 5).")] = MIN_ROLES,
    evidence: Annotated[bool, typer.Option(help="Add the matched statements and posting phrases.")] = False,
    hub: Annotated[bool, typer.Option(help="Match against the hub's database (custom roles too).")] = False,
) -> None:
    """Rank NICE work roles for each posting; one JSON line per posting, best role first.

    Works offline without a database (the catalogue ships in the package) unless --hub is given."""
    items = _postings(file, fmt)
    if hub:
        with database_session(ctx) as session:
            _emit(service.matcher(session), items, limit, evidence)
    else:
        _emit(shipped_matcher(), items, limit, evidence)


def _emit(matcher: Matcher, items: list[PostingIn], limit: int, evidence: bool) -> None:
    from rich.progress import Progress

    out = sys.stdout
    with Progress(transient=True, disable=len(items) < 200 or not sys.stderr.isatty()) as bar:
        task = bar.add_task("matching", total=len(items))
        for item in items:
            result = matcher.match(item.title, posting_files.plain(item.text), limit=limit)
            line: dict[str, object] = {
                "id": item.id,
                "roles": [{"id": r.code, "title": r.title, "score": r.score} for r in result.roles],
            }
            if evidence:
                line["language"] = result.language
                line["evidence"] = [
                    {"id": r.code, "statements": [s.code for s in r.statements], "phrases": r.phrases}
                    for r in result.roles
                ]
                line["statements"] = [{"id": s.code, "kind": s.kind, "text": s.text} for s in result.statements]
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            bar.advance(task)
