"""The compiled indicator set and the two-stage match: a fast pass over a whole chunk, then exact checks per line.

Stage 1 (:meth:`Matcher.needles`) runs almost entirely in C: one ``bytes.translate`` maps every byte that cannot be
part of an indicator to a space (and folds ASCII case), one ``split`` and one ``set`` give the chunk's distinct
tokens, and set intersections against frozen sets find exact hits; parent domains come from a few set
comprehensions over the distinct tokens only (``a.b.evil.com`` → ``b.evil.com`` → ``evil.com``). Its result is the
set of *needles*: strings that every line holding a true match must contain. It never misses; it may over-select.

Stage 2 (:meth:`Matcher.match_line`) looks only at lines that contain a needle and applies the exact rules:

- a domain matches itself and its subdomains (``sub.evil.com``), never ``notevil.com`` nor ``evil.com.attacker.net``;
- IPv4 addresses are whole tokens (``10.1.1.10`` is not ``10.1.1.1``); IPv6 addresses in any notation (compressed,
  expanded, mixed) compare as 128-bit numbers; networks (CIDR) match by containment;
- URLs compare on host, port, path and query after the hub's normalisation, the scheme ignored;
- hashes are whole hexadecimal tokens, case-insensitive (a hash inside a longer hex run is not a match);
- e-mail addresses are exact (case-insensitive); the domain of an address is also a domain occurrence.

Stage 1 has two implementations that select the same lines: the compiled one (:mod:`herdsec.scan._prefilter`, a C
extension built at install; it hashes tokens without creating objects and reports candidate lines directly) and the
pure-Python one above, used where the extension could not be built. Both never miss; the compiled one may select a
few lines more (hash collisions, pieces it looks at that the Python pass does not), which stage 2 then rejects.

Tokens: letters, digits, ``. _ - @ + :`` and every non-ASCII byte (so Unicode domain names stay whole); anything else
separates. Each indicator is stored in the form it takes in a log: the hub's normalised value, plus the Unicode form
of an internationalised domain name.
"""

from __future__ import annotations

import bisect
import encodings.idna
import re
import socket
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from herdsec.ioc.normalise import normalise
from herdsec.ioc.types import IocType, Value

try:
    from herdsec.scan import _prefilter
except ImportError:  # not compiled here: the pure-Python first stage is used
    _prefilter = None  # type: ignore[assignment]

COMPILED = _prefilter is not None
"""Whether the compiled first stage is available."""

SCANNED_TYPES = frozenset(
    {
        IocType.IPV4,
        IocType.IPV6,
        IocType.CIDR,
        IocType.DOMAIN,
        IocType.URL,
        IocType.EMAIL,
        IocType.MD5,
        IocType.SHA1,
        IocType.SHA256,
        IocType.SHA512,
        IocType.JA3,
    }
)
"""Types the scanner looks for in logs; other indicator types (file names, mutexes, registry keys …) are skipped."""

_TOKEN_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789._-@+:") | frozenset(range(0x80, 0x100))
TABLE = bytes(
    (c + 32 if 65 <= c <= 90 else c) if (c in _TOKEN_BYTES or 65 <= c <= 90 or c == 10) else 32 for c in range(256)
)
"""Byte translation for lines: ASCII letters lowercased, token bytes kept, newlines kept, every other byte a space."""
CHUNK_TABLE = TABLE.replace(b":", b" ").replace(b"\n", b" ")
"""The same for the chunk pass, where ``:`` and newlines also separate (``host:port``; IPv6 addresses are found by
their groups)."""
_AT_DOMAIN = re.compile(rb"@([^ @]+)")
_TOKEN = re.compile(rb"[^ \n]+")
_DIGITS = frozenset(b"0123456789")
_V4 = re.compile(
    rb"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(?:\.(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}"
)
_URL_TEXT = re.compile(rb"[^\s\"'<>\\^`{|}]+")


@dataclass(frozen=True, slots=True)
class Hit:
    """One indicator seen on one line: its type, the indicator as normalised, and the text as it appears."""

    type: str
    indicator: str
    observed: str


