"""Bot API parameters from a request: query string, form/multipart or JSON body, decoded."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request

from .errors import bad_request

logger = logging.getLogger(__name__)

# Values python-telegram-bot sends raw (not JSON-encoded) and that must stay strings.
STRING_PARAMS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "question",
        "url",
        "file_id",
        "emoji",
        "action",
        "title",
        "description",
        "short_description",
        "name",
        "phone_number",
        "first_name",
        "last_name",
        "vcard",
        "secret_token",
        "ip_address",
        "language_code",
        "business_connection_id",
        "explanation",
        "question_parse_mode",
        "explanation_parse_mode",
        "custom_title",
        "type",
        "photo",
        "document",
        "audio",
        "video",
        "voice",
        "animation",
        "sticker",
        "video_note",
        "message_effect_id",
        "address",
        "foursquare_id",
        "google_place_type",
        "data",
    }
)


@dataclass
class Upload:
    """A file uploaded in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class Params:
    """Decoded parameters of one Bot API call, with typed accessors."""

    def __init__(self, values: dict[str, Any], uploads: dict[str, Upload]) -> None:
        self.values = values
        self.uploads = uploads

    @classmethod
    async def from_request(cls, request: Request) -> Params:
        values: dict[str, Any] = {k: _decode(k, v) for k, v in request.query_params.items()}
        uploads: dict[str, Upload] = {}
        content_type = request.headers.get("content-type", "")
        if "application/json" in content_type:
            body = await request.body()
            parsed = json.loads(body) if body.strip() else {}
            if not isinstance(parsed, dict):
                raise bad_request("parameters must be a JSON object")
            values.update(parsed)
        elif "form" in content_type:
            async with request.form(max_part_size=64 * 1024 * 1024) as form:
                for key, value in form.multi_items():
                    if isinstance(value, UploadFile):
                        data = await value.read()
                        uploads[key] = Upload(value.filename, value.content_type, data)
                    else:
                        values[key] = _decode(key, value)
        return cls(values, uploads)

    def record(self) -> dict[str, Any]:
        """What ``Emulator.calls`` shows: the values, uploads as a short description."""
        shown = dict(self.values)
        for key, upload in self.uploads.items():
            shown[key] = {"filename": upload.filename, "size": len(upload.data)}
        return shown

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)

    def text(self, name: str) -> str | None:
        value = self.values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def number(self, name: str) -> float | None:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, str):
            return value.lower() in ("true", "1", "yes")
        return bool(value)

    def upload(self, name: str) -> Upload | str | None:
        """An uploaded file, or a string (file_id / URL), or None. Resolves attach://x."""
        if name in self.uploads:
            return self.uploads[name]
        return self.file_ref(self.values.get(name))

    def file_ref(self, value: Any) -> Upload | str | None:
        """A file given by value: ``attach://<part>`` (an upload), a file_id / URL, or None."""
        if isinstance(value, str) and value.startswith("attach://"):
            return self.uploads.get(value[len("attach://") :])
        return value if isinstance(value, str) else None
