"""The MISP vocabulary the hub maps: attribute types to STIX patterns and observables, composite values, TLP tags,
distribution levels and ATT&CK galaxy clusters (pure rules: no session, no I/O)."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Any

from herdsec.core.text import ascii_digits
from herdsec.identity.visibility import Distribution, Tlp
from herdsec.ioc.pattern import parse

# Every attribute type MISP defines (its describeTypes vocabulary, "named pipe" written with an underscore here).
# A type outside this list is unknown: kept as text and reported. Types listed here but not mapped below are
# kept as notes (STIX has no observable for a passport number) without a report.
_MISP_TYPES_TEXT = """
md5 sha1 sha256 filename pdb filename|md5 filename|sha1 filename|sha256 ip-src ip-dst hostname domain domain|ip
email email-src eppn email-dst email-subject email-attachment email-body float git-commit-id url http-method
user-agent ja3-fingerprint-md5 jarm-fingerprint favicon-mmh3 hassh-md5 hasshserver-md5 regkey regkey|value AS
snort suricata bro zeek community-id dom-hash pattern-in-file pattern-in-traffic pattern-in-memory
filename-pattern pgp-public-key pgp-private-key ssh-fingerprint yara stix2-pattern sigma gene kusto-query
mime-type identity-card-number cookie vulnerability cpe weakness attachment malware-sample link comment text hex
other named_pipe mutex process-state target-user target-email target-machine target-org target-location
target-external btc dash xmr iban bic bank-account-nr aba-rtn bin cc-number prtn phone-number threat-actor
campaign-name campaign-id malware-type uri authentihash vhash ssdeep imphash telfhash pehash impfuzzy sha224
sha384 sha512 sha512/224 sha512/256 sha3-224 sha3-256 sha3-384 sha3-512 tlsh cdhash filename|authentihash
filename|vhash filename|ssdeep filename|imphash filename|impfuzzy filename|pehash filename|sha224
filename|sha384 filename|sha512 filename|sha512/224 filename|sha512/256 filename|sha3-224 filename|sha3-256
filename|sha3-384 filename|sha3-512 filename|tlsh windows-scheduled-task windows-service-name
windows-service-displayname whois-registrant-email whois-registrant-phone whois-registrant-name
whois-registrant-org whois-registrar whois-creation-date x509-fingerprint-sha1 x509-fingerprint-md5
x509-fingerprint-sha256 dns-soa-email size-in-bytes counter integer datetime port ip-dst|port ip-src|port
hostname|port mac-address mac-eui-64 email-dst-display-name email-src-display-name email-header email-reply-to
email-x-mailer email-mime-boundary email-thread-index email-message-id github-username github-repository
github-organisation jabber-id twitter-id dkim dkim-signature first-name middle-name last-name full-name
date-of-birth place-of-birth gender passport-number passport-country passport-expiration redress-number
nationality visa-number issue-date-of-the-visa primary-residence country-of-residence special-service-request
frequent-flyer-number travel-details payment-details place-port-of-original-embarkation place-port-of-clearance
place-port-of-onward-foreign-destination passenger-name-record-locator-number mobile-application-id
azure-application-id chrome-extension-id edge-extension-id cortex boolean uuid anonymised onion-address
"""
MISP_TYPES = frozenset(t.replace("_", " ") if t == "named_pipe" else t for t in _MISP_TYPES_TEXT.split())

IP = "ip"  # ipv4-addr or ipv6-addr, decided by the value

# Simple types: the pattern object path (or IP) and the cyber-observable (type, property) for non-IDS attributes.
SIMPLE: dict[str, tuple[str, tuple[str, str] | None]] = {
    "ip-src": (IP, (IP, "value")),
    "ip-dst": (IP, (IP, "value")),
    "domain": ("domain-name:value", ("domain-name", "value")),
    "hostname": ("domain-name:value", ("domain-name", "value")),
    "url": ("url:value", ("url", "value")),
    "uri": ("url:value", ("url", "value")),
    "email": ("email-addr:value", ("email-addr", "value")),
    "email-src": ("email-addr:value", ("email-addr", "value")),
    "email-dst": ("email-addr:value", ("email-addr", "value")),
    "target-email": ("email-addr:value", ("email-addr", "value")),
    "whois-registrant-email": ("email-addr:value", ("email-addr", "value")),
    "md5": ("file:hashes.MD5", ("file", "MD5")),
    "sha1": ("file:hashes.'SHA-1'", ("file", "SHA-1")),
    "sha256": ("file:hashes.'SHA-256'", ("file", "SHA-256")),
    "sha512": ("file:hashes.'SHA-512'", ("file", "SHA-512")),
    "filename": ("file:name", ("file", "name")),
    "mutex": ("mutex:name", ("mutex", "name")),
    "regkey": ("windows-registry-key:key", ("windows-registry-key", "key")),
    "user-agent": ("network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'", None),
    "mac-address": ("mac-addr:value", ("mac-addr", "value")),
    "AS": ("autonomous-system:number", ("autonomous-system", "number")),
}
# Composite types: the pattern paths of each part ("port:dst" is a destination port, an integer).
COMPOSITE: dict[str, tuple[str, str]] = {
    "ip-src|port": ("network-traffic:src_ref.value", "network-traffic:src_port"),
    "ip-dst|port": ("network-traffic:dst_ref.value", "network-traffic:dst_port"),
    "hostname|port": ("network-traffic:dst_ref.value", "network-traffic:dst_port"),
    "domain|ip": ("domain-name:value", "domain-name:resolves_to_refs[*].value"),
    "filename|md5": ("file:name", "file:hashes.MD5"),
    "filename|sha1": ("file:name", "file:hashes.'SHA-1'"),
    "filename|sha256": ("file:name", "file:hashes.'SHA-256'"),
    "filename|sha512": ("file:name", "file:hashes.'SHA-512'"),
    "regkey|value": ("windows-registry-key:key", "windows-registry-key:values[*].data"),
}
# Rules in another pattern language: an indicator whose pattern is the attribute's value.
PATTERN_TYPES = {"yara": "yara", "snort": "snort", "sigma": "sigma", "suricata": "suricata", "stix2-pattern": "stix"}
TEXT_TYPES = frozenset({"text", "comment", "other", "link"})

DEFAULT_CATEGORY: dict[str, str] = {
    **dict.fromkeys(
        ("ip-src", "ip-dst", "ip-src|port", "ip-dst|port", "domain", "hostname", "hostname|port"), "Network activity"
    ),
    **dict.fromkeys(
        ("domain|ip", "url", "uri", "user-agent", "AS", "mac-address", "snort", "suricata"), "Network activity"
    ),
    **dict.fromkeys(
        ("md5", "sha1", "sha256", "sha512", "filename", "email-src", "email", "vulnerability"), "Payload delivery"
    ),
    **dict.fromkeys(
        ("filename|md5", "filename|sha1", "filename|sha256", "filename|sha512", "yara", "sigma"), "Payload delivery"
    ),
    **dict.fromkeys(("mutex", "regkey", "regkey|value"), "Artifacts dropped"),
    "link": "External analysis",
    "email-dst": "Network activity",
    "target-email": "Targeting data",
    "whois-registrant-email": "Attribution",
}

# Hub value types (herdsec.ioc.types.IocType values) → the MISP type they are exported as.
HUB_TO_MISP = {
    "ipv4": "ip-dst",
    "ipv6": "ip-dst",
    "cidr": "ip-dst",
    "domain": "domain",
    "url": "url",
    "email": "email-src",
    "md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "sha512": "sha512",
    "filename": "filename",
    "mutex": "mutex",
    "regkey": "regkey",
    "user-agent": "user-agent",
    "ja3": "ja3-fingerprint-md5",
    "cve": "vulnerability",
}

# MISP distribution levels. 5 ("inherit") takes the enclosing event's (or object's) level.
MISP_DISTRIBUTION = {
    0: Distribution.ORGANIZATION,
    1: Distribution.COMMUNITY,
    2: Distribution.CONNECTED,
    3: Distribution.ALL,
    4: Distribution.SHARING_GROUP,
}
HUB_DISTRIBUTION = {d: n for n, d in MISP_DISTRIBUTION.items()}
INHERIT = 5
_REACH = {
    Distribution.ORGANIZATION: 0,
    Distribution.SHARING_GROUP: 1,
    Distribution.COMMUNITY: 2,
    Distribution.CONNECTED: 3,
    Distribution.ALL: 4,
}

TLP_TAGS: dict[str, Tlp] = {
    "tlp:clear": Tlp.CLEAR,
    "tlp:white": Tlp.CLEAR,
    "tlp:green": Tlp.GREEN,
    "tlp:amber": Tlp.AMBER,
    "tlp:amber+strict": Tlp.AMBER_STRICT,
    "tlp:red": Tlp.RED,
}
TLP_TAG_OF = {
    Tlp.CLEAR: "tlp:clear",
    Tlp.GREEN: "tlp:green",
    Tlp.AMBER: "tlp:amber",
    Tlp.AMBER_STRICT: "tlp:amber+strict",
    Tlp.RED: "tlp:red",
}
TLP_COLOURS = {
    Tlp.CLEAR: "#ffffff",
    Tlp.GREEN: "#33ff00",
    Tlp.AMBER: "#ffc000",
    Tlp.AMBER_STRICT: "#ffc000",
    Tlp.RED: "#ff2b2b",
}
TECHNIQUE_IN_TEXT = re.compile(r"\b(T\d{4}(?:\.\d{3})?)\b")
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class BadValue(ValueError):
    """An attribute that cannot be converted (a broken composite value, a port that is no number…)."""


@dataclass(frozen=True, slots=True)
class Reach:
    """Where an item may go: a hub distribution and, for ``sharing-group``, the hub group id."""

    distribution: Distribution
    group_id: int | None = None

    def narrowest(self, other: Reach) -> Reach:
        """The more restrictive of two reaches (an attribute never travels further than its event)."""
        if self.distribution is other.distribution is Distribution.SHARING_GROUP and self.group_id != other.group_id:
            return Reach(Distribution.ORGANIZATION)
        return self if _REACH[self.distribution] <= _REACH[other.distribution] else other


def as_dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def tlp_of_tags(names: list[str]) -> Tlp | None:
    """The most restrictive TLP among MISP tag names (``tlp:amber``…); None when there is none. An unknown
    ``tlp:`` tag (``tlp:ex:chr``) fails closed as UNKNOWN."""
    levels = []
    for name in names:
        low = name.strip().lower()
        if low.startswith("tlp:"):
            levels.append(TLP_TAGS.get(low, Tlp.UNKNOWN))
    return max(levels) if levels else None


def is_tlp_tag(name: str) -> bool:
    return name.strip().lower().startswith("tlp:")


def tag_names(container: dict[str, Any]) -> list[str]:
    """The names of a MISP element's ``Tag`` list (tags without a string name are ignored)."""
    tags = container.get("Tag")
    if not isinstance(tags, list):
        return []
    return [t["name"] for t in tags if isinstance(t, dict) and isinstance(t.get("name"), str) and t["name"]]


