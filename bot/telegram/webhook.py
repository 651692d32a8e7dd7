"""Telegram's webhook: an update arrives as a POST, is handled inside the request, answered 200.

Handling inside the request (rather than queueing and answering at once) is what makes several
instances safe behind a load balancer: Telegram sends a chat's next update only after the last
one was answered, so a conversation stays in order whichever instance takes each step, and an
instance that dies mid-update never answered, so Telegram retries it elsewhere. A retry of an
update that was handled is dropped by the processed-updates ledger (handlers/conversation.py).
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import Response
from telegram import Update
from telegram.ext import Application, ExtBot

from bot.metrics import WEBHOOK_REQUESTS
from bot.serving import Intake
from bot.telegram.update_reading import readable

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # an update is a few KB; Telegram never sends a megabyte


class WebhookEndpoint:
    """POST handler for the webhook path; refuses anything without the secret token."""

    def __init__(self, app: Application, secret: str, intake: Intake) -> None:
        self.app = app
        self.intake = intake
        self._secret = secret.encode()

    async def handle(self, request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):  # constant time: no guessing by timing
            return _answer("forbidden", 403)
        if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
            return _answer("bad_request", 415)
        with self.intake.handling() as taken:
            if not taken:  # starting or stopping: Telegram tries again, maybe another instance
                return _answer("unavailable", 503, headers={"Retry-After": "1"})
            update = await self._read(request)
            if update is None:
                return _answer("bad_request", 400)
            if isinstance(self.app.bot, ExtBot):
                self.app.bot.insert_callback_data(update)
            await self.app.update_processor.process_update(update, self.app.process_update(update))
        return _answer("handled", 200)

    async def _read(self, request: Request) -> Update | None:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > MAX_BODY:
            return None
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return None
        try:
            data = readable(json.loads(body))
        except ValueError as error:
            logger.warning("webhook: a body that is not JSON: %r", error)
            return None
        # An update the library cannot read comes back bare: answered 200 and counted, since
        # Telegram would retry anything else and hold the chat's later updates behind it.
        return Update.de_json(data, self.app.bot) if data is not None else None


def _answer(result: str, status: int, headers: dict[str, str] | None = None) -> Response:
    WEBHOOK_REQUESTS.labels(result).inc()
    return Response(status_code=status, headers=headers)
