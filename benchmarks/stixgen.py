"""Generate valid STIX 2.1 bundles of mixed indicators (written as a stream: no 1M-object list in memory)."""

from __future__ import annotations

import json
import random
import uuid
from pathlib import Path

KINDS = ("ipv4", "domain", "url", "sha256", "email")


def value(kind: str, i: int, rng: random.Random) -> tuple[str, str]:
    """(value, pattern) for indicator number ``i``; values are unique per i."""
    if kind == "ipv4":
        v = f"{11 + i % 200}.{(i >> 8) % 256}.{(i >> 16) % 256}.{1 + i % 253}"
        return v, f"[ipv4-addr:value = '{v}']"
    if kind == "domain":
        v = f"host{i}-{rng.randrange(1 << 30):x}.example"
        return v, f"[domain-name:value = '{v}']"
    if kind == "url":
        v = f"http://cdn{i}.example/path/{rng.randrange(1 << 30):x}.php"
        return v, f"[url:value = '{v}']"
    if kind == "sha256":
        v = f"{rng.getrandbits(256):064x}"
        return v, f"[file:hashes.'SHA-256' = '{v}']"
    v = f"user{i}@mail{rng.randrange(1000)}.example"
    return v, f"[email-addr:value = '{v}']"


def write_bundle(path: Path, count: int, seed: int = 7) -> list[str]:
    """Write a bundle of ``count`` indicators; returns a sample of 2,000 values for lookups."""
    rng = random.Random(seed)
    sample: list[str] = []
    every = max(count // 2000, 1)
    with path.open("w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}"})[:-1] + ', "objects": [\n')
        for i in range(count):
            kind = KINDS[i % len(KINDS)]
            v, pattern = value(kind, i, rng)
            if i % every == 0:
                sample.append(v)
            obj = {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--{uuid.UUID(int=rng.getrandbits(128), version=4)}",
                "created": "2026-11-01T00:00:00.000Z",
                "modified": "2026-11-01T00:00:00.000Z",
                "name": f"bench {kind} {i}",
                "pattern": pattern,
                "pattern_type": "stix",
                "valid_from": "2026-11-01T00:00:00Z",
                "indicator_types": ["malicious-activity"],
            }
            out.write(("," if i else "") + json.dumps(obj) + "\n")
        out.write("]}\n")
    return sample