@dataclass(slots=True)
class _Networks:
    """Networks of one address family: disjoint merged ranges for a one-bisect membership test, and the networks
    per prefix length for the (rare) exact attribution."""

    bits: int
    by_length: dict[int, set[int]] = field(default_factory=dict)
    starts: list[int] = field(default_factory=list)
    ends: list[int] = field(default_factory=list)

    def add(self, network: int, length: int) -> None:
        self.by_length.setdefault(length, set()).add(network >> (self.bits - length))

    def freeze(self) -> None:
        spans = sorted(
            (key << (self.bits - length), ((key + 1) << (self.bits - length)) - 1)
            for length, keys in self.by_length.items()
            for key in keys
        )
        for start, end in spans:
            if self.ends and start <= self.ends[-1] + 1:
                self.ends[-1] = max(self.ends[-1], end)
            else:
                self.starts.append(start)
                self.ends.append(end)

    def maybe(self, address: int) -> bool:
        index = bisect.bisect_right(self.starts, address) - 1
        return index >= 0 and address <= self.ends[index]

    def containing(self, address: int) -> list[tuple[int, int]]:
        """(network, prefix length) of every listed network holding ``address``."""
        return [
            ((address >> (self.bits - length)) << (self.bits - length), length)
            for length, keys in self.by_length.items()
            if address >> (self.bits - length) in keys
        ]


def _unicode_form(domain: str) -> str | None:
    """The Unicode spelling of a domain with punycode labels (as a log written in UTF-8 may show it)."""
    if "xn--" not in domain:
        return None
    try:
        return ".".join(encodings.idna.ToUnicode(label) for label in domain.split("."))
    except UnicodeError:
        return None


def url_key(value: str) -> str:
    """What two URLs must share to match: everything after ``scheme://`` of the normalised URL."""
    return value.partition("://")[2]


def _v6_number(text: bytes) -> int | None:
    try:
        return int.from_bytes(socket.inet_pton(socket.AF_INET6, text.decode("ascii")), "big")
    except (OSError, UnicodeDecodeError, ValueError):
        return None


def _v6_signatures(number: int) -> set[bytes]:
    """Pieces every spelling of an IPv6 address contains between colons: its first non-zero group among the first
    six (with and without leading zeros); for an address whose first six groups are zero, its last two groups and
    its last 32 bits as a dotted quad (``::ffff:1.2.3.4``)."""
    groups = [(number >> (16 * (7 - i))) & 0xFFFF for i in range(8)]
    for group in groups[:6]:
        if group:
            return {f"{group:x}".encode(), f"{group:04x}".encode()}
    found = {f"{g:x}".encode() for g in groups[6:] if g} | {f"{g:04x}".encode() for g in groups[6:] if g}
    return found | {socket.inet_ntoa((number & 0xFFFFFFFF).to_bytes(4, "big")).encode()}


def _v4_number(text: bytes) -> int:
    return int.from_bytes(socket.inet_aton(text.decode("ascii")), "big")


