"""Pure rules of identity: vocabularies, name folding, secrets and who may manage whom."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import TypeVar

from herdsec.core.errors import N_, InvalidInput, PermissionDenied


class OrgKind(StrEnum):
    ENTERPRISE = "enterprise"
    SME = "sme"
    BANK = "bank"
    GOVERNMENT = "government"
    UNIVERSITY = "university"
    TRAINING = "training"
    VENDOR = "vendor"
    LAB = "lab"
    COORDINATOR = "coordinator"
    HUB = "hub"  # a federated peer hub or feed: what it sends is stored as this organization


KIND_LABELS = {
    OrgKind.ENTERPRISE: N_("Enterprise"),
    OrgKind.SME: N_("Small or medium business"),
    OrgKind.BANK: N_("Bank"),
    OrgKind.GOVERNMENT: N_("Government agency"),
    OrgKind.UNIVERSITY: N_("University"),
    OrgKind.TRAINING: N_("Training centre"),
    OrgKind.VENDOR: N_("Security vendor"),
    OrgKind.LAB: N_("Evaluation lab"),
    OrgKind.COORDINATOR: N_("Coordinating body"),
    OrgKind.HUB: N_("Federated hub"),
}


class SizeBand(StrEnum):
    MICRO = "micro"  # < 10 staff
    SMALL = "small"  # 10-49
    MEDIUM = "medium"  # 50-249
    LARGE = "large"  # 250+


class Role(StrEnum):
    """A user's role inside their own organization, weakest last."""

    ADMIN = "admin"
    ANALYST = "analyst"
    VIEWER = "viewer"


SIZE_LABELS = {
    SizeBand.MICRO: N_("Micro (under 10 staff)"),
    SizeBand.SMALL: N_("Small (10-49 staff)"),
    SizeBand.MEDIUM: N_("Medium (50-249 staff)"),
    SizeBand.LARGE: N_("Large (250+ staff)"),
}
ROLE_LABELS = {Role.ADMIN: N_("Admin"), Role.ANALYST: N_("Analyst"), Role.VIEWER: N_("Viewer")}

ROLE_RANK = {Role.VIEWER: 0, Role.ANALYST: 1, Role.ADMIN: 2}

E = TypeVar("E", bound=StrEnum)

API_KEY_PREFIX = "hsk"
MAX_NAME = 200


def parse_choice(enum: type[E], value: str, field: str) -> E:
    """Turn user input into a vocabulary member, naming the field and the allowed values on failure."""
    try:
        return enum(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise InvalidInput(
            N_("unknown %(field)s %(value)r; expected one of: %(allowed)s"),
            where=field,
            field=field,
            value=value,
            allowed=allowed,
        ) from None


def clean_name(value: str, field: str = "name") -> str:
    """Normalise a display name (NFC, single spaces); refuse empty, too long or control characters."""
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        raise InvalidInput(N_("%(field)s must not be empty"), where=field, field=field)
    if len(text) > MAX_NAME:
        raise InvalidInput(N_("%(field)s is longer than %(max)d characters"), where=field, field=field, max=MAX_NAME)
    if any(unicodedata.category(ch) == "Cc" for ch in text):
        raise InvalidInput(N_("%(field)s contains control characters"), where=field, field=field)
    return text


def name_key(name: str) -> str:
    """The folded form used for uniqueness: 'Ngân hàng  ABC' and 'ngân hàng abc' clash, diacritics still count."""
    return clean_name(name).casefold()


def clean_email(value: str) -> str:
    text = value.strip().lower()
    local, _, domain = text.partition("@")
    if not local or not domain or "." not in domain or " " in text or len(text) > 254:
        raise InvalidInput(N_("%(value)r is not an e-mail address"), where="email", value=value)
    return text


def role_at_least(role: Role, needed: Role) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[needed]


# --- secrets ---------------------------------------------------------------------------------------------------


def new_api_key() -> tuple[str, str]:
    """Return (prefix, full key). The key is shown once; only its SHA-256 is stored (it has 256 bits of entropy)."""
    prefix = secrets.token_hex(4)
    return prefix, f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def split_api_key(key: str) -> str | None:
    """The prefix of a well-formed key, or None."""
    parts = key.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 8 or len(parts[2]) < 32:
        return None
    return parts[1]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_matches(token: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_token(token), stored_hash)


_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(N_("password must have at least %(min)d characters"), where="password", min=MIN_PASSWORD)
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        return False
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    candidate = hashlib.scrypt(
        password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=len(digest) // 2
    )
    return hmac.compare_digest(candidate.hex(), digest)


def key_usable(revoked_at: datetime | None, expires_at: datetime | None, now: datetime) -> bool:
    return revoked_at is None and (expires_at is None or expires_at > now)


# --- who may manage whom -----------------------------------------------------------------------------------------


def check_may_grant_platform_roles(actor_is_coordinator: bool) -> None:
    """Only a coordinator (platform administrator) may grant or remove platform roles; an org admin never can."""
    if not actor_is_coordinator:
        raise PermissionDenied(N_("only a coordinator may grant platform roles"))


def check_may_manage_org(actor_org_id: int, actor_role: Role, actor_is_coordinator: bool, target_org_id: int) -> None:
    """Admins manage their own organization; coordinators manage every organization."""
    if actor_is_coordinator:
        return
    if actor_org_id != target_org_id:
        raise PermissionDenied(N_("you may not act on another organization"))
    if actor_role is not Role.ADMIN:
        raise PermissionDenied(N_("this needs the admin role in your organization"))


def check_role_grantable(actor_role: Role, actor_is_coordinator: bool, wanted: Role) -> None:
    """Nobody hands out a role stronger than their own (coordinators excepted)."""
    if not actor_is_coordinator and not role_at_least(actor_role, wanted):
        raise PermissionDenied(
            N_("your %(role)s role cannot grant the %(wanted)s role"),
            wanted=wanted.value,
            role=actor_role.value,
        )
