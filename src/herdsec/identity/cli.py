"""``herdsec org``, ``herdsec user`` and ``herdsec key``: the hub operator's commands (run as a coordinator)."""

from __future__ import annotations

import getpass
import json
import sys
from datetime import timedelta
from typing import Annotated

import typer

from herdsec import identity
from herdsec.cli.context import database_session
from herdsec.core.clock import utcnow
from herdsec.identity.schemas import OrganizationIn, UserIn, UserPatch

org_app = typer.Typer(help="Member organizations.", no_args_is_help=True)
user_app = typer.Typer(help="Users of member organizations.", no_args_is_help=True)
key_app = typer.Typer(help="API keys.", no_args_is_help=True)


_session = database_session


def _operator() -> identity.Principal:
    return identity.system_principal(f"cli:{getpass.getuser()}")


@org_app.command("add")
def org_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Organization name (Vietnamese diacritics welcome).")],
    kind: Annotated[
        str, typer.Option(help="enterprise, sme, bank, government, university, training, vendor, lab or coordinator.")
    ],
    sector: Annotated[str | None, typer.Option(help="Sector, e.g. 'Tài chính – Ngân hàng'.")] = None,
    province: Annotated[str | None, typer.Option(help="Province or city, e.g. 'Đà Nẵng'.")] = None,
    size: Annotated[str | None, typer.Option(help="micro, small, medium or large.")] = None,
    country: Annotated[str, typer.Option(help="ISO country code.")] = "VN",
) -> None:
    """Register an organization and print its id."""
    with _session(ctx) as s:
        org = identity.create_org(
            s,
            _operator(),
            OrganizationIn(name=name, kind=kind, sector=sector, province=province, size_band=size, country=country),
        )
    typer.echo(org.id)


@org_app.command("list")
def org_list(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
    kind: Annotated[str | None, typer.Option(help="Only this kind.")] = None,
) -> None:
    """List member organizations."""
    with _session(ctx) as s:
        orgs = identity.list_orgs(s, kind=kind)
    if as_json:
        typer.echo(json.dumps([o.model_dump(mode="json") for o in orgs], ensure_ascii=False, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("id", "name", "kind", "sector", "province")
    for o in orgs:
        table.add_row(str(o.id), o.name, o.kind, o.sector or "", o.province or "")
    Console().print(table)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    org: Annotated[str, typer.Option(help="Organization name or id.")],
    email: Annotated[str, typer.Option(help="E-mail address (the login).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    role: Annotated[str, typer.Option(help="admin, analyst or viewer.")] = "viewer",
    coordinator: Annotated[bool, typer.Option(help="Make the user a coordinator (platform admin).")] = False,
    lab_evaluator: Annotated[bool, typer.Option(help="Make the user a lab evaluator.")] = False,
    password_stdin: Annotated[bool, typer.Option(help="Read the password from standard input.")] = False,
    language: Annotated[str | None, typer.Option(help="vi or en.")] = None,
) -> None:
    """Add a user; prints the user's id. Without --password-stdin the password is asked for on a terminal."""
    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password (at least 10 characters, empty for none): ") or None
    with _session(ctx) as s:
        target = identity.find_org(s, org)
        user = identity.create_user(
            s, _operator(), target.id, UserIn(email=email, name=name, role=role, password=password, language=language)
        )
        if coordinator or lab_evaluator:
            identity.update_user(
                s,
                _operator(),
                user.id,
                UserPatch(is_coordinator=coordinator or None, is_lab_evaluator=lab_evaluator or None),
            )
    typer.echo(user.id)


@key_app.command("add")
def key_add(
    ctx: typer.Context,
    org: Annotated[str, typer.Option(help="Organization name or id.")],
    role: Annotated[str, typer.Option(help="admin, analyst or viewer.")],
    email: Annotated[
        str | None, typer.Option(help="Bind the key to this user (created in the organization if new).")
    ] = None,
    label: Annotated[str, typer.Option(help="What the key is for.")] = "",
    expires_days: Annotated[int | None, typer.Option(min=1, help="Expire after this many days.")] = None,
) -> None:
    """Create an API key and print it alone on one line (it is not shown again)."""
    with _session(ctx) as s:
        target = identity.find_org(s, org)
        user_id = None
        if email:
            user = identity.find_user_by_email(s, email)
            if user is None:
                user = identity.create_user(
                    s, _operator(), target.id, UserIn(email=email, name=email.split("@")[0], role=role)
                )
            user_id = user.id
        created = identity.create_api_key(
            s,
            _operator(),
            org_id=target.id,
            role=role,
            label=label or "cli",
            user_id=user_id,
            expires_at=utcnow() + timedelta(days=expires_days) if expires_days else None,
        )
    typer.echo(created.key)


@key_app.command("list")
def key_list(
    ctx: typer.Context,
    org: Annotated[str, typer.Option(help="Organization name or id.")],
) -> None:
    """List an organization's keys (prefixes only)."""
    with _session(ctx) as s:
        target = identity.find_org(s, org)
        keys = identity.list_api_keys(s, _operator(), target.id)
    for k in keys:
        state = "revoked" if k.revoked_at else "active"
        typer.echo(f"{k.id}\thsk_{k.prefix}\t{k.role}\t{state}\t{k.label}")


@key_app.command("revoke")
def key_revoke(ctx: typer.Context, key_id: Annotated[int, typer.Argument(help="Key id (from `key list`).")]) -> None:
    """Revoke a key."""
    with _session(ctx) as s:
        identity.revoke_api_key(s, _operator(), key_id)
    typer.echo(f"revoked {key_id}")
