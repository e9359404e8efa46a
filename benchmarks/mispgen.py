"""Generated MISP events for the benchmark and the tests: mixed attribute types, a tenth of them in objects."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import IO, Any

import orjson

KINDS = ("ip-dst", "domain", "url", "sha256", "ip-dst|port", "email-src", "md5", "filename|sha1", "hostname", "text")


def attribute(i: int, rng_seed: int = 0) -> dict[str, Any]:
    kind = KINDS[i % len(KINDS)]
    n = i + rng_seed * 10_000_000
    value = {
        "ip-dst": f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}",
        "domain": f"host{n}.example-bad{n % 97}.com",
        "url": f"http://c2-{n}.example.net/gate.php?id={n}",
        "sha256": f"{n:064x}",
        "ip-dst|port": f"172.16.{(n >> 8) & 255}.{n & 255}|{1024 + n % 60000}",
        "email-src": f"phish{n}@mail{n % 13}.example.org",
        "md5": f"{n:032x}",
        "filename|sha1": f"dropper{n}.exe|{n:040x}",
        "hostname": f"srv{n}.example-c2.org",
        "text": f"free text note {n}",
    }[kind]
    return {
        "uuid": str(uuid.UUID(int=(rng_seed << 64) | (i + 1), version=4)),
        "type": kind,
        "category": "Network activity",
        "value": value,
        "to_ids": kind != "text",
        "distribution": "5",
        "timestamp": str(1_700_000_000 + i),
        "comment": f"seen {i}" if i % 7 == 0 else "",
        "Tag": [{"name": "kill-chain:Delivery"}] if i % 5 == 0 else [],
    }


def event(attributes: int, seed: int = 0) -> dict[str, Any]:
    """A whole event in memory (small sizes)."""
    in_objects = attributes // 10
    return {
        "Event": {
            "uuid": str(uuid.UUID(int=(seed << 64) | 0xE0E0, version=4)),
            "info": f"Generated event of {attributes} attributes",
            "date": "2026-11-01",
            "timestamp": "1700000000",
            "publish_timestamp": "1700000000",
            "published": True,
            "analysis": "2",
            "threat_level_id": "1",
            "distribution": "1",
            "Orgc": {"name": "Generator", "uuid": "2f9a1c3e-0000-4000-8000-000000000001"},
            "Attribute": [attribute(i, seed) for i in range(attributes - in_objects)],
            "Object": _objects(attributes - in_objects, in_objects, seed),
            "Tag": [{"name": "tlp:green"}, {"name": 'misp-galaxy:mitre-attack-pattern="Phishing - T1566"'}],
        }
    }


def _objects(first: int, count: int, seed: int) -> list[dict[str, Any]]:
    objects = []
    for k in range(0, count, 2):
        members = [attribute(first + k + j, seed) for j in range(min(2, count - k))]
        for member, relation in zip(members, ("ip", "domain"), strict=False):
            member["object_relation"] = relation
        objects.append(
            {
                "uuid": str(uuid.UUID(int=(seed << 64) | (0xF0000000 + k), version=4)),
                "name": "domain-ip",
                "meta-category": "network",
                "distribution": "5",
                "timestamp": "1700000000",
                "Attribute": members,
            }
        )
    return objects


def write_event(path: Path, attributes: int, seed: int = 0) -> None:
    """A large event written attribute by attribute (Attribute first, event fields last, as MISP writes them)."""
    with path.open("wb") as out:
        _stream(out, attributes, seed)


def _stream(out: IO[bytes], attributes: int, seed: int) -> None:
    head = event(0, seed)["Event"]
    out.write(b'{"Event": {"Attribute": [')
    for i in range(attributes):
        if i:
            out.write(b",\n")
        out.write(orjson.dumps(attribute(i, seed)))
    out.write(b"], ")
    rest = {k: v for k, v in head.items() if k not in ("Attribute", "Object")}
    out.write(orjson.dumps(rest)[1:])
    out.write(b"}\n")
