"""What every command needs from the root command: the settings (environment, then ``--database-url``)."""

from __future__ import annotations

from typing import Any

import typer

from herdsec.core.settings import Settings, load_settings


def settings_from(ctx: typer.Context, **overrides: Any) -> Settings:
    """Settings for a command: the environment, then the root ``--database-url``, then the command's overrides."""
    url = (ctx.find_root().obj or {}).get("database_url")
    if url:
        overrides.setdefault("database_url", url)
    return load_settings(**overrides)
