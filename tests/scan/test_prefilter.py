"""The compiled first stage (``herdsec.scan._prefilter``): built by the install, never selects fewer lines than the
pure-Python first stage, gives the same matches, and refuses misuse clearly."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from herdsec.scan import matcher as matcher_module
from herdsec.scan.engine import scan_chunk
from herdsec.scan.iocs import Loaded, load_lines
from herdsec.scan.matcher import CHUNK_TABLE, COMPILED, Matcher
from herdsec.scan.readers.plain import Plain
from tests.scan.helpers import compile_lines


def test_the_install_builds_the_compiled_stage() -> None:
    """``make setup`` (pip install) compiles the extension; a build that silently fell back would fail here."""
    assert COMPILED, "herdsec.scan._prefilter was not built: check that gcc and the Python headers are installed"
    assert compile_lines("evil.example", compiled=True).compiled


def _filter() -> matcher_module._prefilter.Filter:
    return matcher_module._prefilter.Filter(CHUNK_TABLE)


def test_misuse_is_refused_clearly() -> None:
    prefilter = matcher_module._prefilter
    with pytest.raises(ValueError, match="256 bytes"):
        prefilter.Filter(b"short")
    with pytest.raises(ValueError, match="newlines"):
        prefilter.Filter(bytes(range(256)))
    unfrozen = _filter()
    with pytest.raises(RuntimeError, match="freeze"):
        unfrozen.lines(b"x\n")
    with pytest.raises(TypeError):
        unfrozen.add(["not bytes"], prefilter.PROBE)
    with pytest.raises(ValueError, match="flag"):
        unfrozen.add([b"x"], 64)
    unfrozen.freeze()
    with pytest.raises(RuntimeError, match="frozen"):
        unfrozen.add([b"x"], prefilter.PROBE)


def test_lines_are_counted_and_located() -> None:
    prefilter = matcher_module._prefilter
    held = _filter()
    held.add([b"evil.example"], prefilter.PROBE | prefilter.DOMAIN)
    held.freeze()
    assert held.lines(b"") == (0, [])
    assert held.lines(b"\n\n") == (2, [])
    chunk = b"a\nGET http://x.EVIL.example./p\nevil.examplex\nlast evil.example"
    count, found = held.lines(chunk)
    assert count == 4
    assert [(number, chunk[start:end]) for number, start, end in found] == [
        (2, b"GET http://x.EVIL.example./p"),
        (4, b"last evil.example"),
    ]
    line = b"GET http://x.EVIL.example./p?evil.example=1 evil.examples"
    assert [line[start:end] for start, end in held.spans(line)] == [b"x.EVIL.example.", b"evil.example"]


def test_a_token_longer_than_every_indicator_still_finds_its_listed_parent() -> None:
    matcher = compile_lines("evil.example", compiled=True)
    line = b"q " + b"a" * 200_000 + b".evil.example ok\n"
    assert [number for number, _raw in matcher.candidate_lines(line)[1]] == [1]
    assert matcher.candidate_lines(b"q " + b"a" * 200_000 + b"evil.example\n")[1] == []


# --- the compiled stage against the Python one, on generated indicators and logs -------------------------------

_LABEL = st.sampled_from(["a", "ev", "evil", "x1", "co", "b-2", "xn--bcher-kva", "10", "1"])
_DOMAIN = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)
_OCTET = st.sampled_from(["1", "10", "0", "255", "192", "168"])
_IPV4 = st.lists(_OCTET, min_size=4, max_size=4).map(".".join)
_IPV6 = st.sampled_from(["2001:db8::1", "2001:db8::a:1", "fe80::1", "::ffff:10.1.1.1", "2001:db8:0:0:1::"])
_HASH = st.sampled_from(["a" * 32, "0123456789abcdef" * 2, "f" * 40, "ab" * 32])
_INDICATOR = st.one_of(
    _DOMAIN,
    _IPV4,
    _IPV6,
    _HASH,
    st.builds(lambda d: f"bob@{d}", _DOMAIN),
    st.builds(lambda d: f"http://{d}/p?q=1", _DOMAIN),
    st.builds(lambda ip: f"{ip.rsplit('.', 1)[0]}.0/24", _IPV4),
    st.sampled_from(["10.0.0.0/8", "192.168.0.0/16", "2001:db8::/32"]),
)
_SEPARATOR = st.sampled_from([" ", " ", ",", '"', ":", "/", "=", "\t", "[", "]", "(", "@", ".", "\n"])


def _variants(value: str) -> st.SearchStrategy[str]:
    """How an indicator (or a near miss of it) may be written in a log."""
    return st.sampled_from(
        [
            value,
            value.upper(),
            f"sub.{value}",
            f"{value}.",
            f"{value}:443",
            f"x{value}",
            f"{value}x",
            f"{value}.attacker.net",
            f"alice@{value}",
            f"https://{value}/other",
            value[:-1],
        ]
    )


@st.composite
def _case(draw: st.DrawFn) -> tuple[list[str], bytes]:
    indicators = draw(st.lists(_INDICATOR, min_size=1, max_size=8, unique=True))
    pieces: list[str] = []
    for _ in range(draw(st.integers(1, 40))):
        if draw(st.booleans()):
            pieces.append(draw(_variants(draw(st.sampled_from(indicators)))))
        else:
            pieces.append(draw(st.one_of(_DOMAIN, _IPV4, _IPV6, _LABEL)))
        pieces.append(draw(_SEPARATOR))
    return indicators, "".join(pieces).encode()


def _stages(indicators: list[str]) -> tuple[Matcher, Matcher]:
    loaded = Loaded()
    load_lines(indicators, "test", loaded)  # generated values that are not indicators are reported and skipped
    built = []
    for compiled in (True, False):
        matcher = Matcher(compiled=compiled)
        for kind, text in loaded.canonical:
            matcher.add_canonical(kind, text)
        for value in loaded.values:
            matcher.add(value)
        built.append(matcher.freeze())
    return built[0], built[1]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_case())
def test_the_compiled_stage_never_misses_a_line_and_gives_the_same_matches(case: tuple[list[str], bytes]) -> None:
    """The oracle is the exact check applied to every line: each line it finds a match on must be selected."""
    indicators, log = case
    compiled, python = _stages(indicators)
    compiled_count, compiled_lines = compiled.candidate_lines(log)
    python_count, _python_lines = python.candidate_lines(log)
    assert compiled_count == python_count == log.count(b"\n") + (0 if log.endswith(b"\n") else 1)
    matching = {number for number, line in enumerate(log.split(b"\n"), 1) if python.match_line(line)}
    assert matching <= {number for number, _ in compiled_lines}
    found = scan_chunk(compiled, Plain(), log).found
    assert found == scan_chunk(python, Plain(), log).found
    assert {number for number, _time, _hits in found} == matching


_PIECE = st.sampled_from(
    [b"a", b"E", b"ev", b".", b"@", b"1", b"10", b"\n", b" ", b":", b"\xc3\xa9", b"-", b"\t", b"\x00", b"x" * 70]
)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_PIECE, max_size=300).map(b"".join),
    st.lists(st.tuples(st.integers(0, 400), st.integers(1, 80), st.sampled_from([1, 2, 4, 3, 7])), max_size=6),
)
def test_the_64_byte_scan_equals_the_byte_by_byte_scan(chunk: bytes, picks: list[tuple[int, int, int]]) -> None:
    """Tokens across 64-byte blocks, lines that end on a block edge, bytes of every kind: both scans agree exactly."""
    prefilter = matcher_module._prefilter
    folded = chunk.translate(CHUNK_TABLE)
    keys = [(folded[at : at + length].strip(b" ."), flag) for at, length, flag in picks]
    filters = []
    for simd in (True, False):
        held = prefilter.Filter(CHUNK_TABLE, simd=simd)
        for key, flag in keys:
            if key:
                held.add([key], flag)
        held.freeze()
        filters.append(held)
    assert filters[0].simd() and not filters[1].simd()
    assert filters[0].lines(chunk) == filters[1].lines(chunk)


def test_a_filter_is_initialised_once() -> None:
    """A second ``__init__`` would free the tables a scan (which runs without the GIL) may be reading."""
    held = _filter()
    with pytest.raises(RuntimeError, match="already initialised"):
        held.__init__(CHUNK_TABLE)  # type: ignore[misc]
    held.freeze()
    assert held.lines(b"x\n") == (1, [])


def test_a_network_of_every_address_is_not_scanned_for() -> None:
    from herdsec.ioc.types import IocType, Value

    matcher = Matcher()
    assert not matcher.add(Value(IocType.CIDR, "0.0.0.0/0", "0.0.0.0/0"))
    assert matcher.add(Value(IocType.CIDR, "10.0.0.0/8", "10.0.0.0/8")) and matcher.count == 1
