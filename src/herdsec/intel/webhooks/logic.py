"""Pure rules of webhooks: the signature, the retry schedule, which addresses a target may have."""

from __future__ import annotations

import hashlib
import hmac

from herdsec.core.text import ascii_digits

SIGNATURE_HEADER = "X-HerdSec-Signature"


def signature(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: the receiver recomputes it and compares."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: str, body: bytes, header: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does (also used by the tests): parse the header, check the age, compare in constant time."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    if not ascii_digits(parts.get("t", "")) or "v1" not in parts:
        return False
    timestamp = int(parts["t"])
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, timestamp), f"t={timestamp},v1={parts['v1']}")


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds to wait after the ``attempts``-th failure: base, 2×base, 4×base, … never above ``cap``."""
    return float(min(base * 2 ** max(attempts - 1, 0), cap))