def techniques_of_galaxies(galaxies: object) -> list[str]:
    """ATT&CK technique ids of the ``mitre-attack-pattern`` clusters of a MISP ``Galaxy`` list."""
    found: list[str] = []
    if not isinstance(galaxies, list):
        return found
    for galaxy in galaxies:
        clusters = galaxy.get("GalaxyCluster") if isinstance(galaxy, dict) else None
        for cluster in clusters if isinstance(clusters, list) else []:
            if not isinstance(cluster, dict) or "attack-pattern" not in str(cluster.get("type", "")):
                continue
            meta = cluster.get("meta") if isinstance(cluster.get("meta"), dict) else {}
            ids = meta.get("external_id") if isinstance(meta, dict) else None
            texts = ids if isinstance(ids, list) else [cluster.get("value", "")]
            found.extend(m for t in texts for m in TECHNIQUE_IN_TEXT.findall(str(t)))
    return sorted(set(found))


def techniques_of_tags(names: list[str]) -> list[str]:
    """ATT&CK technique ids named by galaxy tags: ``misp-galaxy:mitre-attack-pattern="Phishing - T1566"``."""
    return sorted(
        {
            m
            for n in names
            if n.startswith("misp-galaxy:mitre-") and "attack-pattern" in n
            for m in TECHNIQUE_IN_TEXT.findall(n)
        }
    )


