"""The TAXII 2.1 server's rules and use-cases (the HTTP adapter is ``herdsec.intel.taxii_api``)."""

from herdsec.intel.taxii.collections import Collection, find_collection, list_collections
from herdsec.intel.taxii.logic import (
    MAX_LIMIT,
    STIX_MEDIA,
    TAXII_MEDIA,
    Query,
    acceptable,
    collection_id,
    content_type_ok,
    error_body,
    parse_query,
)
from herdsec.intel.taxii.objects import (
    DELETE_PARAMS,
    OBJECT_PARAMS,
    ONE_OBJECT_PARAMS,
    VERSIONS_PARAMS,
    Page,
    delete_object,
    get_object,
    get_objects,
    get_versions,
)
from herdsec.intel.taxii.status import add_objects, get_status

__all__ = [
    "DELETE_PARAMS",
    "MAX_LIMIT",
    "OBJECT_PARAMS",
    "ONE_OBJECT_PARAMS",
    "STIX_MEDIA",
    "TAXII_MEDIA",
    "VERSIONS_PARAMS",
    "Collection",
    "Page",
    "Query",
    "acceptable",
    "add_objects",
    "collection_id",
    "content_type_ok",
    "delete_object",
    "error_body",
    "find_collection",
    "get_object",
    "get_objects",
    "get_status",
    "get_versions",
    "list_collections",
    "parse_query",
]
