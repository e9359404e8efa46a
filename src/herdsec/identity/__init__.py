"""Identity and access: organizations, users, API keys, web sessions, sharing groups, audit log, visibility.

Other modules use identity only through the names exported here.
"""

from herdsec.identity.audit import list_entries as list_audit
from herdsec.identity.audit import record as audit_record
from herdsec.identity.auth import (
    authenticate_api_key,
    group_ids_of,
    login,
    logout,
    org_principal,
    session_principal,
    system_principal,
    viewer_for,
)
from herdsec.identity.groups import add_member, create_group, get_group, list_groups, remove_member
from herdsec.identity.keys import create_api_key, list_api_keys, revoke_api_key
from herdsec.identity.logic import OrgKind, Role, SizeBand
from herdsec.identity.orgs import create_org, find_org, get_org, get_orgs, list_orgs, update_org
from herdsec.identity.principal import Principal
from herdsec.identity.users import (
    create_user,
    find_user_by_email,
    get_user,
    list_users,
    set_password,
    update_user,
)

__all__ = [
    "OrgKind",
    "Principal",
    "Role",
    "SizeBand",
    "add_member",
    "audit_record",
    "authenticate_api_key",
    "create_api_key",
    "create_group",
    "create_org",
    "create_user",
    "find_org",
    "find_user_by_email",
    "get_group",
    "get_org",
    "get_orgs",
    "get_user",
    "group_ids_of",
    "list_api_keys",
    "list_audit",
    "list_groups",
    "list_orgs",
    "list_users",
    "login",
    "logout",
    "org_principal",
    "remove_member",
    "revoke_api_key",
    "session_principal",
    "set_password",
    "system_principal",
    "update_org",
    "update_user",
    "viewer_for",
]
