"""The emulated `https://qyapi.weixin.qq.com/cgi-bin/...` routes (a Starlette app's routes).

Every call but gettoken and the robots' webhook (whose key is its credential) must carry a valid
`access_token` in the query. Answers are HTTP 200 with an errcode, as WeCom's are; only injected
faults (`WeComEmulator.fail_next`) answer a 5xx.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import errors
from .errors import ApiError

if TYPE_CHECKING:
    from .emulator import WeComEmulator

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Any]]


async def _json(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except (ValueError, UnicodeDecodeError) as error:
        raise ApiError(errors.INVALID_PARAMETER, "Warning: wrong json format.") from error
    if not isinstance(body, dict):
        raise ApiError(errors.INVALID_PARAMETER, "Warning: wrong json format.")
    return body


def api_routes(emu: WeComEmulator) -> list[Route]:
    def route(path: str, handler: Handler, *, method: str = "POST", token: bool = True) -> Route:
        async def endpoint(request: Request) -> Response:
            name = path.removeprefix("/cgi-bin/")
            delay = emu.faults_delay.get(name)
            if delay:
                await asyncio.sleep(delay)
            status = emu.take_fault(name)
            if status is not None:
                emu.calls.append((name, {"fault": status}))
                return JSONResponse({"errcode": -1, "errmsg": "system busy"}, status_code=status)
            try:
                if token:
                    emu.tokens.check(request.query_params.get("access_token"))
                answer = await handler(request)
            except ApiError as error:
                emu.calls.append((name, {"errcode": error.errcode}))
                return JSONResponse(error.body())
            emu.calls.append((name, {"errcode": 0}))
            return answer if isinstance(answer, Response) else JSONResponse(answer)

        return Route(path, endpoint, methods=[method])

    async def gettoken(request: Request) -> Any:
        query = request.query_params
        return emu.tokens.get(query.get("corpid"), query.get("corpsecret"))

    async def sync_msg(request: Request) -> Any:
        return emu.kf.sync(await _json(request))

    async def send_msg(request: Request) -> Any:
        return emu.kf.send(await _json(request))

    async def message_send(request: Request) -> Any:
        return emu.app_messages.send(await _json(request))

    async def update_card(request: Request) -> Any:
        return emu.app_messages.update(await _json(request))

    async def webhook_send(request: Request) -> Any:
        return emu.robots.send(request.query_params.get("key"), await _json(request))

    async def media_upload(request: Request) -> Any:
        async with request.form(max_part_size=32 * 1024 * 1024) as form:
            part = form.get("media")
            if not isinstance(part, UploadFile):
                raise ApiError(errors.EMPTY_MEDIA, "no form-data part named media")
            data = await part.read()
            media = emu.media.upload(
                request.query_params.get("type"),
                data,
                part.filename or "media",
                part.content_type or "application/octet-stream",
            )
        return {
            "errcode": 0,
            "errmsg": "",
            "type": media.type,
            "media_id": media.media_id,
            "created_at": str(int(media.created_at)),
        }

    async def media_get(request: Request) -> Any:
        media = emu.media.get(request.query_params.get("media_id"))
        name = media.filename if media.filename.isascii() and '"' not in media.filename else "media"
        return Response(
            media.data,
            media_type=media.content_type,
            headers={"Content-disposition": f'attachment; filename="{name}"'},
        )

    return [
        route("/cgi-bin/gettoken", gettoken, method="GET", token=False),
        route("/cgi-bin/kf/sync_msg", sync_msg),
        route("/cgi-bin/kf/send_msg", send_msg),
        route("/cgi-bin/message/send", message_send),
        route("/cgi-bin/message/update_template_card", update_card),
        route("/cgi-bin/webhook/send", webhook_send, token=False),
        route("/cgi-bin/media/upload", media_upload),
        route("/cgi-bin/media/get", media_get, method="GET"),
    ]
