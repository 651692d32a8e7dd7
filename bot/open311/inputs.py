"""Reading an Open311 POST: a bounded form-encoded body, then the fields a case needs.

The body is read in chunks and refused as soon as it passes BODY_MAX (a declared
Content-Length over the limit is refused before reading anything), so a 5 MB post costs
nothing. Only `application/x-www-form-urlencoded` is accepted, as the spec says; XML or
multipart bodies, bad UTF-8 and repeated fields are 400s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from starlette.requests import Request

from bot.open311.formats import Open311Error
from storage.errors import InvalidInput
from storage.text import clean_address, clean_description

BODY_MAX = 64 * 1024
DESCRIPTION_MAX = 4000  # the spec's limit; Yishi's own is smaller (storage/text.py)
MEDIA_URL_MAX = 500
BUILDING_MAX = 16
CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "device_id", "account_id")
CONTACT_MAX = 200


async def read_form(request: Request) -> dict[str, str]:
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-www-form-urlencoded":
        raise Open311Error(400, "send the fields form-encoded (application/x-www-form-urlencoded)")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > BODY_MAX:
        raise Open311Error(413, f"the request body is over {BODY_MAX} bytes")
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > BODY_MAX:
            raise Open311Error(413, f"the request body is over {BODY_MAX} bytes")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError:
        raise Open311Error(400, "the body is not UTF-8") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            raise Open311Error(400, f"{name}: given more than once")
        if "\x00" in value:
            raise Open311Error(400, f"{name}: control characters are not allowed")
        form[name] = value
    return form


@dataclass(frozen=True)
class Fields:
    service_code: str
    text: str
    latitude: float | None
    longitude: float | None
    address: str | None
    anonymous: bool
    building: str | None
    contact: str  # for staff only, as an internal note


def _coordinate(form: dict[str, str], name: str, limit: float) -> float | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise Open311Error(400, f"{name}: not a number") from None
    if not math.isfinite(value) or abs(value) > limit:
        raise Open311Error(400, f"{name}: out of range")
    return value


def _description(form: dict[str, str]) -> str:
    text = form.get("description", "")
    if len(text) > DESCRIPTION_MAX:
        raise Open311Error(400, f"description: at most {DESCRIPTION_MAX} characters")
    try:
        text = clean_description(text)
    except InvalidInput as bad:
        raise Open311Error(400, f"description: {bad.reason.replace('_', ' ')}") from None
    media = form.get("media_url", "").strip()
    if media:
        if len(media) > MEDIA_URL_MAX or urlsplit(media).scheme not in ("http", "https"):
            raise Open311Error(400, "media_url: an http(s) address")
        text = f"{text}\n{media}"  # staff see the picture's address with the words
    return text


def _attribute(form: dict[str, str], code: str) -> str:
    return form.get(f"attribute[{code}]", "").strip()


def request_fields(form: dict[str, str]) -> Fields:
    code = form.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code: required")
    latitude = _coordinate(form, "lat", 90)
    longitude = _coordinate(form, "long", 180)
    if (latitude is None) != (longitude is None):
        raise Open311Error(400, "lat and long: give both or neither")
    address_text = form.get("address_string", "").strip()
    address = None
    if address_text:
        try:
            address = clean_address(address_text)
        except InvalidInput as bad:
            raise Open311Error(400, f"address_string: {bad.reason.replace('_', ' ')}") from None
    if latitude is None and address is None:
        raise Open311Error(400, "a location is required: lat and long, or address_string")
    anonymous = _attribute(form, "anonymous").lower()
    if anonymous not in ("", "true", "false"):
        raise Open311Error(400, "attribute[anonymous]: true or false")
    building = _attribute(form, "building") or None
    if building and len(building) > BUILDING_MAX:
        raise Open311Error(400, f"attribute[building]: at most {BUILDING_MAX} characters")
    contact = "; ".join(
        f"{name}: {form[name].strip()[:CONTACT_MAX]}"
        for name in CONTACT_FIELDS
        if form.get(name, "").strip()
    )
    return Fields(
        service_code=code,
        text=_description(form),
        latitude=latitude,
        longitude=longitude,
        address=address,
        anonymous=anonymous == "true",
        building=building,
        contact=contact,
    )
