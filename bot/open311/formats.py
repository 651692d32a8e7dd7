"""Open311 GeoReport v2 documents: the field lists, and their JSON and XML forms.

Every document is built once as plain data (dicts, lists, None) and then written as JSON or
as XML, so both formats carry exactly the same fields. XML follows the spec's examples: a
list is a wrapper element with one child per item (`services/service`, `errors/error`).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from xml.etree import ElementTree
from zoneinfo import ZoneInfo

from starlette.responses import Response

from storage.open311 import Request, Service, public_status
from storage.text import mask_phones

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-11-28T00:00:00Z"
FORMATS = {"json": "application/json", "xml": "text/xml"}
# How a list's items are named in XML, by the list's own name.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
ATTRIBUTES = [  # the service definition every category shares
    {
        "code": "anonymous",
        "datatype": "singlevaluelist",
        "required": False,
        "datatype_description": "true to hide the reporter's name from the people handling it",
        "description": "Report anonymously",
        "values": [{"key": "false", "name": "No"}, {"key": "true", "name": "Yes"}],
    },
    {
        "code": "building",
        "datatype": "string",
        "required": False,
        "datatype_description": "the building number or name, at most 16 characters",
        "description": "Building",
        "values": [],
    },
]


class Open311Error(Exception):
    """A refusal the client is told about: an HTTP status and the spec's error description."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status, self.description = status, description


def w3c(moment: datetime | None, tz: ZoneInfo) -> str | None:
    return moment.astimezone(tz).isoformat(timespec="seconds") if moment else None


def discovery(base_url: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": "The community office: ask a secretary for an API key (yishi apikey create).",
        "key_service": "Ask the community office's secretary for a key.",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": list(FORMATS.values()),
            }
        ],
    }


def keywords(service: Service) -> str:
    names = [service.category.code, service.category.name_zh, service.category.name_en]
    return ",".join(dict.fromkeys(n.replace(",", " ") for n in names))


def service(item: Service, lang: str) -> dict[str, Any]:
    return {
        "service_code": item.category.code,
        "service_name": item.category.name(lang),
        "description": item.category.name(lang),
        "metadata": True,
        "type": "realtime",
        "keywords": keywords(item),
        "group": item.unit.name(lang) if item.unit else "",
    }


def definition(item: Service) -> dict[str, Any]:
    attributes = [
        {"variable": True, **attribute, "order": order}
        for order, attribute in enumerate(ATTRIBUTES, start=1)
    ]
    return {"service_code": item.category.code, "attributes": attributes}


def status_notes(item: Request) -> str:
    case = item.case
    if case.duplicate_of_id:
        return f"{case.status}: duplicate of {case.duplicate_of_id}"
    return str(case.status)


def request(item: Request, lang: str, tz: ZoneInfo) -> dict[str, Any]:
    """A case as a public service request: nothing about who reported it."""
    case = item.case
    return {
        "service_request_id": str(case.id),
        "status": public_status(case.status),
        "status_notes": status_notes(item),
        "service_name": item.category.name(lang),
        "service_code": item.category.code,
        "description": mask_phones(case.text),
        "agency_responsible": item.unit.name(lang) if item.unit else "",
        "service_notice": "",
        "requested_datetime": w3c(case.created_at, tz),
        "updated_datetime": w3c(item.updated_at, tz),
        "expected_datetime": w3c(case.due_at, tz),
        "address": mask_phones(case.address) if case.address else "",
        "address_id": "",
        "zipcode": "",
        "lat": case.latitude,
        "long": case.longitude,
        "media_url": "",
    }


def filed(number: int) -> dict[str, Any]:
    return {"service_request_id": str(number), "service_notice": "", "account_id": None}


def _xml_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(parent: ElementTree.Element, name: str, value: Any) -> None:
    node = ElementTree.SubElement(parent, name)
    if isinstance(value, dict):
        for key, inner in value.items():
            _xml(node, key, inner)
    elif isinstance(value, list):
        for inner in value:
            _xml(node, ITEMS[name], inner)
    else:
        node.text = _xml_text(value)


def to_xml(root: str, value: Any) -> bytes:
    holder = ElementTree.Element("holder")
    _xml(holder, root, value)
    body = ElementTree.tostring(holder[0], encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body).encode("utf-8")


def respond(fmt: str, root: str, value: Any, status: int = 200) -> Response:
    """`root` names the XML document element; JSON carries `value` as it is."""
    if fmt == "json":
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    else:
        body = to_xml(root, value)
    return Response(body, status_code=status, media_type=f"{FORMATS[fmt]}; charset=utf-8")


def error(fmt: str, status: int, description: str) -> Response:
    return respond(fmt, "errors", [{"code": status, "description": description}], status)
