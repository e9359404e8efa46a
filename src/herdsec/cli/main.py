"""Typer root of ``herdsec``: the one place that maps errors to exit codes and prints them.

Exit codes: 0 success; 1 "found something" (used by commands such as ``scan``); 2 any error, printed as one line
on stderr; 130 interrupted.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from herdsec.core.errors import HerdsecError

EXIT_ERROR = 2
EXIT_INTERRUPTED = 130

app = typer.Typer(
    name="herdsec",
    help="HerdSec: coordination hub of a national cybersecurity ecosystem.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url", envvar="HERDSEC_DATABASE_URL", help="Database URL (default sqlite:///./herdsec.db)."
        ),
    ] = None,
) -> None:
    """Run `herdsec COMMAND --help` for each command's options."""
    ctx.obj = {"database_url": database_url}


_registered = False
_missing: str | None = None  # a server dependency the base install lacks


def _register(*, hub: bool = True) -> None:
    """Add the commands. The scanner comes first and alone when it is the command: the base install (no server
    extra) runs it, and it does not pay for importing the hub."""
    global _registered, _missing
    if _registered:
        return
    _registered = True
    from herdsec.scan import cli as scan_cli

    scan_cli.register(app)
    if not hub:
        return
    try:
        _register_hub()
    except ModuleNotFoundError as exc:
        _missing = exc.name or "?"


def _register_hub() -> None:
    from herdsec.cli import server
    from herdsec.identity import cli as identity_cli
    from herdsec.intel import cli as intel_cli
    from herdsec.intel import stream_cli
    from herdsec.intel.federation import cli as federation_cli
    from herdsec.skills import cli as skills_cli

    server.register(app)
    app.add_typer(identity_cli.org_app, name="org")
    app.add_typer(identity_cli.user_app, name="user")
    app.add_typer(identity_cli.key_app, name="key")
    app.add_typer(intel_cli.intel_app, name="intel")
    app.add_typer(federation_cli.federation_app, name="federation")
    app.add_typer(skills_cli.skills_app, name="skills")
    stream_cli.register(app)


def run(argv: list[str] | None = None) -> None:
    """Entry point of the console script."""
    args = sys.argv[1:] if argv is None else argv
    command = next((arg for arg in args if not arg.startswith("-")), None)
    _register(hub=command != "scan")
    if _missing and command not in (None, "scan"):  # the base install has the scanner only
        print(
            f"herdsec: error: the hub needs its server dependencies ({_missing}); pip install 'herdsec[server]'",
            file=sys.stderr,
        )
        raise SystemExit(EXIT_ERROR) from None
    try:
        code = app(args=argv, standalone_mode=False)  # click returns the code of an Exit in this mode
        if isinstance(code, int) and code:
            raise SystemExit(code)
    except HerdsecError as exc:
        from herdsec.core.i18n import gettext

        print(f"herdsec: error: {exc.render(gettext)}", file=sys.stderr)
        raise SystemExit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        print("herdsec: interrupted", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except typer.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except typer.Abort:
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # usage errors of click (or of typer's own copy of click)
        show = getattr(exc, "show", None)
        if callable(show) and hasattr(exc, "exit_code"):
            show()
            raise SystemExit(EXIT_ERROR) from None
        raise
