"""Shapes that cross the federation boundary (CLI, pages)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class PeerIn(BaseModel):
    name: str
    kind: str = "taxii"
    url: str
    collection_id: str | None = None
    direction: str = "pull"
    interval_seconds: int = 300
    username: str | None = None
    password: str | None = Field(None, repr=False)
    api_key: str | None = Field(None, repr=False)
    as_org: str | None = Field(None, description="An existing organization of kind hub to store pulls as.")


class PeerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    kind: str
    url: str
    collection_id: str | None
    direction: str
    interval_seconds: int
    org_id: int
    org_name: str = ""
    auth_kind: str
    username: str | None
    pull_cursor: str | None
    push_cursor: int
    enabled: bool
    created_at: datetime
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    failures: int
    next_attempt_at: datetime | None


class RunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    peer_id: int
    peer_name: str = ""
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    pulled: int
    pushed: int
    skipped: int
    refused: int
    error: str | None
    note: str | None
