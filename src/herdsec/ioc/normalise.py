"""Normalise observable values to the one form that is indexed and compared, and guess the type of a bare token.

``normalise`` never raises for a bad value: it returns a ``Value`` whose ``problem`` says what is wrong and whose
``value`` is a best effort (the trimmed text, lowercased where the type ignores case). The returned type may differ
from the one asked for in one documented way: a network of a single address (``/32``, ``/128``) is that address, and
an ``ipv4``/``ipv6`` value written with a prefix length is a ``cidr`` (STIX ``ipv4-addr`` values may be networks).

Internationalised domain names use Python's built-in IDNA 2003 codec (``encodings.idna``: nameprep, then punycode),
label by label, so no third-party package is needed. For Vietnamese names IDNA 2003 and IDNA 2008 agree (NFC
letters with diacritics, case folded); they differ only for a few characters such as ``ß`` and joiners.

The common case is cheap: a value that is already canonical ASCII is recognised by one compiled regular expression
and returned without any other work.
"""

from __future__ import annotations

import encodings.idna
import ipaddress
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from herdsec.ioc.types import IocType, Value

MAX_LENGTH: Final = 8192
"""Longer values are refused (flagged) without further work: no indicator is that long."""

# --- file extensions versus top-level domains -------------------------------------------------------------------

_FILE_EXTENSIONS_TEXT: Final = (
    "exe dll sys drv ocx cpl scr msi msp msc bat cmd ps1 psm1 vbs vbe js jse wsf wsh hta lnk url pif reg inf "
    "jar apk ipa dex elf bin dat tmp log ini cfg conf iso img vhd vhdx vmdk ova dmg pkg deb rpm "
    "doc docx docm dotm xls xlsx xlsm xlsb xll xla ppt pptx pptm pps ppsx rtf pdf txt csv odt ods odp "
    "html htm xhtml xml json yaml yml php asp aspx jsp cgi go ts rb cs lua sql "
    "rar 7z gz tgz bz2 xz tar arj ace lzh lz uue "
    "png jpg jpeg gif bmp svg ico tif tiff webp mp3 mp4 avi wav mkv wmv "
    "chm eml msg hlp dylib bak db sqlite pem crt cer der p12 pfx gpg pcap pcapng evtx dmp"
)
FILE_EXTENSIONS: Final = frozenset(_FILE_EXTENSIONS_TEXT.split())
"""File extensions that are not top-level domains (checked against the IANA list): ``report.pdf`` is a file name."""

_AMBIGUOUS_TEXT: Final = "zip mov sh py pl rs md ps ai so cc one pub app run bz ml dot cab"
AMBIGUOUS_EXTENSIONS: Final = frozenset(_AMBIGUOUS_TEXT.split())
"""Extensions that are also top-level domains (``.zip``, ``.mov`` …). ``com`` is left out: it is a domain."""

_ANY_EXTENSION: Final = FILE_EXTENSIONS | AMBIGUOUS_EXTENSIONS


def looks_like_filename(token: str) -> bool:
    """Whether a dotted token is a file name rather than a domain.

    Rule: the last label is a file extension that is not a TLD (``report.pdf``); or it is an extension that is also a
    TLD (``.zip``, ``.mov``, ``.py`` …) and the token is ``name.ext`` (two labels: ``invoice.zip``) or has a double
    extension (``setup.exe.zip``). So ``invoice.zip`` is a file name while ``www.invoice.zip`` is a domain; a
    two-label domain on such a TLD is taken as a file name (retype it on review).
    """
    head, dot, ext = token.rpartition(".")
    if not dot:
        return False
    ext = ext.lower()
    if ext in FILE_EXTENSIONS:
        return True
    if ext not in AMBIGUOUS_EXTENSIONS:
        return False
    previous = head.rpartition(".")
    return not previous[1] or previous[2].lower() in _ANY_EXTENSION


# --- IPv4, IPv6, CIDR -------------------------------------------------------------------------------------------

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")
_IPV4_SHAPE = re.compile(r"[0-9]+(?:\.[0-9]+){3}")


