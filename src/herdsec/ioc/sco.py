"""Observable values carried by STIX 2.1 objects and by the object paths of STIX pattern comparisons.

Cyber-observable objects (``values_from_sco``):

- ``ipv4-addr``, ``ipv6-addr`` ``value`` (a network when written with a prefix length), ``domain-name``, ``url``
  and ``email-addr`` ``value``;
- ``file`` and ``artifact`` ``hashes`` (MD5, SHA-1, SHA-256, SHA-512, see ``hash_type``), ``file`` ``name``;
- ``x509-certificate`` ``hashes`` (typed by algorithm: a certificate's SHA-1 is a ``sha1`` value);
- ``mutex`` ``name``, ``windows-registry-key`` ``key``;
- ``network-traffic``: the ``User-Agent`` request header of the ``http-request-ext`` extension, and a JA3 hash in any
  extension under the property ``ja3`` (also ``ja3_hash``, ``ja3-hash``); ``x-ja3`` custom objects' ``value``.
  Nothing else of ``network-traffic``: its addresses are separate objects.

Other objects (``software``, ``process``, ``email-message`` …) give nothing here. A property that is present but not a
string gives a Value flagged with a problem, never an exception.

Pattern object paths (``values_from_path``) use the same vocabulary, plus ``email-message`` sender and recipients
(``from_ref.value``, ``sender_ref.value``, ``to_refs[*].value``, ``cc_refs[*].value``, ``bcc_refs[*].value``),
``domain-name:resolves_to_refs[*].value`` and ``network-traffic:src_ref.value``/``dst_ref.value`` (typed by the
literal's shape: IPv4, IPv6, network or domain). Quotes around path components and list indexes are ignored.

CVE ids come from SDOs, not observables: ``values_from_sdo`` reads a ``vulnerability``'s ``name`` (when it is a CVE
id) and its ``external_references`` whose ``source_name`` is ``cve``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Final

from herdsec.ioc.normalise import normalise
from herdsec.ioc.types import IocType, Value

_HASH_TYPES: Final = {"MD5": IocType.MD5, "SHA1": IocType.SHA1, "SHA256": IocType.SHA256, "SHA512": IocType.SHA512}
_JA3_KEYS: Final = frozenset({"ja3", "ja3_hash", "ja3-hash"})
_SINGLE_VALUE: Final = {
    "ipv4-addr": IocType.IPV4,
    "ipv6-addr": IocType.IPV6,
    "domain-name": IocType.DOMAIN,
    "url": IocType.URL,
    "email-addr": IocType.EMAIL,
    "x-ja3": IocType.JA3,
}
_HASHED: Final = frozenset({"file", "artifact", "x509-certificate"})


def hash_type(key: str) -> IocType | None:
    """The type of a STIX hash key: ``MD5``, ``SHA-1``, ``SHA-256``, ``SHA-512`` and the spellings seen in the wild
    (``SHA256``, ``sha_256``, ``Sha-1`` …). Other algorithms (SHA3-*, SSDEEP, TLSH) are not indexed: None."""
    return _HASH_TYPES.get(key.upper().replace("-", "").replace("_", ""))


def _value(kind: IocType, item: object) -> Value:
    """The normalised Value of a property, or a flagged one when it is not a string."""
    if isinstance(item, str):
        return normalise(kind, item)
    text = repr(item)
    return Value(kind, text, text, "not a string")


def _address(literal: str) -> Value:
    """An address of unknown kind (``network-traffic:dst_ref.value``): IPv6 if it has a colon, IPv4 (or network) if
    it is digits and dots, else a domain."""
    text = literal.strip()
    if ":" in text:
        return normalise(IocType.IPV6, literal)
    if text.replace(".", "").replace("/", "").isdigit():
        return normalise(IocType.IPV4, literal)
    return normalise(IocType.DOMAIN, literal)


def _hashes(obj: Mapping[str, object]) -> list[Value]:
    """The indexed hashes of a ``hashes`` dictionary."""
    hashes = obj.get("hashes")
    if not isinstance(hashes, Mapping):
        return []
    found: list[Value] = []
    for key, item in hashes.items():
        kind = hash_type(str(key))
        if kind is not None:
            found.append(_value(kind, item))
    return found


def _named(obj: Mapping[str, object], prop: str, kind: IocType) -> list[Value]:
    """The Value of one property, if present."""
    item = obj.get(prop)
    return [] if item is None else [_value(kind, item)]


def _header(headers: object, name: str) -> object:
    """A header's value, looked up case-insensitively."""
    if not isinstance(headers, Mapping):
        return None
    return next((item for key, item in headers.items() if str(key).lower() == name), None)


def _network_traffic(obj: Mapping[str, object]) -> list[Value]:
    """User agent of ``http-request-ext``; JA3 hashes under any extension."""
    extensions = obj.get("extensions")
    if not isinstance(extensions, Mapping):
        return []
    found: list[Value] = []
    http = extensions.get("http-request-ext")
    if isinstance(http, Mapping):
        agent = _header(http.get("request_header"), "user-agent")
        if agent is not None:
            found.append(_value(IocType.USER_AGENT, agent))
    for extension in extensions.values():
        if isinstance(extension, Mapping):
            found.extend(_value(IocType.JA3, item) for key, item in extension.items() if str(key).lower() in _JA3_KEYS)
    return found


