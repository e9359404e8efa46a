"""Shapes that cross the MISP adapter's boundary: what became of an imported event, of a feed pull."""

from __future__ import annotations

from pydantic import BaseModel, Field


class MispProblem(BaseModel):
    where: str = Field(description="Where in the event: Event, Attribute[3], Object[1].Attribute[0], …")
    uuid: str | None = Field(None, description="The MISP uuid of the element, when it had one.")
    reason: str


class MispEventStatus(BaseModel):
    """One MISP event: how many STIX objects it became, stored, already known or refused (with where and why)."""

    uuid: str | None
    info: str | None = None
    report_id: str | None = Field(None, description="The STIX report the event is stored as.")
    attribute_count: int = Field(0, description="Attributes read (object attributes included).")
    total_count: int = Field(0, description="STIX objects made from the event, plus the elements refused.")
    success_count: int = 0
    stored_count: int = Field(0, description="New object versions stored (the rest of the successes were known).")
    failure_count: int = 0
    failures: list[MispProblem] = Field(default_factory=list)
    notices: list[MispProblem] = Field(
        default_factory=list, description="Kept but worth knowing: unknown types kept as text, narrowed reach."
    )


class MispImportStatus(BaseModel):
    status: str = "complete"
    events: list[MispEventStatus] = Field(default_factory=list)
    total_count: int = 0
    success_count: int = 0
    stored_count: int = 0
    failure_count: int = 0


class FeedPullStatus(BaseModel):
    feed: str
    listed: int = Field(0, description="Events in the feed's manifest.")
    fetched: int = Field(0, description="Events new or changed since the last pull, fetched and imported.")
    unchanged: int = 0
    failed: list[MispProblem] = Field(default_factory=list, description="Events that could not be fetched or read.")
    stored_count: int = 0
    failure_count: int = Field(0, description="Elements refused inside the fetched events.")
