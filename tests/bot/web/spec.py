"""The GeoReport v2 field lists, written once from the spec (wiki.open311.org/GeoReport_v2 and
Service_Discovery), and a checker that holds a JSON or XML document to them.

XML documents are read into the JSON shape first: a list element holds one child element per
item (`services/service`, `service_requests/request`, `errors/error` ...), as in the spec's
examples, and every leaf is text.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

# kind -> (required fields, optional fields); nested kinds by field name below.
FIELDS: dict[str, tuple[set[str], set[str]]] = {
    "discovery": ({"changeset", "contact", "key_service", "endpoints"}, set()),
    "endpoint": ({"specification", "url", "changeset", "type", "formats"}, set()),
    "service": (
        {"service_code", "service_name", "type", "metadata"},
        {"description", "keywords", "group"},
    ),
    "service_definition": ({"service_code", "attributes"}, set()),
    "attribute": (
        {"variable", "code", "datatype", "required", "order", "description"},
        {"datatype_description", "values"},
    ),
    "value": ({"key", "name"}, set()),
    "filed": (set(), {"service_request_id", "token", "service_notice", "account_id"}),
    "request": (
        {"service_request_id", "status", "service_code", "requested_datetime"},
        {
            "status_notes",
            "service_name",
            "description",
            "agency_responsible",
            "service_notice",
            "updated_datetime",
            "expected_datetime",
            "address",
            "address_id",
            "zipcode",
            "lat",
            "long",
            "media_url",
        },
    ),  # fmt: skip
    "error": ({"code", "description"}, set()),
}
NESTED = {"endpoints": "endpoint", "attributes": "attribute", "values": "value"}
# XML: list element -> item element
XML_ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "attributes": "attribute",
    "values": "value",
}
DATATYPES = {"string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"}
W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def from_xml(body: bytes) -> tuple[str, Any]:
    """(root element name, the document in JSON shape)."""
    root = ElementTree.fromstring(body)
    return root.tag, _element(root)


def _element(node: ElementTree.Element) -> Any:
    if node.tag in XML_ITEMS:
        items = list(node)
        assert all(child.tag == XML_ITEMS[node.tag] for child in items), node.tag
        return [_element(child) for child in items]
    if len(node):
        names = [child.tag for child in node]
        assert len(names) == len(set(names)), f"repeated field in <{node.tag}>"
        return {child.tag: _element(child) for child in node}
    return node.text or ""


def _truthy(value: Any) -> bool:
    assert value in (True, False, "true", "false"), value
    return value in (True, "true")


def check(kind: str, document: Any) -> None:
    """Fail unless `document` has the spec's fields of `kind`, and only those."""
    assert isinstance(document, dict), (kind, document)
    required, optional = FIELDS[kind]
    fields = set(document)
    assert required <= fields, (kind, required - fields)
    assert fields <= required | optional, (kind, fields - required - optional)
    for name, inner in NESTED.items():
        if name in document and document[name] not in ("", None):
            assert isinstance(document[name], list), (kind, name)
            for item in document[name]:
                check(inner, item)
    _values(kind, document)


def _values(kind: str, doc: dict[str, Any]) -> None:
    if kind == "service":
        assert doc["type"] in ("realtime", "batch", "blackbox")
        _truthy(doc["metadata"])
    elif kind == "attribute":
        assert doc["datatype"] in DATATYPES
        _truthy(doc["variable"]), _truthy(doc["required"])
        assert int(doc["order"]) >= 1
    elif kind == "endpoint":
        assert doc["type"] in ("production", "test")
        assert doc["formats"] and set(doc["formats"]) <= {"text/xml", "application/json"}
    elif kind == "request":
        assert doc["status"] in ("open", "closed")
        for name in ("requested_datetime", "updated_datetime", "expected_datetime"):
            if doc.get(name):
                assert W3C.match(doc[name]), (name, doc[name])
        for name in ("lat", "long"):
            if doc.get(name) not in (None, ""):
                float(doc[name])
    elif kind == "filed":
        has_id, has_token = bool(doc.get("service_request_id")), bool(doc.get("token"))
        assert has_id != has_token, "service_request_id or token, never both"
    elif kind == "error":
        # the spec names 400, 403 and 404; 405 and 413 are plain HTTP
        assert int(doc["code"]) in (400, 403, 404, 405, 413, 500)
        assert doc["description"]


ROOTS = {  # XML document element -> (kind of the whole, kind of each item or None)
    "discovery": ("discovery", None),
    "services": (None, "service"),
    "service_definition": ("service_definition", None),
    "service_requests": (None, "request"),
    "errors": (None, "error"),
}


def check_response(body: bytes, fmt: str, *, item_kind: str | None = None) -> Any:
    """Parse a response in `fmt` and check it; returns the JSON-shaped document."""
    import json

    if fmt == "json":
        document = json.loads(body)
        root = None
    else:
        assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>'), body[:60]
        root, document = from_xml(body)
        assert root in ROOTS, root
    if isinstance(document, list):
        kind = item_kind or (ROOTS[root][1] if root else None)
        assert kind is not None
        for item in document:
            check(kind, item)
    else:
        kind = item_kind or (ROOTS[root][0] if root else None)
        assert kind is not None
        check(kind, document)
    return document
