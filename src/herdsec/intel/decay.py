"""Decay of indicators: a score that falls with age and is refreshed by sightings (MISP's polynomial model).

``score = base × (1 − (age / lifetime) ^ (1 / speed))`` while ``age < lifetime``, else 0, where ``age`` is the time
since the indicator was last confirmed (its ``valid_from`` or ``modified``, or the newest sighting). A score at or
below the model's threshold means *expired*: the indicator leaves detection exports. False-positive sightings
lower the base; an ``expiration`` sighting expires the indicator at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from herdsec.ioc.types import IocType


@dataclass(frozen=True, slots=True)
class DecayModel:
    lifetime_days: float
    speed: float  # MISP's "decay speed": > 1 loses much of the score early then flattens; 1 is linear
    threshold: float  # at or below: expired


# Infrastructure moves fast; file hashes are forever-ish; CVEs do not decay.
DEFAULT = DecayModel(lifetime_days=90, speed=2.0, threshold=30)
MODELS: dict[IocType, DecayModel] = {
    IocType.IPV4: DecayModel(30, 2.0, 30),
    IocType.IPV6: DecayModel(30, 2.0, 30),
    IocType.CIDR: DecayModel(60, 2.0, 30),
    IocType.URL: DecayModel(60, 2.0, 30),
    IocType.DOMAIN: DecayModel(120, 2.0, 30),
    IocType.EMAIL: DecayModel(180, 2.0, 30),
    IocType.USER_AGENT: DecayModel(180, 2.0, 30),
    IocType.JA3: DecayModel(365, 2.0, 30),
    IocType.MD5: DecayModel(730, 3.0, 20),
    IocType.SHA1: DecayModel(730, 3.0, 20),
    IocType.SHA256: DecayModel(730, 3.0, 20),
    IocType.SHA512: DecayModel(730, 3.0, 20),
    IocType.FILENAME: DecayModel(365, 2.0, 30),
    IocType.MUTEX: DecayModel(365, 2.0, 30),
    IocType.REGKEY: DecayModel(365, 2.0, 30),
    IocType.CVE: DecayModel(3650, 1.0, 0),
}
FALSE_POSITIVE_PENALTY = 0.5  # each false-positive report halves the base


def model_for(value_type: str | None) -> DecayModel:
    try:
        return MODELS[IocType(value_type)] if value_type else DEFAULT
    except ValueError:
        return DEFAULT


def base_score(confidence: object, false_positives: int) -> float:
    """100, or the STIX ``confidence`` (0–100) when given, halved for each false-positive report."""
    base = float(confidence) if isinstance(confidence, int | float) and 0 <= confidence <= 100 else 100.0
    return base * (FALSE_POSITIVE_PENALTY ** max(false_positives, 0))


def score(base: float, model: DecayModel, refreshed: datetime, now: datetime) -> float:
    """The polynomial decay of ``base`` since ``refreshed`` (never negative, never above ``base``)."""
    age_days = max((now - refreshed).total_seconds() / 86400.0, 0.0)
    if age_days >= model.lifetime_days:
        return 0.0
    remaining: float = 1.0 - (age_days / model.lifetime_days) ** (1.0 / model.speed)
    return round(base * remaining, 2)


@dataclass(frozen=True, slots=True)
class Decay:
    score: float
    expired: bool
    refreshed: datetime


def evaluate(
    *,
    value_type: str | None,
    confidence: object,
    valid_from: datetime,
    valid_until: datetime | None,
    last_sighting: datetime | None,
    false_positives: int,
    expired_at: datetime | None,
    now: datetime,
    model: DecayModel | None = None,
) -> Decay:
    """The score of an indicator now, from its own timestamps and its sightings (``model``: the value type's,
    when the caller already has it)."""
    refreshed = max(valid_from, last_sighting) if last_sighting else valid_from
    if (expired_at is not None and expired_at <= now) or (valid_until is not None and valid_until <= now):
        return Decay(0.0, True, refreshed)
    model = model or model_for(value_type)
    value = score(base_score(confidence, false_positives), model, refreshed, now)
    return Decay(value, value <= model.threshold, refreshed)
