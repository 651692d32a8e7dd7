"""Bot API methods about the bot itself: getMe, getUpdates (long poll), webhook, commands.

The webhook methods store the settings; ``webhook_push`` delivers."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any
from urllib.parse import urlsplit

from .errors import ApiError, bad_request
from .messaging import Handler
from .objects import JSONDict, get_me_object
from .params import Params
from .state import World
from .webhook_push import DEFAULT_MAX_CONNECTIONS, is_loopback

logger = logging.getLogger(__name__)

_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_WEBHOOK_PORTS = (80, 88, 443, 8443)


async def get_me(world: World, params: Params) -> JSONDict:
    return get_me_object(world.bot_user)


async def log_out(world: World, params: Params) -> bool:
    return True


async def get_updates(world: World, params: Params) -> list[JSONDict]:
    """Telegram's getUpdates: offset confirms, timeout long-polls until something arrives."""
    if world.webhook.get("url"):
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    limit = min(max(params.int("limit", 100) or 100, 1), 100)
    timeout = max(params.number("timeout") or 0.0, 0.0)
    allowed = params.get("allowed_updates")
    if isinstance(allowed, list):
        world.allowed_updates = [str(kind) for kind in allowed]
    offset = params.int("offset")
    if offset is not None:
        world.updates.confirm(offset)
    world.poll_generation += 1
    generation = world.poll_generation
    world.changed()  # wakes an older long poll so it can answer 409
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        version = world.notifier.version
        if world.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        if world.webhook.get("url"):
            return []  # a webhook was set meanwhile: the pusher owns the updates now
        batch = world.updates.take(limit, world.allowed_updates)
        remaining = deadline - loop.time()
        if batch or remaining <= 0 or world.closing:
            return batch
        await world.notifier.wait(version, remaining)


def _check_webhook_url(url: str) -> None:
    parts = urlsplit(url)
    loopback = is_loopback(url)
    # Deviation from Telegram: plain http is fine on loopback, the emulator runs on your machine.
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    if not parts.hostname:
        raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise bad_request("bad webhook: Failed to parse the port") from None
    if not loopback and port not in _WEBHOOK_PORTS:
        raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")


async def set_webhook(world: World, params: Params) -> bool:
    url = params.text("url") or ""
    if not url:
        return await delete_webhook(world, params)
    _check_webhook_url(url)
    secret = params.text("secret_token")
    if secret and not _SECRET.match(secret):
        raise bad_request("secret token contains unallowed characters")
    max_connections = params.int("max_connections", DEFAULT_MAX_CONNECTIONS)
    if max_connections is None or not 1 <= max_connections <= 100:
        raise bad_request("bad webhook: max_connections must be between 1 and 100")
    allowed = params.get("allowed_updates")
    if isinstance(allowed, list):  # one setting shared with getUpdates, as in Telegram
        world.allowed_updates = [str(kind) for kind in allowed]
    world.webhook = {"url": url, "max_connections": max_connections}
    if secret:
        world.webhook["secret_token"] = secret
    if params.text("ip_address"):
        world.webhook["ip_address"] = params.text("ip_address")
    if params.flag("drop_pending_updates"):
        world.updates.drop_pending()
    world.updates.reset_retries()
    world.pusher.start()
    world.changed()  # ends a long poll still waiting, and wakes the pusher
    return True


async def delete_webhook(world: World, params: Params) -> bool:
    world.webhook = {"url": ""}
    world.pusher.stop_soon()
    if params.flag("drop_pending_updates"):
        world.updates.drop_pending()
    return True


async def get_webhook_info(world: World, params: Params) -> JSONDict:
    info: JSONDict = {
        "url": world.webhook.get("url", ""),
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }
    if info["url"] and world.allowed_updates is not None:
        info["allowed_updates"] = list(world.allowed_updates)
    for key in ("max_connections", "ip_address", "last_error_date", "last_error_message"):
        if key in world.webhook:
            info[key] = world.webhook[key]
    return info


def _scope_key(params: Params) -> str:
    scope: Any = params.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True) + "|" + (params.text("language_code") or "")


async def set_my_commands(world: World, params: Params) -> bool:
    commands = params.get("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad_request("commands must be an array of at most 100 BotCommand")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.match(str(command.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", ""))) <= 256:
            raise bad_request("command description must be non-empty")
    world.commands[_scope_key(params)] = [
        {"command": c["command"], "description": c["description"]} for c in commands
    ]
    return True


async def get_my_commands(world: World, params: Params) -> list[JSONDict]:
    return list(world.commands.get(_scope_key(params), []))


async def delete_my_commands(world: World, params: Params) -> bool:
    world.commands.pop(_scope_key(params), None)
    return True


METHODS: dict[str, Handler] = {
    "getme": get_me,
    "logout": log_out,
    "close": log_out,
    "getupdates": get_updates,
    "setwebhook": set_webhook,
    "deletewebhook": delete_webhook,
    "getwebhookinfo": get_webhook_info,
    "setmycommands": set_my_commands,
    "getmycommands": get_my_commands,
    "deletemycommands": delete_my_commands,
}
