"""The decay model (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from herdsec.intel.decay import MODELS, DecayModel, base_score, evaluate, score
from herdsec.ioc.types import IocType

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def test_fresh_indicators_score_their_base_and_die_at_the_lifetime() -> None:
    model = DecayModel(30, 2.0, 30)
    assert score(100, model, T0, T0) == 100
    assert 0 < score(100, model, T0, T0 + timedelta(days=15)) < 100
    assert score(100, model, T0, T0 + timedelta(days=30)) == 0
    # speed 2: after a quarter of the lifetime half the score is gone (sqrt(0.25) = 0.5)
    assert score(100, model, T0, T0 + timedelta(days=7.5)) == 50


@given(st.floats(0, 400), st.floats(0, 400), st.sampled_from(list(MODELS.values())))
def test_score_never_rises_with_age(a: float, b: float, model: DecayModel) -> None:
    young, old = sorted((a, b))
    assert score(100, model, T0, T0 + timedelta(days=young)) >= score(100, model, T0, T0 + timedelta(days=old))


def test_sightings_refresh_and_false_positives_lower() -> None:
    common = {"value_type": "ipv4", "confidence": None, "valid_from": T0, "valid_until": None, "expired_at": None}
    now = T0 + timedelta(days=29)
    stale = evaluate(**common, last_sighting=None, false_positives=0, now=now)
    seen = evaluate(**common, last_sighting=now - timedelta(days=1), false_positives=0, now=now)
    doubted = evaluate(**common, last_sighting=now - timedelta(days=1), false_positives=1, now=now)
    assert stale.expired and not seen.expired
    assert seen.score > doubted.score > 0
    assert base_score(80, 0) == 80 and base_score(80, 2) == 20 and base_score("junk", 0) == 100


def test_expiration_and_valid_until() -> None:
    common = {"value_type": "sha256", "confidence": 90, "valid_from": T0, "last_sighting": None, "false_positives": 0}
    assert evaluate(**common, valid_until=None, expired_at=T0 + timedelta(days=1), now=T0 + timedelta(days=2)).expired
    assert evaluate(**common, valid_until=T0 + timedelta(days=1), expired_at=None, now=T0 + timedelta(days=2)).expired
    assert not evaluate(**common, valid_until=None, expired_at=None, now=T0 + timedelta(days=2)).expired


def test_hashes_outlive_ip_addresses() -> None:
    later = T0 + timedelta(days=60)
    assert score(100, MODELS[IocType.SHA256], T0, later) > score(100, MODELS[IocType.IPV4], T0, later) == 0
