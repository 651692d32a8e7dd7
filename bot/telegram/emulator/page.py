"""The web chat page's side of the emulator: its static files and the few reads it needs.

The page (``static/sandbox.html``) talks only to this origin: the control API to act as
people, plus the routes here. Every response carries a Content-Security-Policy that allows
nothing but this origin, so even a mistake in the page could not load or send anything
elsewhere (real Telegram included) nor run an inline script.
"""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from .emulator import Emulator

logger = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
_TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}


def _static(name: str) -> Response:
    """A file of the page by its bare name (no folders, so no way out of ``static/``)."""
    files = {p.name: p for p in STATIC.iterdir() if p.is_file()} if STATIC.is_dir() else {}
    path = files.get(name)
    if path is None:
        return Response("not found", status_code=404, headers=SECURITY_HEADERS)
    media_type = _TYPES.get(path.suffix, "application/octet-stream")
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    return Response(path.read_bytes(), media_type=media_type, headers=SECURITY_HEADERS)


def _int(value: Any, default: int = 0) -> int:
    return default if value in (None, "") else int(value)


def page_routes(emu: Emulator) -> list[Route]:
    """``/`` (the page), ``/static/<name>``, and the page's reads under ``/control``."""

    async def index(request: Request) -> Response:
        if not (STATIC / "sandbox.html").is_file():
            return RedirectResponse("/control/chats")
        return _static("sandbox.html")

    async def static(request: Request) -> Response:
        return _static(request.path_params["name"])

    async def page_info(request: Request) -> Response:
        """Who the page may act as (labels, roles, phones, places), set by the sandbox."""
        info = {"bot": emu.bot_user, "users": emu.users(), "chats": emu.chats(), **emu.page_info}
        return JSONResponse(info, headers=SECURITY_HEADERS)

    async def file(request: Request) -> Response:
        """A stored file (a photo, a chart, the xlsx export) by file_id, for this origin."""
        stored = emu.world.files.get(request.path_params["file_id"])
        if stored is None:
            return JSONResponse({"error": "unknown file"}, status_code=404)
        media_type = stored.mime_type or mimetypes.guess_type(stored.file_path)[0]
        headers = dict(SECURITY_HEADERS)
        if stored.kind == "document":
            name = stored.file_name or stored.file_path.rsplit("/", 1)[-1]
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return Response(
            stored.data, media_type=media_type or "application/octet-stream", headers=headers
        )

    async def activity(request: Request) -> Response:
        """Chats changed after revision ``since`` (long-polls up to ``timeout`` seconds)."""
        try:
            since = _int(request.query_params.get("since"))
            timeout = min(float(request.query_params.get("timeout") or 25), 60.0)
        except ValueError as error:
            return JSONResponse({"error": f"bad request: {error}"}, status_code=400)

        def changed() -> list[int] | None:
            found = [
                chat_id
                for chat_id, record in emu.world.chats.items()
                if any(rev > since for rev in record.revisions.values())
                or any(rev > since for rev in record.deleted.values())
            ]
            return found or None

        found = await emu._wait(changed, timeout)
        return JSONResponse({"revision": emu.world.revision, "chats": found or []})

    async def answer(request: Request) -> Response:
        """What the bot answered to a callback query (a toast), waiting up to ``timeout``."""
        query_id = request.query_params.get("query_id", "")
        timeout = min(float(request.query_params.get("timeout") or 5), 30.0)

        def probe() -> dict[str, Any] | None:
            return next(
                (
                    a
                    for a in emu.world.callback_answers
                    if str(a.get("callback_query_id")) == query_id
                ),
                None,
            )

        found = await emu._wait(probe, timeout)
        return JSONResponse({"answer": found})

    async def vote(request: Request) -> Response:
        try:
            body = await request.json()
            poll = emu.vote(
                int(body["user_id"]),
                int(body["chat_id"]),
                int(body["message_id"]),
                [int(option) for option in body["option_ids"]],
            )
        except (KeyError, ValueError, TypeError, IndexError) as error:
            return JSONResponse({"error": f"bad request: {error}"}, status_code=400)
        except LookupError as error:
            return JSONResponse({"error": str(error)}, status_code=404)
        return JSONResponse(poll)

    return [
        Route("/", index, methods=["GET"]),
        Route("/static/{name}", static, methods=["GET"]),
        Route("/control/page", page_info, methods=["GET"]),
        Route("/control/file/{file_id}", file, methods=["GET"]),
        Route("/control/activity", activity, methods=["GET"]),
        Route("/control/answer", answer, methods=["GET"]),
        Route("/control/vote", vote, methods=["POST"]),
    ]