def parse_distribution(raw: object, *, allow_inherit: bool) -> int:
    """A MISP distribution number (``"3"`` or ``3``); raises BadValue for anything else."""
    text = str(raw).strip() if raw is not None else ""
    if not ascii_digits(text) or int(text) > (INHERIT if allow_inherit else 4):
        raise BadValue(f"distribution {raw!r} is not a MISP distribution (0-{INHERIT if allow_inherit else 4})")
    return int(text)


def split_composite(misp_type: str, value: str) -> list[str]:
    """The parts of a composite value (``ip-dst|port``: ``1.2.3.4|443``), checked."""
    parts = value.split("|")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise BadValue(f"a {misp_type} value must have 2 non-empty parts separated by '|', not {value[:100]!r}")
    parts = [p.strip() for p in parts]
    if misp_type.endswith("|port") and not ((port := _number(parts[1])) is not None and port <= 65535):
        raise BadValue(f"the port {parts[1][:20]!r} of a {misp_type} value is not a number from 0 to 65535")
    return parts


def quote(literal: str) -> str:
    return "'" + literal.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _ip_path(value: str) -> str:
    return "ipv6-addr:value" if ":" in value else "ipv4-addr:value"


@functools.lru_cache(maxsize=256)
def canonical_path(path: str) -> str:
    """An object path as the pattern parser writes it (the form the value index is keyed by)."""
    return parse(f"[{path} = 'x']").comparisons()[0].object_path