def values_from_sco(obj: Mapping[str, object]) -> list[Value]:
    """The observable values a STIX 2.1 cyber-observable object carries (see the module docstring), in a stable
    order; empty for an object type that carries none."""
    kind = obj.get("type")
    if not isinstance(kind, str):
        return []
    if kind in _SINGLE_VALUE:
        return _named(obj, "value", _SINGLE_VALUE[kind])
    found = _hashes(obj) if kind in _HASHED else []
    extra = _EXTRA.get(kind)
    return found + extra(obj) if extra is not None else found


_EXTRA: Final[dict[str, Callable[[Mapping[str, object]], list[Value]]]] = {
    "file": lambda obj: _named(obj, "name", IocType.FILENAME),
    "mutex": lambda obj: _named(obj, "name", IocType.MUTEX),
    "windows-registry-key": lambda obj: _named(obj, "key", IocType.REGKEY),
    "network-traffic": _network_traffic,
}


# --- pattern object paths ---------------------------------------------------------------------------------------

_INDEX = re.compile(r"\[[^\]]*\]")
_COMPONENT = re.compile(r"'([^']*)'|\"([^\"]*)\"|([^.'\"]+)")
_EMAIL_REFS: Final = frozenset({"from_ref", "sender_ref", "to_refs", "cc_refs", "bcc_refs"})
_PATHS: Final[dict[tuple[str, tuple[str, ...]], IocType]] = {
    ("file", ("name",)): IocType.FILENAME,
    ("mutex", ("name",)): IocType.MUTEX,
    ("windows-registry-key", ("key",)): IocType.REGKEY,
    **{(sco, ("value",)): kind for sco, kind in _SINGLE_VALUE.items()},
}


def parse_path(object_path: str) -> tuple[str, tuple[str, ...]] | None:
    """``file:hashes.'SHA-256'`` → (``file``, (``hashes``, ``SHA-256``)); list indexes (``[*]``, ``[0]``) dropped.
    None when there is no ``type:property``."""
    sco, colon, rest = object_path.strip().partition(":")
    if not colon or not sco or not rest:
        return None
    rest = _INDEX.sub("", rest)
    return sco, tuple(next(part for part in match.groups() if part is not None) for match in _COMPONENT.finditer(rest))


def _path_type(sco: str, parts: tuple[str, ...]) -> IocType | Callable[[str], Value] | None:
    """What a parsed path holds: a type, a function typing the literal itself, or None."""
    simple = _PATHS.get((sco, parts))
    if simple is not None:
        return simple
    if sco in _HASHED and len(parts) == 2 and parts[0] == "hashes":
        return hash_type(parts[1])
    if sco == "email-message" and len(parts) == 2 and parts[0] in _EMAIL_REFS and parts[1] == "value":
        return IocType.EMAIL
    if sco == "network-traffic":
        return _network_traffic_path(parts)
    if sco == "domain-name" and parts == ("resolves_to_refs", "value"):
        return _address
    return None


def _network_traffic_path(parts: tuple[str, ...]) -> IocType | Callable[[str], Value] | None:
    """``src_ref.value``/``dst_ref.value``, the ``http-request-ext`` User-Agent header, a JA3 under an extension."""
    if parts in (("src_ref", "value"), ("dst_ref", "value")):
        return _address
    if len(parts) == 4 and parts[:3] == ("extensions", "http-request-ext", "request_header"):
        return IocType.USER_AGENT if parts[3].lower() == "user-agent" else None
    if len(parts) == 3 and parts[0] == "extensions" and parts[2].lower() in _JA3_KEYS:
        return IocType.JA3
    return None


@functools.lru_cache(maxsize=4096)
def _kind_of_path(object_path: str) -> IocType | Callable[[str], Value] | None:
    """What an object path holds (cached: a bundle uses a handful of distinct paths a million times)."""
    parsed = parse_path(object_path)
    return None if parsed is None else _path_type(*parsed)


def values_from_path(object_path: str, literal: str) -> Value | None:
    """The Value of a pattern comparison ``[object_path = 'literal']``; None when the path holds nothing indexed.

    ``literal`` is the string's content (quotes removed, escapes resolved). The paths are listed in the module
    docstring, e.g. ``ipv4-addr:value``, ``file:hashes.'SHA-256'``, ``email-message:from_ref.value``,
    ``network-traffic:extensions.'http-request-ext'.request_header.'User-Agent'``.
    """
    kind = _kind_of_path(object_path)
    if kind is None:
        return None
    return normalise(kind, literal) if isinstance(kind, IocType) else kind(literal)


def _cve_ids(obj: Mapping[str, object]) -> Iterable[str]:
    """The ``name`` when CVE-shaped, then every ``external_id`` of a ``cve`` external reference."""
    name = obj.get("name")
    if isinstance(name, str) and name.strip().upper().startswith("CVE-"):
        yield name
    references = obj.get("external_references")
    if not isinstance(references, list):
        return
    for reference in references:
        if isinstance(reference, Mapping) and str(reference.get("source_name", "")).lower() == "cve":
            external_id = reference.get("external_id")
            if isinstance(external_id, str):
                yield external_id


def values_from_sdo(obj: Mapping[str, object]) -> list[Value]:
    """CVE values of a ``vulnerability`` object, each once (by normalised value); empty for any other object."""
    if obj.get("type") != "vulnerability":
        return []
    found: dict[str, Value] = {}
    for text in _cve_ids(obj):
        value = normalise(IocType.CVE, text)
        found.setdefault(value.value, value)
    return list(found.values())