class Matcher:
    """The indicator set, compiled for scanning. Build with :meth:`add`, then :meth:`freeze`; share with worker
    processes by fork (it is read-only afterwards)."""

    def __init__(self, *, compiled: bool = COMPILED) -> None:
        """``compiled=False`` uses the pure-Python first stage even where the extension is built."""
        if compiled and not COMPILED:
            raise RuntimeError("the compiled first stage is not available (herdsec.scan._prefilter was not built)")
        self.compiled = compiled
        self._filter: _prefilter.Filter | None = None
        self._exact: dict[bytes, str] = {}
        self._domains: set[bytes] = set()
        self._url_hosts: set[bytes] = set()
        self._url_v6: set[int] = set()
        self._urls: dict[str, str] = {}
        self._v6: dict[int, str] = {}
        self._nets4 = _Networks(32)
        self._nets6 = _Networks(128)
        self._aliases: dict[bytes, str] = {}
        self._signatures: set[bytes] = set()
        self._net_keys: dict[int, set[bytes]] = {}
        self.probes: frozenset[bytes] = frozenset()
        self.net_keys: tuple[frozenset[bytes], ...] = ()
        self.exact: frozenset[bytes] = frozenset()
        self.domains: frozenset[bytes] = frozenset()
        self.url_hosts: frozenset[bytes] = frozenset()
        self.count = 0

    # --- building ------------------------------------------------------------------------------------------------

    def add(self, value: Value) -> bool:
        """Add a normalised, valid value; False when its type is not scanned for (or it cannot occur in a log)."""
        kind, text = value.type, value.value
        if kind not in SCANNED_TYPES or value.problem is not None:
            return False
        if kind is IocType.DOMAIN:
            self._add_domain(text)
        elif kind is IocType.IPV6:
            number = _v6_number(text.encode())
            if number is None:
                return False
            self._v6[number] = text
            self._signatures.update(_v6_signatures(number))
        elif kind is IocType.CIDR:
            if not self._add_network(text):
                return False
        elif kind is IocType.URL:
            if not self._add_url(text):
                return False
        else:
            self._exact.setdefault(text.encode(), kind.value)
        self.count += 1
        return True

    def add_many_canonical(self, kind: IocType, texts: list[str]) -> None:
        """Add many domains (without punycode labels), IPv4 addresses or hashes already in canonical form at once:
        the fast path of large lists (set and dict updates instead of one call per value)."""
        keys = [text.encode() for text in texts]
        before = len(self._exact)
        self._exact.update({key: kind.value for key in keys if key not in self._exact})
        if kind is IocType.DOMAIN:
            self._domains.update(keys)
        self.count += len(self._exact) - before

    def add_canonical(self, kind: IocType, text: str) -> None:
        """Add a domain, IPv4 address or hash already in canonical form (counted once, as ``add_many_canonical``)."""
        new = text.encode() not in self._exact
        if kind is IocType.DOMAIN:
            self._add_domain(text)
        else:
            self._exact.setdefault(text.encode(), kind.value)
        self.count += new

    def _add_domain(self, text: str) -> None:
        self._exact.setdefault(text.encode(), IocType.DOMAIN.value)
        self._domains.add(text.encode())
        unicode = _unicode_form(text)
        if unicode is not None:
            self._exact.setdefault(unicode.encode(), IocType.DOMAIN.value)
            self._domains.add(unicode.encode())
            self._aliases[unicode.encode()] = text

    def _add_network(self, text: str) -> bool:
        address, _, length_text = text.partition("/")
        length = int(length_text)
        if length < 1:  # /0 is every address: flagged by normalisation, refused here too
            return False
        if ":" in address:
            number = _v6_number(address.encode())
            if number is None or length < 8:
                return False
            self._nets6.add(number, length)
            first = number >> 112
            span = 1 << max(16 - length, 0)
            for group in range(first & ~(span - 1), (first & ~(span - 1)) + span):
                self._signatures.update({f"{group:x}".encode(), f"{group:04x}".encode()})
            return True
        number = _v4_number(address.encode())
        self._nets4.add(number, length)
        octets = min(-(-length // 8), 3)  # the dotted prefix that fixes the network: 1, 2 or 3 octets
        span = 1 << (8 * octets - length) if length < 8 * octets else 1
        base = number >> (32 - 8 * octets)
        keys = self._net_keys.setdefault(octets, set())
        for key in range(base & ~(span - 1), (base & ~(span - 1)) + span):
            keys.add(".".join(str((key >> (8 * (octets - 1 - i))) & 255) for i in range(octets)).encode())
        return True

    def _add_url(self, text: str) -> bool:
        rest = url_key(text)
        host = rest.split("/", 1)[0].rpartition("@")[2]
        host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
        if not host:
            return False
        self._urls[rest] = text
        if ":" in host:  # an IPv6 literal: found in logs by its number, whatever its notation
            number = _v6_number(host.encode())
            if number is None:
                return False
            self._url_v6.add(number)
            self._signatures.update(_v6_signatures(number))
        else:
            self._url_hosts.add(host.encode())
        return True

    def freeze(self) -> Matcher:
        self.url_hosts = frozenset(self._url_hosts)
        if self.compiled:
            self._filter = _prefilter.Filter(CHUNK_TABLE)
            self._filter.add(self._exact, _prefilter.PROBE)
            self._filter.add(self._url_hosts, _prefilter.PROBE)
            self._filter.add(self._signatures, _prefilter.PROBE)
            self._filter.add(self._domains, _prefilter.DOMAIN)
            for keys in self._net_keys.values():
                self._filter.add(keys, _prefilter.NET)
            self._filter.freeze()
        else:
            self.exact = frozenset(self._exact)
            self.domains = frozenset(self._domains)
            self.probes = self.exact | self.url_hosts | frozenset(self._signatures)
            self.net_keys = tuple(frozenset(self._net_keys.get(octets, ())) for octets in (1, 2, 3))
        self._nets4.freeze()
        self._nets6.freeze()
        self._domains = set()
        self._signatures = set()
        self._net_keys = {}
        return self

    @property
    def has_urls(self) -> bool:
        return bool(self._urls)

    @property
    def has_v6(self) -> bool:
        return bool(self._v6 or self._nets6.starts)

    # --- stage 1: a whole chunk ----------------------------------------------------------------------------------

    def candidate_lines(self, data: bytes) -> tuple[int, list[tuple[int, bytes]]]:
        """The number of lines in a chunk of whole lines, and the (1-based line number, raw line) of every line that
        may hold a match, in order: stage 1, compiled or in Python."""
        if self._filter is not None:
            count, found = self._filter.lines(data)
            return count, [(number, data[start:end]) for number, start, end in found]
        count = data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)
        translated = data.translate(CHUNK_TABLE)
        needles = self.needles(translated)
        return count, list(_lines_with(data, translated, needles)) if needles else []

    def needles(self, translated: bytes) -> set[bytes]:
        """Strings that every line of the chunk holding a match contains (``translated`` =
        ``chunk.translate(CHUNK_TABLE)``): exact tokens, listed parent domains, URL hosts, IPv6 group signatures,
        dotted network prefixes. All set operations, plus one comprehension per domain level over distinct tokens."""
        tokens = {token.rstrip(b".") for token in translated.split()}  # as stage 2 does: trailing dots dropped
        if b"@" in translated:
            tokens.update(piece.rstrip(b".") for piece in _AT_DOMAIN.findall(translated))
        found = tokens & self.probes
        if self._nets4.starts:
            prefixes = tokens
            for keys in reversed(self.net_keys):  # a.b.c, then a.b, then a
                prefixes = {t.rpartition(b".")[0] for t in prefixes}
                found |= prefixes & keys
        parents = tokens
        while True:
            parents = {t.partition(b".")[2] for t in parents}
            parents.discard(b"")
            if not parents:
                break
            found |= parents & self.domains
        return found

    # --- stage 2: one line ---------------------------------------------------------------------------------------

    def match_line(self, line: bytes, extra_urls: Iterable[str] = ()) -> list[Hit]:
        """Every indicator on ``line`` (raw bytes), exactly; ``extra_urls`` are URLs a reader rebuilt from fields."""
        translated = line.translate(TABLE)
        hits: dict[tuple[str, str], Hit] = {}
        url_hosts: set[bytes] = set()
        exact, listed_hosts = self._exact, self.url_hosts
        for offset, whole in self._line_tokens(line, translated):
            if (
                b"." not in whole
                and b":" not in whole
                and b"@" not in whole
                and whole not in exact
                and whole not in listed_hosts
            ):
                continue  # a plain word: it can only be a listed value itself, and it is not
            for token, start, end in _candidates(whole, offset):
                found = self._token_hits(token)
                if found:
                    observed = line[start:end].decode("utf-8", "replace")
                    for kind, indicator in found:
                        hits.setdefault((kind, indicator), Hit(kind, indicator, observed))
                if token in listed_hosts or (self._url_v6 and b":" in token and _v6_number(token) in self._url_v6):
                    url_hosts.add(token)
        if url_hosts or extra_urls:
            for hit in self._url_hits(line, url_hosts, extra_urls):
                hits.setdefault((hit.type, hit.indicator), hit)
        return list(hits.values())

    def _line_tokens(self, line: bytes, translated: bytes) -> Iterator[tuple[int, bytes]]:
        """(offset, token) of the line's tokens that may hold a match, in order. With the compiled stage: only the
        tokens around what it reports (a token here keeps ``:``, so it may join several of the first stage's
        tokens: ``host:port``, IPv6 groups); a match always lies in a token the first stage reports (a listed value,
        a listed parent, a network prefix, an IPv6 group signature, a URL host). Without it: every token."""
        if self._filter is None:
            for match in _TOKEN.finditer(translated):
                yield match.start(), match[0]
            return
        after = -1
        for start, _end in self._filter.spans(line):
            if start < after:
                continue  # inside the token already given
            first = max(translated.rfind(b" ", 0, start), translated.rfind(b"\n", 0, start)) + 1
            end = _TOKEN.match(translated, first)
            if end is None:
                continue
            after = end.end()
            yield first, end[0]

    def _token_hits(self, token: bytes) -> list[tuple[str, str]]:
        """(type, indicator) of every listed value a token is or lies in."""
        found: list[tuple[str, str]] = []
        kind = self._exact.get(token)
        if kind is not None:
            found.append((kind, self._aliases.get(token) or token.decode("utf-8", "replace")))
        if b":" in token:
            self._v6_hits(token, found)
        elif b"." in token:
            self._parent_hits(token, found)
            if self._nets4.starts and _V4.fullmatch(token):
                number = _v4_number(token)
                for network, length in self._nets4.containing(number):
                    found.append((IocType.CIDR.value, f"{socket.inet_ntoa(network.to_bytes(4, 'big'))}/{length}"))
        return found

    def _parent_hits(self, token: bytes, found: list[tuple[str, str]]) -> None:
        dot = token.find(b".")
        while dot >= 0:
            parent = token[dot + 1 :]
            if self._exact.get(parent) == IocType.DOMAIN.value and b"." in parent:
                found.append((IocType.DOMAIN.value, self._aliases.get(parent) or parent.decode("utf-8", "replace")))
            dot = token.find(b".", dot + 1)

    def _v6_hits(self, token: bytes, found: list[tuple[str, str]]) -> None:
        if not self.has_v6 or (b"::" not in token and token.count(b":") < 6):
            return
        number = _v6_number(token)
        if number is None:
            return
        if number in self._v6:
            found.append((IocType.IPV6.value, self._v6[number]))
        for network, length in self._nets6.containing(number):
            prefix = socket.inet_ntop(socket.AF_INET6, network.to_bytes(16, "big"))
            found.append((IocType.CIDR.value, f"{prefix}/{length}"))

    def _url_hits(self, line: bytes, hosts: set[bytes], extra: Iterable[str]) -> Iterator[Hit]:
        texts = list(extra)
        lowered = line.lower()
        for host in hosts:
            position = lowered.find(host)
            while position >= 0:
                text = _url_around(line, position)
                if text is not None:
                    texts.append(text)
                position = lowered.find(host, position + 1)
        for text in texts:
            value = normalise(IocType.URL, text)
            if value.problem is None and url_key(value.value) in self._urls:
                yield Hit(IocType.URL.value, self._urls[url_key(value.value)], text)


def _lines_with(data: bytes, translated: bytes, needles: set[bytes]) -> Iterator[tuple[int, bytes]]:
    """(1-based line number in the chunk, raw line) of every line containing a needle, in order."""
    starts: set[int] = set()
    for needle in needles:
        position = translated.find(needle)
        while position >= 0:
            starts.add(data.rfind(b"\n", 0, position) + 1)
            line_end = data.find(b"\n", position)
            position = -1 if line_end < 0 else translated.find(needle, line_end + 1)
    number, counted = 1, 0
    for line_start in sorted(starts):
        number += data.count(b"\n", counted, line_start)
        counted = line_start
        line_end = data.find(b"\n", line_start)
        yield number, data[line_start : line_end if line_end >= 0 else len(data)]


def _candidates(token: bytes, offset: int) -> Iterator[tuple[bytes, int, int]]:
    """A token and the pieces to check in it: trailing dots dropped; ``host:port`` split; an e-mail's domain."""
    stripped = token.rstrip(b".")
    if not stripped:
        return
    yield stripped, offset, offset + len(stripped)
    if b":" in stripped:
        position = offset
        for piece in stripped.split(b":"):
            piece_clean = piece.rstrip(b".")
            if piece_clean and piece != stripped:
                yield piece_clean, position, position + len(piece_clean)
            position += len(piece) + 1
    if b"@" in stripped:
        local, _, domain = stripped.rpartition(b"@")
        domain = domain.partition(b":")[0]
        if domain:
            start = offset + len(local) + 1
            yield domain, start, start + len(domain)


def _url_around(line: bytes, position: int) -> str | None:
    """The URL written around a host found at ``position``: its scheme when ``scheme://`` directly precedes the host
    (else ``http://`` is assumed) and what follows up to a separator. None when the host is only the end of a longer
    name (``notevil.com`` for ``evil.com``)."""
    before = line[position - 1 : position]
    if before == b"[":  # an IPv6 literal host: the bracket is part of the URL
        position -= 1
        before = line[position - 1 : position]
    if before and (before.isalnum() or before in b".-_"):
        return None
    match = _URL_TEXT.match(line, position)
    tail = match[0] if match else b""
    head = b"http://"
    if line[max(0, position - 3) : position] == b"://":
        start = position - 3
        while start > 0 and (line[start - 1 : start].isalnum() or line[start - 1 : start] in (b"+", b".", b"-")):
            start -= 1
        if start < position - 3:
            head = line[start:position]
    return (head + tail).decode("utf-8", "replace").rstrip(".,;)]")
