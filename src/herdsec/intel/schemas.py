"""Shapes that cross the intel module's boundary."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field


class IngestFailure(BaseModel):
    index: int = Field(description="Position of the object in the bundle's objects list (0-based).")
    id: str | None = Field(description="The object's id, when it had one.")
    reason: str


class IngestStatus(BaseModel):
    """What became of a bundle: stored, already there (idempotent), or refused with the reason."""

    status: str = "complete"
    total_count: int = 0
    success_count: int = 0
    stored_count: int = Field(0, description="New object versions stored (the rest of the successes were known).")
    failure_count: int = 0
    failures: list[IngestFailure] = Field(default_factory=list)
    flagged_values: int = Field(0, description="Indexed values that are malformed or on a warninglist.")


class ObjectRef(BaseModel):
    id: str
    type: str
    name: str | None = None


class LookupMatch(BaseModel):
    id: str = Field(description="STIX id of the object carrying the value.")
    type: str
    name: str | None
    value_type: str
    value: str
    tlp: str
    distribution: str
    creator: str | None = Field(description="The sharing organization (members only).")
    modified: str
    date_added: str
    revoked: bool
    warninglists: list[str] = Field(default_factory=list)
    problem: str | None = None
    score: float | None = Field(None, description="Decay score now (indicators), 0–100.")
    expired: bool = False
    sightings: SightingSummary | None = None


class LookupResult(BaseModel):
    query: str
    value_type: str | None
    value: str | None
    matches: list[LookupMatch]
    over_correlating: bool = Field(
        False, description="More objects carry this value than the correlation limit; the list is truncated."
    )


class SightingIn(BaseModel):
    """A sighting report: by value (every visible indicator carrying it) or by object id."""

    model_config = {"extra": "forbid"}

    value: str | None = Field(None, max_length=4096, description="The value seen (defanged is fine).")
    type: str | None = Field(None, description="The value's type, when it cannot be guessed.")
    object_id: str | None = Field(None, max_length=120, description="Or: the STIX id of the indicator.")
    count: int = Field(1, ge=1, le=1_000_000_000)
    first_seen: AwareDatetime | None = None
    last_seen: AwareDatetime | None = None
    kind: Literal["sighting", "false-positive", "expiration"] = "sighting"


class SightingRecorded(BaseModel):
    recorded: int
    objects: list[str]


class SightingSummary(BaseModel):
    """Who saw an indicator, where and when. Reporter names only for the indicator's creator and coordinators."""

    count: int = 0
    organizations: int = 0
    false_positives: int = 0
    expirations: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    by_sector: dict[str, int] = Field(default_factory=dict)
    by_province: dict[str, int] = Field(default_factory=dict)
    reporters: list[str] | None = None


LookupMatch.model_rebuild()
LookupResult.model_rebuild()
