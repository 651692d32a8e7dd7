"""Starlette routes answering the Bot API: ``/bot<token>/<method>`` and file downloads."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import methods_chat, methods_core, methods_edit, methods_media, methods_send
from .errors import ApiError
from .faults import Faults
from .messaging import Handler
from .params import Params
from .state import World

logger = logging.getLogger(__name__)

METHODS: dict[str, Handler] = {
    **methods_core.METHODS,
    **methods_send.METHODS,
    **methods_media.METHODS,
    **methods_edit.METHODS,
    **methods_chat.METHODS,
}


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.code)


def _target_chat_id(world: World, params: Params) -> int | None:
    """The chat a call is about, for chat-specific faults; None when it names no known chat."""
    value = params.get("chat_id")
    if value is None:
        return None
    try:
        return world.resolve_chat(value).id
    except ApiError:
        try:
            return int(value)
        except (TypeError, ValueError):
            return None


class BotApi:
    """The Bot API endpoint of one emulated world."""

    def __init__(self, world: World, faults: Faults) -> None:
        self.world = world
        self.faults = faults

    def routes(self) -> list[Route]:
        return [
            Route("/bot{token}/{method}", self.call, methods=["GET", "POST"]),
            Route("/file/bot{token}/{file_path:path}", self.download, methods=["GET"]),
        ]

    async def call(self, request: Request) -> Response:
        method = request.path_params["method"]
        if request.path_params["token"] != self.world.token:
            return error_response(ApiError(401, "Unauthorized"))
        try:
            params = await Params.from_request(request)
        except ApiError as error:
            return error_response(error)
        except ValueError:
            return error_response(ApiError(400, "Bad Request: can't parse request parameters"))
        self.world.calls.append((method, params.record()))
        logger.debug("Bot API call %s %s", method, params.values)
        handler = METHODS.get(method.lower())
        if handler is None:
            return error_response(ApiError(404, "Not Found: method not found"))
        try:
            await self.faults.delay(method)
            self.faults.check(method, _target_chat_id(self.world, params))
            result: Any = await handler(self.world, params)
        except ApiError as error:
            logger.debug("Bot API call %s answered %s %s", method, error.code, error.description)
            return error_response(error)
        return JSONResponse({"ok": True, "result": result})

    async def download(self, request: Request) -> Response:
        if request.path_params["token"] != self.world.token:
            return error_response(ApiError(401, "Unauthorized"))
        stored = self.world.files.by_path(request.path_params["file_path"])
        if stored is None:
            return error_response(ApiError(404, "Not Found"))
        media_type = stored.mime_type or "application/octet-stream"
        return Response(stored.data, media_type=media_type)
