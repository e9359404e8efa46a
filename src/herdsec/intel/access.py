"""Visibility of intel objects: the one filter every read of the store goes through."""

from __future__ import annotations

from sqlalchemy import ColumnElement

from herdsec.identity.visibility import SharedColumns, Viewer, visible_filter
from herdsec.intel.models import StixObject

OBJECT_COLUMNS = SharedColumns(
    creator_org_id=StixObject.creator_org_id,
    tlp=StixObject.tlp,
    distribution=StixObject.distribution,
    sharing_group_id=StixObject.sharing_group_id,
)


def visible_objects(viewer: Viewer) -> ColumnElement[bool]:
    """The WHERE clause selecting the object versions ``viewer`` may see (TLP, distribution, sharing groups)."""
    return visible_filter(viewer, OBJECT_COLUMNS)
