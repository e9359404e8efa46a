"""One settings class for the whole hub (prefix ``HERDSEC_``), built by :func:`load_settings` and passed in.

Each field's description is the documentation: the README's configuration table is generated from it and a test
fails when the two disagree.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from herdsec.core.errors import ConfigError

INSECURE_DEFAULT_SECRET = "herdsec-insecure-dev-secret-change-me"  # noqa: S105 - the known default we refuse
Mode = Literal["production", "dev", "demo"]
Language = Literal["vi", "en"]


class Settings(BaseSettings):
    """Configuration of a HerdSec hub; every field reads ``HERDSEC_<NAME>`` from the environment."""

    model_config = SettingsConfigDict(env_prefix="HERDSEC_", extra="ignore", frozen=True)

    mode: Mode = Field(
        "production",
        description="`production`, `dev` or `demo`. Outside dev/demo the server refuses the default secret key.",
    )
    database_url: str = Field(
        "sqlite:///./herdsec.db",
        description="SQLAlchemy URL: SQLite file (default) or `postgresql+psycopg://user@host:5432/db`.",
    )
    secret_key: str = Field(
        INSECURE_DEFAULT_SECRET,
        description="Signs session cookies and CSRF tokens. Required (at least 32 characters) in production.",
    )
    host: str = Field("127.0.0.1", description="Address `herdsec serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `herdsec serve` listens on.")
    default_language: Language = Field(
        "vi", description="Language of pages when neither the user nor the browser asks for one (`vi` or `en`)."
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted by the JSON API and forms (bytes); 413 above."
    )
    max_upload_bytes: int = Field(
        1_073_741_824,
        ge=1024,
        description="Largest upload for bulk endpoints such as STIX bundle ingest (bytes); 413 above.",
    )
    correlation_limit: int = Field(
        100, ge=2, description="A value carried by more objects than this is flagged as over-correlating."
    )
    session_hours: int = Field(12, ge=1, le=24 * 30, description="Lifetime of a web login session, in hours.")
    secure_cookies: bool = Field(
        False, description="Mark cookies `Secure` (set true when the hub is served over HTTPS)."
    )
    outbound_allow: str = Field(
        "",
        description="Non-public destinations outbound requests (federation, feeds) may reach: comma-separated "
        "networks (CIDR) or `loopback`, `private`, `link-local`. Empty: only public addresses.",
    )
    outbound_timeout: int = Field(
        30, ge=1, le=600, description="Timeout of one outbound request (federation, feeds), in seconds."
    )
    outbound_max_bytes: int = Field(
        67_108_864, ge=1024, description="Largest response accepted from an outbound request (bytes)."
    )

    stream_heartbeat_seconds: float = Field(
        15.0, gt=0, le=300, description="Seconds between heartbeat comments on an idle event stream."
    )
    stream_poll_seconds: float = Field(
        2.0, gt=0, le=60, description="Safety-net poll of the event outbox when no wake-up arrives (seconds)."
    )
    stream_buffer_events: int = Field(
        5000, ge=10, description="Recent stream items each server process keeps in memory for its subscribers."
    )
    stream_batch_events: int = Field(
        500, ge=1, le=10000, description="Most stream items one subscriber holds in hand at a time (its buffer)."
    )
    stream_send_timeout_seconds: float = Field(
        30.0, gt=0, description="A stream client that accepts no data for this long is disconnected (seconds)."
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120, description="Timeout of one webhook delivery (seconds).")
    webhook_max_attempts: int = Field(
        8, ge=1, le=50, description="Webhook delivery attempts before a delivery is dead-lettered."
    )
    webhook_backoff_seconds: float = Field(
        10.0, gt=0, description="Wait before the first webhook retry; doubled after each failure (seconds)."
    )
    webhook_backoff_cap_seconds: float = Field(
        3600.0, gt=0, description="Longest wait between two webhook attempts (seconds)."
    )
    webhook_poll_seconds: float = Field(
        2.0, gt=0, le=60, description="How often the webhook worker looks for due deliveries (seconds)."
    )

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if not value.startswith(("sqlite", "postgresql")):
            raise ValueError("only sqlite:/// and postgresql+psycopg:// URLs are supported")
        return value

    @field_validator("outbound_allow")
    @classmethod
    def _known_allowances(cls, value: str) -> str:
        from herdsec.core.errors import HerdsecError
        from herdsec.core.outbound import OutboundPolicy

        try:
            OutboundPolicy.parse(value)
        except HerdsecError as exc:
            raise ValueError(exc.render()) from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def check_for_serving(self) -> None:
        """Refuse to serve with a guessable secret outside dev and demo modes."""
        if self.mode in ("dev", "demo"):
            return
        if self.secret_key == INSECURE_DEFAULT_SECRET or len(self.secret_key) < 32:
            raise ConfigError(
                "HERDSEC_SECRET_KEY is unset or shorter than 32 characters; set a long random value "
                '(for example `python -c "import secrets; print(secrets.token_urlsafe(48))"`) '
                "or run with HERDSEC_MODE=dev"
            )


def load_settings(**overrides: object) -> Settings:
    """Build the settings from the environment, with explicit overrides winning."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:  # pydantic.ValidationError is a ValueError
        raise ConfigError(f"invalid settings: {exc}") from exc