def pattern_of(misp_type: str, value: str) -> str | None:
    """The STIX pattern of an IDS attribute; None for types no pattern expresses. Raises BadValue."""
    made = indicator_of(misp_type, value)
    return None if made is None else made[0]


def indicator_of(misp_type: str, value: str) -> tuple[str, tuple[tuple[str, str], ...]] | None:
    """The STIX pattern of an IDS attribute and the (object path, literal) pairs it indexes — exactly what
    ``indexable(parse(pattern))`` finds (the tests hold both to it); None for types no pattern expresses.
    Raises BadValue."""
    if misp_type in SIMPLE:
        path = SIMPLE[misp_type][0]
        if path == IP:
            path = _ip_path(value)
        if misp_type == "AS":
            number = _number(value.strip().upper().removeprefix("AS"))
            if number is None or number > AS_MAX:
                raise BadValue(f"AS {value[:40]!r} is not an autonomous system number")
            return f"[{path} = {number}]", ((canonical_path(path), str(number)),)
        text = value.strip()
        operator = "ISSUBSET" if "/" in value and path.startswith("ipv") else "="
        return f"[{path} {operator} {quote(text)}]", ((canonical_path(path), text),)
    if misp_type in COMPOSITE:
        first, second = split_composite(misp_type, value)
        left, right = COMPOSITE[misp_type]
        comparisons: list[tuple[str, str, str]] = []  # (path, the literal as written, its value)
        if left.startswith("network-traffic:"):
            kind = "domain-name" if misp_type.startswith("hostname") else _ip_path(first).split(":")[0]
            comparisons.append((left.replace(".value", ".type"), quote(kind), kind))
        comparisons.append((left, quote(first), first))
        if right.endswith("_port"):
            port = str(int(second))
            comparisons.append((right, port, port))
        else:
            comparisons.append((right, quote(second), second))
        pattern = "[" + " AND ".join(f"{path} = {written}" for path, written, _literal in comparisons) + "]"
        pairs = [(canonical_path(path), literal) for path, _written, literal in comparisons]
        return pattern, tuple(dict.fromkeys(pairs))
    return None


AS_MAX = 4_294_967_295  # autonomous system numbers have 32 bits


def _number(text: str) -> int | None:
    """A non-negative decimal integer written in ASCII digits, else None."""
    return int(text) if ascii_digits(text) else None


def observable_of(misp_type: str, value: str) -> dict[str, Any] | None:
    """The cyber-observable (without id) of a non-IDS attribute; None when no SCO holds it. Raises BadValue."""
    if misp_type in COMPOSITE:
        first, second = split_composite(misp_type, value)
        if misp_type.startswith("filename|"):
            algorithm = COMPOSITE[misp_type][1].split("hashes.")[1].strip("'")
            return {"type": "file", "name": first, "hashes": {algorithm: second}}
        if misp_type == "regkey|value":
            return {"type": "windows-registry-key", "key": first, "values": [{"data": second}]}
        if misp_type.startswith("hostname"):
            return {"type": "domain-name", "value": first}
        if misp_type == "domain|ip":
            return {"type": "domain-name", "value": first}
        return {"type": _ip_path(first).split(":")[0], "value": first}
    target = SIMPLE.get(misp_type, ("", None))[1]
    if target is None:
        return None
    sco_type, prop = target
    text = value.strip()
    if sco_type == IP:
        return {"type": _ip_path(text).split(":")[0], "value": text}
    if sco_type == "file" and prop != "name":
        return {"type": "file", "hashes": {prop: text}}
    if sco_type == "autonomous-system":
        number = _number(text.upper().removeprefix("AS"))
        if number is None or number > AS_MAX:
            raise BadValue(f"AS {value[:40]!r} is not an autonomous system number")
        return {"type": sco_type, "number": number}
    return {"type": sco_type, prop: text}
