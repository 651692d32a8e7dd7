"""The control API: JSON routes under ``/control`` that act as people and read chats.

Thin wrappers over the Python API of ``Emulator``, for a web chat page or other processes.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from .emulator import Emulator

logger = logging.getLogger(__name__)

Body = dict[str, Any]


async def _body(request: Request) -> tuple[Body, bytes | None]:
    """JSON or form fields, plus the bytes of an uploaded file / ``data_base64`` if present."""
    content_type = request.headers.get("content-type", "")
    data: bytes | None = None
    if "form" in content_type:
        fields: Body = {}
        async with request.form(max_part_size=64 * 1024 * 1024) as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    data = await value.read()
                    fields.setdefault("filename", value.filename)
                else:
                    fields[key] = value
    else:
        raw = await request.body()
        fields = json.loads(raw) if raw.strip() else {}
        if not isinstance(fields, dict):
            raise ValueError("the body must be a JSON object")
    if fields.get("data_base64"):
        data = base64.b64decode(fields.pop("data_base64"), validate=True)
    return fields, data


def _int(fields: Body, name: str, default: int | None = None) -> int | None:
    value = fields.get(name)
    return default if value in (None, "") else int(value)


def _need(fields: Body, name: str) -> int:
    value = _int(fields, name)
    if value is None:
        raise ValueError(f"{name} is required")
    return value


def control_routes(emu: Emulator) -> list[Route]:
    """Routes of the control API for ``emu`` (see README.md for the list)."""

    def post(
        action: Callable[[Body, bytes | None], Any],
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                fields, data = await _body(request)
                return JSONResponse(action(fields, data))
            except KeyError as error:
                return JSONResponse({"error": f"missing field {error}"}, status_code=400)
            except (ValueError, TypeError, binascii.Error) as error:
                return JSONResponse({"error": f"bad request: {error}"}, status_code=400)
            except LookupError as error:
                return JSONResponse({"error": str(error)}, status_code=404)

        return endpoint

    def get(action: Callable[[Body], Awaitable[Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return JSONResponse(await action(dict(request.query_params)))
            except (ValueError, TypeError) as error:
                return JSONResponse({"error": f"bad request: {error}"}, status_code=400)
            except LookupError as error:
                return JSONResponse({"error": str(error)}, status_code=404)

        return endpoint

    def users(f: Body, _: bytes | None) -> Any:
        return emu.add_user(
            _need(f, "user_id"),
            str(f["first_name"]),
            last_name=f.get("last_name"),
            username=f.get("username"),
            language_code=f.get("language_code", "zh-hans"),
        )

    def groups(f: Body, _: bytes | None) -> Any:
        return emu.add_group(
            _need(f, "chat_id"),
            str(f["title"]),
            member_ids=f.get("member_ids", []),
            admin_ids=f.get("admin_ids", []),
        )

    def send_text(f: Body, _: bytes | None) -> Any:
        return emu.send_text(
            _need(f, "user_id"),
            str(f["text"]),
            chat_id=_int(f, "chat_id"),
            reply_to_message_id=_int(f, "reply_to_message_id"),
        )

    def send_photo(f: Body, data: bytes | None) -> Any:
        return emu.send_photo(
            _need(f, "user_id"),
            chat_id=_int(f, "chat_id"),
            caption=f.get("caption") or None,
            data=data or b"<fake jpeg>",
        )

    def send_document(f: Body, data: bytes | None) -> Any:
        return emu.send_document(
            _need(f, "user_id"),
            chat_id=_int(f, "chat_id"),
            filename=f.get("filename") or "a.pdf",
            data=data or b"...",
            caption=f.get("caption") or None,
        )

    def send_location(f: Body, _: bytes | None) -> Any:
        return emu.send_location(
            _need(f, "user_id"),
            float(f["latitude"]),
            float(f["longitude"]),
            chat_id=_int(f, "chat_id"),
        )

    def send_contact(f: Body, _: bytes | None) -> Any:
        return emu.send_contact(
            _need(f, "user_id"), str(f["phone_number"]), chat_id=_int(f, "chat_id")
        )

    def send_sticker(f: Body, _: bytes | None) -> Any:
        return emu.send_sticker(
            _need(f, "user_id"), chat_id=_int(f, "chat_id"), emoji=f.get("emoji", "😀")
        )

    def send_voice(f: Body, _: bytes | None) -> Any:
        return emu.send_voice(
            _need(f, "user_id"), chat_id=_int(f, "chat_id"), duration=_int(f, "duration", 3) or 3
        )

    def send_unparseable(f: Body, _: bytes | None) -> Any:
        return emu.send_unparseable(
            _need(f, "user_id"), str(f.get("text") or "?"), chat_id=_int(f, "chat_id")
        )

    def press(f: Body, _: bytes | None) -> Any:
        return emu.press(
            _need(f, "user_id"),
            _need(f, "message_id"),
            chat_id=_int(f, "chat_id"),
            data=f.get("data"),
            text=f.get("text"),
            forged=bool(f.get("forged")),
        )

    def faults(f: Body, _: bytes | None) -> Any:
        emu.fail_next(
            str(f["method"]),
            status=_int(f, "status", 429) or 429,
            retry_after=_int(f, "retry_after"),
            description=f.get("description"),
            times=_int(f, "times", 1) or 1,
            chat_id=_int(f, "chat_id"),
        )
        return {"ok": True}

    def block(f: Body, _: bytes | None) -> Any:
        emu.block(_need(f, "user_id"))
        return {"ok": True}

    def unblock(f: Body, _: bytes | None) -> Any:
        emu.unblock(_need(f, "user_id"))
        return {"ok": True}

    async def messages(q: Body) -> Any:
        return emu.changes(
            _need(q, "chat_id"), after=_int(q, "after", 0) or 0, since=_int(q, "since")
        )

    async def wait(q: Body) -> Any:
        timeout = min(float(q.get("timeout") or 25), 60.0)
        return await emu.wait_for_change(
            _need(q, "chat_id"),
            after=_int(q, "after", 0) or 0,
            since=_int(q, "since"),
            timeout=timeout,
        )

    async def chats(q: Body) -> Any:
        return {"chats": emu.chats(), "users": emu.users(), "bot": emu.bot_user}

    async def calls(q: Body) -> Any:
        return {"calls": [{"method": m, "params": p} for m, p in emu.calls]}

    posts = {
        "users": users,
        "groups": groups,
        "send_text": send_text,
        "send_photo": send_photo,
        "send_document": send_document,
        "send_location": send_location,
        "send_contact": send_contact,
        "send_sticker": send_sticker,
        "send_voice": send_voice,
        "send_unparseable": send_unparseable,
        "press": press,
        "faults": faults,
        "block": block,
        "unblock": unblock,
    }
    gets = {"messages": messages, "wait": wait, "chats": chats, "calls": calls}
    return [
        Route(f"/control/{name}", post(action), methods=["POST"]) for name, action in posts.items()
    ] + [Route(f"/control/{name}", get(action), methods=["GET"]) for name, action in gets.items()]
