"""Pure rules of identity (no database)."""

from __future__ import annotations

import pytest

from herdsec.core.errors import InvalidInput, PermissionDenied
from herdsec.identity.logic import (
    Role,
    check_may_grant_platform_roles,
    check_may_manage_org,
    check_role_grantable,
    clean_email,
    clean_name,
    hash_password,
    name_key,
    new_api_key,
    split_api_key,
    verify_password,
)


def test_every_generated_key_parses_back_to_its_prefix() -> None:
    # The secret part is urlsafe base64 and often contains "_": the parser must not be confused by it.
    for _ in range(500):
        prefix, key = new_api_key()
        assert split_api_key(key) == prefix
        assert split_api_key(" " + key + "\n") == prefix


@pytest.mark.parametrize(
    "bad", ["", "hsk", "hsk__", "abc_12345678_" + "x" * 40, "hsk_1234567_" + "x" * 40, "hsk_12345678_short"]
)
def test_malformed_keys(bad: str) -> None:
    assert split_api_key(bad) is None


def test_names_are_normalised_and_folded() -> None:
    decomposed = "Nga\u0302n ha\u0300ng"  # combining marks, as some keyboards send them
    assert clean_name(decomposed) == "Ngân hàng"
    assert clean_name("  Công   ty  ") == "Công ty"
    assert name_key("CÔNG TY") == name_key("công ty")
    assert name_key("Đông A") != name_key("Đông Á")
    for bad in ("", "   ", "a\x00b", "x" * 201):
        with pytest.raises(InvalidInput):
            clean_name(bad)


@pytest.mark.parametrize("bad", ["", "no-at", "a@b", "a b@c.example", "@c.example"])
def test_bad_emails(bad: str) -> None:
    with pytest.raises(InvalidInput) as info:
        clean_email(bad)
    assert info.value.where == "email"


def test_passwords() -> None:
    stored = hash_password("mật khẩu rất dài")
    assert stored.startswith("scrypt$") and "mật" not in stored
    assert verify_password("mật khẩu rất dài", stored)
    assert not verify_password("mật khẩu rất dai", stored)
    assert not verify_password("anything", None)
    assert not verify_password("anything", "md5$abc")
    assert hash_password("mật khẩu rất dài") != stored  # salted
    with pytest.raises(InvalidInput):
        hash_password("short")


def test_permission_rules() -> None:
    check_may_manage_org(1, Role.ADMIN, False, 1)
    check_may_manage_org(1, Role.VIEWER, True, 2)
    with pytest.raises(PermissionDenied):
        check_may_manage_org(1, Role.ADMIN, False, 2)
    with pytest.raises(PermissionDenied):
        check_may_manage_org(1, Role.ANALYST, False, 1)
    with pytest.raises(PermissionDenied):
        check_may_grant_platform_roles(False)
    check_may_grant_platform_roles(True)
    check_role_grantable(Role.ANALYST, False, Role.VIEWER)
    with pytest.raises(PermissionDenied):
        check_role_grantable(Role.ANALYST, False, Role.ADMIN)