def _ipv4_problem(text: str) -> str | None:
    """None for a canonical dotted quad; leading zeros are refused (octal or decimal? tools disagree)."""
    if _IPV4.fullmatch(text):
        return None
    if not _IPV4_SHAPE.fullmatch(text):
        return "not a dotted-quad IPv4 address"
    parts = text.split(".")
    if any(len(part) > 1 and part[0] == "0" for part in parts):
        return "leading zero in an IPv4 octet (octal or decimal?)"
    return "IPv4 octet above 255"


def _ipv6_canonical(address: ipaddress.IPv6Address) -> str:
    """RFC 5952 compressed lowercase; IPv4-mapped addresses as ``::ffff:a.b.c.d`` whatever the Python version."""
    mapped = address.ipv4_mapped
    return address.compressed if mapped is None else f"::ffff:{mapped}"


def _ipv6_text(text: str) -> tuple[str, str | None]:
    """(canonical, problem) for an IPv6 address, brackets allowed; zone ids (``%eth0``) are refused."""
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:
        return text.lower(), "IPv6 zone id (%…) is local to one host"
    try:
        address = ipaddress.IPv6Address(text)
    except ValueError:
        return text.lower(), "not an IPv6 address"
    return _ipv6_canonical(address), None


def _ipv4(raw: str) -> Value:
    """Dotted quad, no leading zeros; with a ``/prefix`` it is a network (see ``_cidr``)."""
    if _IPV4.fullmatch(raw):
        return Value(IocType.IPV4, raw, raw)
    text = raw.strip()
    if "/" in text:
        return _cidr(raw)
    return Value(IocType.IPV4, text, raw, _ipv4_problem(text))


def _ipv6(raw: str) -> Value:
    """Any IPv6 notation becomes the compressed lowercase form; with a ``/prefix`` it is a network."""
    text = raw.strip()
    if "/" in text:
        return _cidr(raw)
    if "." in text and ":" not in text:
        return Value(IocType.IPV6, text, raw, "an IPv4 address, not IPv6")
    value, problem = _ipv6_text(text)
    return Value(IocType.IPV6, value, raw, problem)


def _host_address(raw: str, text: str) -> Value:
    """A network written without a prefix length is that one address."""
    return _ipv6(raw) if ":" in text else _ipv4(raw)


def _cidr(raw: str) -> Value:
    """``address/prefix`` → the network (host bits cleared, not flagged: ``10.1.2.3/8`` is ``10.0.0.0/8``).

    A /32 (IPv4) or /128 (IPv6) network is the plain address, typed ``ipv4``/``ipv6``; a /0 network is flagged
    (it would match every address).
    """
    text = raw.strip()
    address_text, slash, prefix_text = text.partition("/")
    if not slash:
        return _host_address(raw, text)
    if not (prefix_text.isascii() and prefix_text.isdigit() and len(prefix_text) <= 3):
        return Value(IocType.CIDR, text.lower(), raw, "prefix length is not a number")
    prefix = int(prefix_text)
    if ":" in address_text:
        address, problem = _ipv6_text(address_text)
        bits = 128
    else:
        address, problem = address_text, _ipv4_problem(address_text)
        bits = 32
    if problem is None and prefix > bits:
        problem = f"prefix length above {bits}"
    if problem is not None:
        return Value(IocType.CIDR, f"{address}/{prefix_text}".lower(), raw, problem)
    return _network_value(raw, address, prefix, bits)


def _network_value(raw: str, address: str, prefix: int, bits: int) -> Value:
    """The Value for a valid address and prefix length."""
    network = ipaddress.ip_network((address, prefix), strict=False)
    first = network.network_address
    first_text = _ipv6_canonical(first) if isinstance(first, ipaddress.IPv6Address) else str(first)
    if prefix == bits:
        return Value(IocType.IPV6 if bits == 128 else IocType.IPV4, first_text, raw)
    problem = "a /0 network covers every address" if prefix == 0 else None
    return Value(IocType.CIDR, f"{first_text}/{prefix}", raw, problem)


# --- domains ----------------------------------------------------------------------------------------------------

