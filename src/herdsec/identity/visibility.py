"""Visibility: the one place that turns an acting audience into "may see" decisions and SQL filters.

Every read of shared data (REST, TAXII, exports, feeds, stream, webhooks, search, correlation, counts, pages) must
go through :func:`visible_filter` (in SQL) or :func:`may_see` (in memory); both implement the same rules and a
property test checks that they agree on random data.

Rules (TLP 2.0 + MISP-style distribution):

* *Distribution* names the recipients: ``organization`` (the creator only), ``sharing-group`` (the group's member
  organizations), ``community`` (every member of this hub), ``connected`` (plus federated peer hubs), ``all`` (plus
  public feeds).
* *TLP* caps how far that may reach: CLEAR no cap; GREEN community and connected peers, never public feeds;
  AMBER and AMBER+STRICT only members of this hub, never federated onwards; RED only the sharing group or the
  creator's organization, and never bulk exports or federation.
* Several markings combine with AND (the most restrictive wins); an unknown marking fails closed: only the creator
  organization sees the object, and never in bulk.
* The creator organization always sees its own objects interactively.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, true

from herdsec.core.errors import N_, InvalidInput


class Tlp(IntEnum):
    """TLP levels, ordered from least to most restrictive; UNKNOWN is a marking we do not understand."""

    CLEAR = 0
    GREEN = 1
    AMBER = 2
    AMBER_STRICT = 3
    RED = 4
    UNKNOWN = 5

    @property
    def label(self) -> str:
        return _TLP_LABELS[self]

    @classmethod
    def parse(cls, value: str) -> Tlp:
        """Accept ``clear``, ``TLP:AMBER+STRICT``, ``white`` (TLP 1.0) and the like."""
        text = value.strip().lower().removeprefix("tlp:").replace("_", "+").replace(" ", "")
        text = {"white": "clear", "amber-strict": "amber+strict"}.get(text, text)
        for level, label in _TLP_LABELS.items():
            if label == text and level is not Tlp.UNKNOWN:
                return level
        raise InvalidInput(
            N_("unknown TLP %(value)r; expected clear, green, amber, amber+strict or red"), where="tlp", value=value
        )


_TLP_LABELS = {
    Tlp.CLEAR: "clear",
    Tlp.GREEN: "green",
    Tlp.AMBER: "amber",
    Tlp.AMBER_STRICT: "amber+strict",
    Tlp.RED: "red",
    Tlp.UNKNOWN: "unknown",
}

# OASIS TLP 2.0 marking-definition ids, and the TLP 1.0 ids accepted (and normalised) on import.
TLP2_MARKINGS: dict[Tlp, str] = {
    Tlp.CLEAR: "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
    Tlp.GREEN: "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    Tlp.AMBER: "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
    Tlp.AMBER_STRICT: "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    Tlp.RED: "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
}
TLP1_MARKINGS: dict[str, Tlp] = {
    "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": Tlp.CLEAR,
    "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": Tlp.GREEN,
    "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": Tlp.AMBER,
    "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": Tlp.RED,
}
_BY_ID: dict[str, Tlp] = {v: k for k, v in TLP2_MARKINGS.items()} | TLP1_MARKINGS


def normalise_marking(marking_id: str) -> str:
    """Map a TLP 1.0 marking id to its TLP 2.0 id; leave every other id as it is."""
    level = TLP1_MARKINGS.get(marking_id)
    return TLP2_MARKINGS[level] if level is not None else marking_id


def effective_tlp(marking_ids: Iterable[str], known_other: Iterable[str] = (), default: Tlp = Tlp.AMBER) -> Tlp:
    """Combine an object's markings with AND: the most restrictive TLP wins; an unknown marking fails closed.

    ``known_other`` are non-TLP markings the hub understands and that restrict nothing (e.g. copyright statements).
    ``default`` applies when the object carries no TLP marking at all.
    """
    allowed = set(known_other)
    levels: list[Tlp] = []
    for marking in marking_ids:
        if marking in _BY_ID:
            levels.append(_BY_ID[marking])
        elif marking not in allowed:
            levels.append(Tlp.UNKNOWN)
    return max(levels) if levels else default


class Distribution(StrEnum):
    ORGANIZATION = "organization"
    SHARING_GROUP = "sharing-group"
    COMMUNITY = "community"
    CONNECTED = "connected"
    ALL = "all"

    @classmethod
    def parse(cls, value: str) -> tuple[Distribution, int | None]:
        """Parse ``community`` or ``sharing-group:<id>`` (MISP numbers 0-4 also accepted)."""
        text = value.strip().lower()
        text = {"0": "organization", "1": "community", "2": "connected", "3": "all"}.get(text, text)
        if text.startswith("sharing-group:"):
            raw = text.split(":", 1)[1]
            if raw.isdigit():
                return cls.SHARING_GROUP, int(raw)
        elif text in {d.value for d in cls if d is not cls.SHARING_GROUP}:
            return cls(text), None
        raise InvalidInput(
            N_(
                "unknown distribution %(value)r; expected organization, community, connected, all or sharing-group:<id>"
            ),
            where="distribution",
            value=value,
        )


class Audience(StrEnum):
    MEMBER = "member"  # an organization of this hub
    PEER = "peer"  # a connected (federated) hub
    PUBLIC = "public"  # anyone: public feeds


class Channel(StrEnum):
    INTERACTIVE = "interactive"  # pages, API reads, lookups, stream
    BULK = "bulk"  # exports, feeds, federation pushes, TAXII collection dumps


@dataclass(frozen=True, slots=True)
class Viewer:
    """Whoever reads: a member organization (with its sharing groups), a peer hub, or the public."""

    audience: Audience
    channel: Channel = Channel.INTERACTIVE
    org_id: int | None = None
    group_ids: frozenset[int] = frozenset()

    @classmethod
    def member(cls, org_id: int, group_ids: Iterable[int] = (), bulk: bool = False) -> Viewer:
        return cls(Audience.MEMBER, Channel.BULK if bulk else Channel.INTERACTIVE, org_id, frozenset(group_ids))

    @classmethod
    def peer(cls) -> Viewer:
        return cls(Audience.PEER, Channel.BULK)

    @classmethod
    def public(cls) -> Viewer:
        return cls(Audience.PUBLIC, Channel.BULK)


@dataclass(frozen=True, slots=True)
class Shared:
    """The access-relevant facts of one shared item (what :class:`SharedColumns` holds in a table)."""

    creator_org_id: int
    tlp: Tlp
    distribution: Distribution
    sharing_group_id: int | None = None


# TLP levels each recipient class may receive.
_COMMUNITY_TLPS = (Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT)
_GROUP_TLPS = (*_COMMUNITY_TLPS, Tlp.RED)
_PEER_TLPS = (Tlp.CLEAR, Tlp.GREEN)
_PUBLIC_TLPS = (Tlp.CLEAR,)
_WIDE = (Distribution.COMMUNITY, Distribution.CONNECTED, Distribution.ALL)
_FEDERATED = (Distribution.CONNECTED, Distribution.ALL)


def may_see(viewer: Viewer, item: Shared) -> bool:
    """The rules in memory; :func:`visible_filter` is the same rules in SQL."""
    if viewer.channel is Channel.BULK and item.tlp >= Tlp.RED:
        return False
    if viewer.audience is Audience.PUBLIC:
        return item.distribution is Distribution.ALL and item.tlp in _PUBLIC_TLPS
    if viewer.audience is Audience.PEER:
        return item.distribution in _FEDERATED and item.tlp in _PEER_TLPS
    if item.creator_org_id == viewer.org_id:
        return True
    if item.distribution is Distribution.SHARING_GROUP:
        return item.sharing_group_id in viewer.group_ids and item.tlp in _GROUP_TLPS
    return item.distribution in _WIDE and item.tlp in _COMMUNITY_TLPS


@dataclass(frozen=True, slots=True)
class SharedColumns:
    """The columns of a table that hold :class:`Shared` facts (``tlp`` stores ``Tlp`` as an integer)."""

    creator_org_id: Any
    tlp: Any
    distribution: Any
    sharing_group_id: Any


def visible_filter(viewer: Viewer, cols: SharedColumns) -> ColumnElement[bool]:
    """A WHERE clause selecting exactly the rows :func:`may_see` allows."""
    bulk_ok = cols.tlp < int(Tlp.RED) if viewer.channel is Channel.BULK else true()
    if viewer.audience is Audience.PUBLIC:
        return and_(cols.distribution == Distribution.ALL.value, cols.tlp.in_([int(t) for t in _PUBLIC_TLPS]))
    if viewer.audience is Audience.PEER:
        return and_(cols.distribution.in_([d.value for d in _FEDERATED]), cols.tlp.in_([int(t) for t in _PEER_TLPS]))
    own = cols.creator_org_id == viewer.org_id if viewer.org_id is not None else false()
    group = (
        and_(
            cols.distribution == Distribution.SHARING_GROUP.value,
            cols.sharing_group_id.in_(sorted(viewer.group_ids)),
            cols.tlp.in_([int(t) for t in _GROUP_TLPS]),
        )
        if viewer.group_ids
        else false()
    )
    wide = and_(cols.distribution.in_([d.value for d in _WIDE]), cols.tlp.in_([int(t) for t in _COMMUNITY_TLPS]))
    return and_(bulk_ok, or_(own, group, wide))


def onward_distribution(received: Distribution) -> Distribution:
    """What a peer hub stores for an object it pulled: ``connected`` stops there, ``all`` travels on (as MISP)."""
    return Distribution.COMMUNITY if received is Distribution.CONNECTED else received
