"""Shapes of webhooks that cross the module boundary."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000)
    types: str | None = Field(None, max_length=400, description="Comma-separated STIX types (sighting too).")
    tlp: str | None = Field(None, max_length=100, description="Comma-separated TLP levels.")
    sector: str | None = Field(None, max_length=400, description="Comma-separated sectors of the sharer.")
    min_score: float | None = Field(None, ge=0, le=100)


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    org_id: int
    url: str
    types: str | None
    tlps: str | None
    sectors: str | None
    min_score: float | None
    enabled: bool
    created_at: datetime
    created_by: str


class WebhookCreated(BaseModel):
    webhook: WebhookOut
    secret: str = Field(description="Shown once: verify X-HerdSec-Signature with it.")


class DeliveryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    webhook_id: int
    event_id: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status: int | None
    created_at: datetime
    delivered_at: datetime | None
