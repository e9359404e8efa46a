"""What an import of MISP events needs to know, and what converting an event found, as plain picklable data: the
same job runs in this process or in a second one (``parallel``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from herdsec.identity.logic import name_key
from herdsec.identity.visibility import Tlp
from herdsec.intel.ingest import Audience
from herdsec.intel.misp.convert import EventConverter
from herdsec.intel.misp.schemas import MispProblem
from herdsec.intel.misp.vocab import Reach


@dataclass(frozen=True)
class Groups:
    """The hub sharing groups the importing organization belongs to, by uuid and by name: a MISP sharing group is
    matched by uuid, else by name."""

    by_uuid: dict[str, int] = field(default_factory=dict)
    by_name: dict[str, int] = field(default_factory=dict)

    def __call__(self, group_uuid: str | None, name: str | None) -> int | None:
        if group_uuid and group_uuid.lower() in self.by_uuid:
            return self.by_uuid[group_uuid.lower()]
        return self.by_name.get(name_key(name)) if name else None


@dataclass(frozen=True)
class Job:
    org_uuid: str  # the importing organization
    groups: Groups
    cap: Reach | None  # how far the events may go at most (None: their own distribution)
    stream_over: int  # documents larger than this are streamed
    trust_built: bool  # objects the converter built skip the per-object STIX check

    def converter(self) -> EventConverter:
        return EventConverter(org_uuid=self.org_uuid, resolve_group=self.groups, cap=self.cap)


class Outcome(NamedTuple):
    """What converting one event found besides its objects."""

    event_uuid: str | None
    info: str | None
    report_id: str | None
    attribute_count: int
    failures: list[MispProblem]
    notices: list[MispProblem]
    sighting_kinds: dict[str, str]  # sighting id → kind other than "sighting"

    @classmethod
    def of(cls, converter: EventConverter) -> Outcome:
        return cls(
            converter.event_uuid,
            converter.info,
            converter.report_id,
            converter.attribute_count,
            converter.failures,
            converter.notices,
            converter.sighting_kinds,
        )


def audience_of(reach: Reach) -> Audience:
    """The ingest audience of a reach. Its TLP is only the default for unmarked objects: the ingest's own applies."""
    return Audience(Tlp.AMBER, reach.distribution, reach.group_id)
