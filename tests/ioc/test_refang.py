"""Refanging and defanging: the markers, what is left alone, the offset map, and the round trip."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from herdsec.ioc.refang import defang, refang, refang_mapped


@pytest.mark.parametrize(
    ("defanged", "expected"),
    [
        ("hxxp://evil[.]com/a", "http://evil.com/a"),
        ("hXXps://evil[.]com", "https://evil.com"),
        ("HXXPS://EVIL[.]COM", "httpS://EVIL.COM"),
        ("hxxps[:]//evil[.]com", "https://evil.com"),
        ("hxxp[://]evil[.]com", "http://evil.com"),
        ("hxtp://x[.]y", "http://x.y"),
        ("fxp://files[.]evil[.]com", "ftp://files.evil.com"),
        ("evil(.)com", "evil.com"),
        ("evil{.}com", "evil.com"),
        ("evil[dot]com", "evil.com"),
        ("evil(DOT)com", "evil.com"),
        ("evil[ . ]com", "evil.com"),
        ("1[.]2[.]3[.]4", "1.2.3.4"),
        ("john[@]evil[.]com", "john@evil.com"),
        ("john[at]evil[.]com", "john@evil.com"),
        ("john(at)evil(dot)com", "john@evil.com"),
        ("evil[.]com[/]path", "evil.com/path"),
        ("evil\\.com", "evil.com"),
        ("sub\\.evil\\.com", "sub.evil.com"),
        ("bộcôngan[.]vn", "bộcôngan.vn"),
    ],
)
def test_refang(defanged: str, expected: str) -> None:
    assert refang(defanged) == expected


@pytest.mark.parametrize(
    "text",
    [
        "polka dot dress at home",
        "evil dot com",
        "john at evil dot com",
        "a lone (.) or [.] marker",
        "[.]com",
        "HKCR\\.exe",
        "HKEY_USERS\\.DEFAULT",
        "HKCU\\Software\\Classes\\.exe",
        "C:\\Users\\x\\.ssh",
        "\\\\server\\share\\.hidden",
        "http://already.fine/",
        "use hxxp to defang",
    ],
)
def test_left_alone(text: str) -> None:
    assert refang(text) == text


def test_offset_map_points_at_the_original_text() -> None:
    text = "Visit hxxps[:]//evil[.]com/x now, or mail john[at]evil[.]org."
    refanged, offsets = refang_mapped(text)
    assert refanged == refang(text)
    url_start = refanged.index("https://evil.com/x")
    url_end = url_start + len("https://evil.com/x")
    assert text[offsets.start(url_start) : offsets.end(url_end)] == "hxxps[:]//evil[.]com/x"
    mail_start = refanged.index("john@evil.org")
    assert text[offsets.start(mail_start) : offsets.end(mail_start + len("john@evil.org"))] == "john[at]evil[.]org"
    assert offsets.start(0) == 0 and offsets.end(len(refanged)) == len(text)


_WORD = st.text(alphabet="abcxyz019", min_size=1, max_size=8)
_MARKER = st.sampled_from(["[.]", "(.)", "{dot}", "[at]", "[@]", "\\."])


@given(st.lists(st.tuples(_WORD, _MARKER), min_size=1, max_size=20), st.text(alphabet=" ,;\n", max_size=3))
def test_offsets_of_every_refanged_span(pieces: list[tuple[str, str]], gap: str) -> None:
    text = gap.join(word + marker + word for word, marker in pieces)
    refanged, offsets = refang_mapped(text)
    assert refanged == refang(text)
    position = 0
    for word, marker in pieces:
        original = word + marker + word
        start = text.index(original, position)
        end = start + len(original)
        new_start = len(refang(text[:start]))
        new_end = new_start + len(refang(original))
        assert (offsets.start(new_start), offsets.end(new_end)) == (start, end)
        position = end


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("http://evil.com/a.php", "hxxp://evil[.]com/a[.]php"),
        ("https://evil.com", "hxxps://evil[.]com"),
        ("ftp://files.evil.com", "fxp://files[.]evil[.]com"),
        ("1.2.3.4", "1[.]2[.]3[.]4"),
        ("john@evil.com", "john@evil[.]com"),
        ("xn--bcngan-jxa6332d.vn", "xn--bcngan-jxa6332d[.]vn"),
    ],
)
def test_defang(value: str, shown: str) -> None:
    assert defang(value) == shown
    assert refang(shown) == value


_LABEL = st.from_regex(r"[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_HOSTNAME = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)
_URL = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https", "ftp"]),
    _HOSTNAME,
    st.from_regex(r"[a-z0-9._~/-]{0,20}", fullmatch=True),
)


@given(st.one_of(_HOSTNAME, _URL))
def test_refang_undoes_defang(value: str) -> None:
    shown = defang(value)
    assert re.search(r"\w\.\w", shown) is None and not shown.startswith(("http:", "https:", "ftp:"))
    assert refang(shown) == value