_CANONICAL_DOMAIN = re.compile(r"(?:[a-z0-9_-]{1,63}\.)+(?![0-9]+\Z)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_ASCII_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
_TOP_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SPACE_OR_CONTROL = re.compile(r"[\s\x00-\x1f\x7f]")
_DOTS = str.maketrans({"。": ".", "．": ".", "｡": "."})


def _is_canonical_domain(text: str) -> bool:
    """Fast path: lowercase ASCII labels, valid shape, no punycode to check."""
    return len(text) <= 253 and "xn--" not in text and _CANONICAL_DOMAIN.fullmatch(text) is not None


def _punycode_label(label: str) -> tuple[str, str | None]:
    """An ``xn--`` label is decoded and re-encoded, so every spelling of one name gives one A-label."""
    try:
        unicode_label = encodings.idna.ToUnicode(label)
        ascii_label = encodings.idna.ToASCII(unicode_label).decode("ascii").lower()
    except UnicodeError:
        return label, f"invalid punycode label {label!r}"
    if not _ASCII_LABEL.fullmatch(ascii_label):
        return label, f"invalid punycode label {label!r}"
    return ascii_label, None


def _unicode_label(label: str) -> tuple[str, str | None]:
    """A Unicode label becomes its A-label (nameprep: NFKC and case folding, then punycode)."""
    if len(label) > 63:
        return label.lower(), "label longer than 63 characters"
    try:
        ascii_label = encodings.idna.ToASCII(label).decode("ascii").lower()
    except UnicodeError:
        return label.lower(), f"label {label!r} is not a valid internationalised name"
    if not _ASCII_LABEL.fullmatch(ascii_label):
        return label.lower(), f"label {label!r} has characters other than letters, digits, '-' and '_'"
    return ascii_label, None


def _a_label(label: str) -> tuple[str, str | None]:
    """One label, lowercased, as an A-label: letters, digits, hyphens and underscores (``_dmarc``), 1–63 long."""
    if not label:
        return label, "empty label"
    if not label.isascii():
        return _unicode_label(label)
    lowered = label.lower()
    if lowered.startswith("xn--"):
        return _punycode_label(lowered)
    if len(lowered) > 63:
        return lowered, "label longer than 63 characters"
    if not _ASCII_LABEL.fullmatch(lowered):
        return lowered, f"label {label!r} has characters other than letters, digits, '-' and '_'"
    return lowered, None


def _shape_problem(labels: list[str], value: str, single_label: bool) -> str | None:
    """At least two labels (unless allowed), a top-level label that is not all digits, at most 253 characters."""
    if len(labels) < 2 and not single_label:
        return "a domain needs at least two labels"
    top = labels[-1]
    if top.isdigit():
        return "top-level label is numeric"
    if not _TOP_LABEL.fullmatch(top):
        return f"invalid top-level label {top!r}"
    if len(value) > 253:
        return "domain longer than 253 characters"
    return None


def _domain_text(text: str, *, single_label: bool = False) -> tuple[str, str | None]:
    """(canonical, problem) for a host name: lowercase A-labels, one trailing dot removed.

    Ideographic and full-width dots (``。`` ``．``) separate labels as in IDNA. Whitespace or control characters, an
    empty label or a bad character is a problem; the value is then the lowercased text.
    """
    text = text.strip().translate(_DOTS)
    if text.endswith("."):
        text = text[:-1]
    if not text:
        return "", "empty domain"
    if _SPACE_OR_CONTROL.search(text):
        return text.lower(), "contains whitespace or a control character"
    labels: list[str] = []
    for label in text.split("."):
        ascii_label, problem = _a_label(label)
        if problem is not None:
            return text.lower(), problem
        labels.append(ascii_label)
    value = ".".join(labels)
    return value, _shape_problem(labels, value, single_label)


def _domain(raw: str) -> Value:
    """Lowercase, trailing dot removed, IDNA A-labels (``bộcôngan.vn`` → ``xn--bcngan-jxa6332d.vn``)."""
    if _is_canonical_domain(raw):
        return Value(IocType.DOMAIN, raw, raw)
    if len(raw) > 1024:
        return Value(IocType.DOMAIN, raw.strip().lower(), raw, "domain longer than 253 characters")
    value, problem = _domain_text(raw)
    return Value(IocType.DOMAIN, value, raw, problem)


def _host(text: str) -> tuple[str, str | None]:
    """A URL host: ``[IPv6]``, a dotted-quad IPv4 or a domain (a single label such as ``localhost`` is allowed)."""
    if not text:
        return "", "URL without a host"
    if text.startswith("["):
        value, problem = _ipv6_text(text)
        return f"[{value}]", problem
    if _IPV4_SHAPE.fullmatch(text):
        return text, _ipv4_problem(text)
    return _domain_text(text, single_label=True)


# --- URLs -------------------------------------------------------------------------------------------------------

_URL_FAST = re.compile(
    r"https?://([a-z0-9_.-]+)/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/?]*)?"
)
_URL_PARTS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[^?#]*)(?:\?(?P<query>[^#]*))?(?:#.*)?",
    re.DOTALL,
)
_OPAQUE_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):(?!//|[0-9]*(?:[/?#]|\Z))")
_REFUSED_SCHEMES: Final = frozenset({"javascript", "data", "vbscript"})
_SCHEME_ALIASES: Final = {"hxxp": "http", "hxxps": "https", "fxp": "ftp"}
_DEFAULT_PORTS: Final = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_TO_ESCAPE = re.compile(r'[^\x21-\x7e]|["<>`{}]')
_UNRESERVED: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def _escape_case(match: re.Match[str]) -> str:
    """Decode an escaped unreserved character, uppercase any other escape."""
    char = chr(int(match[1], 16))
    return char if char in _UNRESERVED else f"%{match[1].upper()}"


def _escape_char(match: re.Match[str]) -> str:
    """Percent-encode (UTF-8) a character that may not appear raw in a URL."""
    return "".join(f"%{byte:02X}" for byte in match[0].encode("utf-8", "surrogatepass"))


def _percent(text: str) -> str:
    """RFC 3986 §6.2.2 escapes: uppercase hex, unreserved characters decoded; spaces, controls, ``"<>`{}`` and
    non-ASCII characters percent-encoded as UTF-8 (as browsers send them)."""
    if "%" in text:
        text = _ESCAPE.sub(_escape_case, text)
    return _TO_ESCAPE.sub(_escape_char, text)


def _port(text: str, scheme: str) -> tuple[str, str | None]:
    """``:port`` without leading zeros, dropped when it is the scheme's default."""
    if not text:
        return "", None
    if not (text.isascii() and text.isdigit() and len(text) <= 5) or int(text) > 65535:
        return f":{text}", f"invalid port {text!r}"
    port = int(text)
    return ("", None) if _DEFAULT_PORTS.get(scheme) == port else (f":{port}", None)


def _split_host_port(host_port: str) -> tuple[str, str]:
    """``host:port`` or ``[v6]:port`` → (host, port text)."""
    if host_port.startswith("["):
        end = host_port.find("]") + 1
        if end and host_port[end : end + 1] in ("", ":"):
            return host_port[:end], host_port[end + 1 :]
        return host_port, ""
    host, _, port = host_port.partition(":")
    return host, port


def _authority(authority: str, scheme: str) -> tuple[str, str | None]:
    """userinfo kept as written; host normalised as a domain or IP address; default port dropped."""
    userinfo, at, host_port = authority.rpartition("@")
    host_text, port_text = _split_host_port(host_port)
    host, problem = _host(host_text)
    port, port_problem = _port(port_text, scheme)
    return f"{userinfo}{at}{host}{port}", problem or port_problem


def _url_parts(text: str) -> re.Match[str] | str:
    """The URL's parts, or why it has none; a URL written without ``scheme://`` is taken as ``http://``."""
    match = _URL_PARTS.fullmatch(text)
    if match is not None:
        return match
    opaque = _OPAQUE_SCHEME.match(text)
    if opaque is not None:
        scheme = opaque[1].lower()
        return f"{scheme}: URLs are refused" if scheme in _REFUSED_SCHEMES else "URL without a host"
    prefix = "http:" if text.startswith("//") else "http://"
    return _URL_PARTS.fullmatch(prefix + text) or "not a URL"


def _url(raw: str) -> Value:
    """scheme lowercased; host as a domain or IP; default port dropped; empty path → ``/``; percent-escapes
    normalised in path and query; fragment removed. The query is otherwise kept as is (order, ``+``, an empty
    ``?``). ``javascript:``, ``data:`` and ``vbscript:`` are refused; a defanged ``hxxp(s)``/``fxp`` scheme is
    read as ``http(s)``/``ftp``. Dot segments (``/a/../b``) are kept: logs
    record them as sent."""
    match = _URL_FAST.fullmatch(raw)
    if match is not None and _is_canonical_domain(match[1]):
        return Value(IocType.URL, raw, raw)
    text = raw.strip()
    parts = _url_parts(text)
    if isinstance(parts, str):
        return Value(IocType.URL, text, raw, parts)
    scheme = parts["scheme"].lower()
    scheme = _SCHEME_ALIASES.get(scheme, scheme)
    authority, problem = _authority(parts["authority"], scheme)
    query = parts["query"]
    value = f"{scheme}://{authority}{_percent(parts['path']) or '/'}{'' if query is None else '?' + _percent(query)}"
    if scheme in _REFUSED_SCHEMES:
        problem = f"{scheme}: URLs are refused"
    return Value(IocType.URL, value, raw, problem)


# --- e-mail -----------------------------------------------------------------------------------------------------

_EMAIL_FAST = re.compile(r"[a-z0-9._%+-]{1,64}@([a-z0-9_.-]+)")
_BAD_LOCAL = re.compile(r'[\s\x00-\x1f\x7f@<>()\[\],;:"\\]')


def _email(raw: str) -> Value:
    """``local@domain``, both parts lowercased (providers ignore case in practice; RFC 5321 lets the local part be
    case-sensitive, but correlation must not miss ``John@x`` for ``john@x``); the domain as for ``domain``.
    A leading ``mailto:`` is dropped."""
    match = _EMAIL_FAST.fullmatch(raw)
    if match is not None and _is_canonical_domain(match[1]):
        return Value(IocType.EMAIL, raw, raw)
    text = raw.strip()
    if text[:7].lower() == "mailto:":
        text = text[7:]
    local, at, domain_text = text.rpartition("@")
    if not at or not local:
        return Value(IocType.EMAIL, text.lower(), raw, "not an e-mail address (local@domain)")
    domain, problem = _domain_text(domain_text)
    if len(local) > 64 or _BAD_LOCAL.search(local):
        problem = "invalid local part"
    return Value(IocType.EMAIL, f"{local.lower()}@{domain}", raw, problem)


# --- hashes, CVE and the free-form types ------------------------------------------------------------------------

_HEX_PAIRS = re.compile(r"[0-9a-f]{2}(?::[0-9a-f]{2})+")


def _hex_normaliser(kind: IocType, digits: int) -> Callable[[str], Value]:
    """Hex of exactly ``digits`` digits, lowercase; colon-separated pairs (certificate fingerprints) accepted."""
    canonical = re.compile(f"[0-9a-f]{{{digits}}}")

    def normalise_hex(raw: str) -> Value:
        if canonical.fullmatch(raw):
            return Value(kind, raw, raw)
        text = raw.strip().lower()
        if ":" in text and _HEX_PAIRS.fullmatch(text):
            text = text.replace(":", "")
        if canonical.fullmatch(text):
            return Value(kind, text, raw)
        return Value(kind, text, raw, f"expected {digits} hexadecimal digits")

    return normalise_hex


_CVE = re.compile(r"CVE-[0-9]{4}-[0-9]{4,}")
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—", "-"))


def _cve(raw: str) -> Value:
    """``CVE-YYYY-NNNN…`` uppercase; typographic dashes (as in pasted reports) read as ``-``."""
    if _CVE.fullmatch(raw):
        return Value(IocType.CVE, raw, raw)
    text = raw.strip().translate(_DASHES).upper()
    return Value(IocType.CVE, text, raw, None if _CVE.fullmatch(text) else "not a CVE id (CVE-YYYY-NNNN)")


def _filename(raw: str) -> Value:
    """Trimmed, case kept; a ``/``, ``\\`` (a path, not a name) or NUL is a problem."""
    text = raw.strip()
    if not text:
        return Value(IocType.FILENAME, text, raw, "empty file name")
    bad = "/" in text or "\\" in text or "\x00" in text
    return Value(IocType.FILENAME, text, raw, "a path or NUL, not a file name" if bad else None)


def _trimmed(kind: IocType) -> Callable[[str], Value]:
    """Trimmed, case kept (mutex names and user agents are compared exactly); empty is a problem."""

    def normalise_trimmed(raw: str) -> Value:
        text = raw.strip()
        return Value(kind, text, raw, None if text else f"empty {kind.value}")

    return normalise_trimmed


_LONG_HIVES: Final = (
    "HKEY_LOCAL_MACHINE",
    "HKEY_CURRENT_USER",
    "HKEY_CLASSES_ROOT",
    "HKEY_USERS",
    "HKEY_CURRENT_CONFIG",
    "HKEY_PERFORMANCE_DATA",
)
_HIVES: Final = {
    "HKLM": "HKEY_LOCAL_MACHINE",
    "HKCU": "HKEY_CURRENT_USER",
    "HKCR": "HKEY_CLASSES_ROOT",
    "HKU": "HKEY_USERS",
    "HKCC": "HKEY_CURRENT_CONFIG",
    "HKPD": "HKEY_PERFORMANCE_DATA",
    "\\REGISTRY\\MACHINE": "HKEY_LOCAL_MACHINE",
    "\\REGISTRY\\USER": "HKEY_USERS",
} | {hive: hive for hive in _LONG_HIVES}
_HIVE = re.compile(r"(?:COMPUTER\\)?(\\REGISTRY\\(?:MACHINE|USER)|[A-Z_]+):?(?=\\|\Z)", re.IGNORECASE)
_BACKSLASHES = re.compile(r"\\{2,}")


def _regkey(raw: str) -> Value:
    """The hive in its long uppercase form (``HKLM``, ``hklm:``, ``\\REGISTRY\\MACHINE`` → ``HKEY_LOCAL_MACHINE``;
    a leading ``Computer\\`` as regedit shows it is dropped), the rest's case kept, doubled backslashes collapsed,
    trailing backslashes removed. Windows compares keys case-insensitively: compare ``value.casefold()`` if needed."""
    text = _BACKSLASHES.sub(r"\\", raw.strip()).rstrip("\\")
    match = _HIVE.match(text)
    hive = _HIVES.get(match[1].upper()) if match else None
    if match is None or hive is None:
        return Value(IocType.REGKEY, text, raw, "unknown registry hive" if text else "empty registry key")
    return Value(IocType.REGKEY, hive + text[match.end() :], raw)


_NORMALISERS: Final[dict[IocType, Callable[[str], Value]]] = {
    IocType.IPV4: _ipv4,
    IocType.IPV6: _ipv6,
    IocType.CIDR: _cidr,
    IocType.DOMAIN: _domain,
    IocType.URL: _url,
    IocType.EMAIL: _email,
    IocType.MD5: _hex_normaliser(IocType.MD5, 32),
    IocType.SHA1: _hex_normaliser(IocType.SHA1, 40),
    IocType.SHA256: _hex_normaliser(IocType.SHA256, 64),
    IocType.SHA512: _hex_normaliser(IocType.SHA512, 128),
    IocType.FILENAME: _filename,
    IocType.MUTEX: _trimmed(IocType.MUTEX),
    IocType.REGKEY: _regkey,
    IocType.USER_AGENT: _trimmed(IocType.USER_AGENT),
    IocType.JA3: _hex_normaliser(IocType.JA3, 32),
    IocType.CVE: _cve,
}


def normalise(type: IocType, raw: str) -> Value:
    """The normalised Value of ``raw`` read as ``type``; never raises: a malformed value carries a ``problem``.

    The rules, one per type, are in the docstrings of this module's ``_<type>`` functions.
    """
    if len(raw) > MAX_LENGTH:
        return Value(type, raw.strip()[:MAX_LENGTH], raw, f"longer than {MAX_LENGTH} characters")
    return _NORMALISERS[type](raw)


# --- detection --------------------------------------------------------------------------------------------------

_HEX = re.compile(r"[0-9A-Fa-f]+")
_HASH_BY_LENGTH: Final = {32: IocType.MD5, 40: IocType.SHA1, 64: IocType.SHA256, 128: IocType.SHA512}
_CVE_LOOSE = re.compile(r"CVE[-‐‑‒–—][0-9]{4}[-‐‑‒–—][0-9]{4,}", re.IGNORECASE)
_REGKEY_START = re.compile(r"(?:COMPUTER\\)?(?:HK(?:LM|CU|CR|CC|U|PD)|HKEY_[A-Z_]+|\\REGISTRY\\)(?::)?\\", re.I)
_WHITESPACE = re.compile(r"\s")
_NOT_IN_HOST = re.compile(r"""[\s/\\@:,;"'<>()\[\]{}|!?*=+&%$#~^`]""")


def detect(raw: str) -> Value | None:
    """Guess the type of a bare token (a line of an indicator list) and normalise it; None when it is nothing we index.

    Order: registry key (``HKLM\\…``, may hold spaces), then tokens without whitespace: a hex run of 32/40/64/128
    digits (32 is ``md5``: a JA3 hash cannot be told apart), a CVE id, a URL (``scheme://``, or ``host/path``), an
    e-mail address, a network (``a.b.c.d/n``), an IPv6 address, an IPv4 dotted quad, a file name (see
    ``looks_like_filename``), a domain. ``host:port`` gives the host (the port is dropped). A dotted token whose last
    label is numeric (``1.2.3``, ``2.0``) is a version number: None. Mutexes and user agents are never guessed.
    Defanged tokens must be refanged first (``herdsec.ioc.refang``).
    """
    text = raw.strip()
    if not text or len(text) > MAX_LENGTH:
        return None
    if _REGKEY_START.match(text):
        return normalise(IocType.REGKEY, raw)
    if _WHITESPACE.search(text):
        return None
    if _HEX.fullmatch(text):
        kind = _HASH_BY_LENGTH.get(len(text))
        return None if kind is None else normalise(kind, raw)
    if _CVE_LOOSE.fullmatch(text):
        return normalise(IocType.CVE, raw)
    if "://" in text or (_OPAQUE_SCHEME.match(text) and text.split(":", 1)[0].lower() in _REFUSED_SCHEMES):
        return normalise(IocType.URL, raw)
    if "@" in text:
        return _detect_email(raw, text)
    if "/" in text:
        return _detect_slash(raw, text)
    if ":" in text:
        return _detect_colon(raw, text)
    return _detect_dotted(raw, text)


def _detect_email(raw: str, text: str) -> Value | None:
    """``local@domain`` with a dotted domain, else nothing."""
    local, _, domain = text.rpartition("@")
    if not local or "." not in domain or _NOT_IN_HOST.search(domain):
        return None
    return normalise(IocType.EMAIL, raw)


def _detect_slash(raw: str, text: str) -> Value | None:
    """``address/prefix`` is a network; ``host[:port]/path`` is a URL (taken as ``http://``)."""
    head, _, tail = text.partition("/")
    if tail.isascii() and tail.isdigit() and (_IPV4_SHAPE.fullmatch(head) or ":" in head):
        return normalise(IocType.CIDR, raw)
    host = _split_host_port(head)[0]
    if host.startswith("[") or _IPV4_SHAPE.fullmatch(host) or _host_kind(host) is IocType.DOMAIN:
        return normalise(IocType.URL, raw)
    return None


def _detect_colon(raw: str, text: str) -> Value | None:
    """``host:port`` gives the host (IPv4 or domain; the port is dropped); otherwise an IPv6 address in any
    notation, brackets allowed (an address with a zone id is returned flagged)."""
    host, port = _split_host_port(text)
    if port.isascii() and port.isdigit() and (host.startswith("[") or ":" not in host):
        found = normalise(IocType.IPV6, host) if host.startswith("[") else _detect_dotted(host, host)
        return None if found is None or found.type is IocType.FILENAME else replace(found, raw=raw)
    value = normalise(IocType.IPV6, raw)
    return value if value.problem is None or "%" in text else None


def _host_kind(text: str) -> IocType | None:
    """IPV4, FILENAME or DOMAIN for a dotted token that could be a host; None for version numbers and junk."""
    if _IPV4_SHAPE.fullmatch(text):
        return IocType.IPV4
    if "." not in text.strip(".") or _NOT_IN_HOST.search(text):
        return None
    if looks_like_filename(text):
        return IocType.FILENAME
    top = text.rstrip(".").rpartition(".")[2]
    return None if not top or top.isdigit() else IocType.DOMAIN


def _detect_dotted(raw: str, text: str) -> Value | None:
    """IPv4, file name or domain."""
    kind = _host_kind(text)
    if kind is None and "." in text and looks_like_filename(text):
        kind = IocType.FILENAME
    return None if kind is None else normalise(kind, raw)
