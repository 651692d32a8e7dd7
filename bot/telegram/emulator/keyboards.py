"""reply_markup: validated the way Telegram validates it, and buttons found for presses."""

from __future__ import annotations

import json
import logging
from typing import Any

from .errors import bad_request

logger = logging.getLogger(__name__)

_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_MARKUP_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")


def _check_inline_button(button: Any) -> None:
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        raise bad_request("can't parse inline keyboard button: Text must be a String")
    actions = [key for key in _BUTTON_ACTIONS if key in button]
    if not actions:
        raise bad_request(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode("utf-8")) <= 64:
            raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button:
        url = button["url"]
        if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
            raise bad_request(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def parse_reply_markup(value: Any) -> dict[str, Any] | None:
    """The validated reply_markup object (None when absent); 400 the way Telegram does."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request("can't parse reply keyboard markup JSON object") from None
    if not isinstance(value, dict) or not any(kind in value for kind in _MARKUP_KINDS):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in value:
        rows = value["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'can\'t parse inline keyboard: Field "inline_keyboard" must be of type Array'
            )
        for row in rows:
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in value:
        rows = value["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request(
                'can\'t parse reply keyboard markup: Field "keyboard" must be of type Array'
            )
        for row in rows:
            for button in row:
                if not isinstance(button, str | dict):
                    raise bad_request(
                        "can't parse keyboard button: KeyboardButton must be a String or an Object"
                    )
    return value


def inline_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    markup = message.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def find_button(
    message: dict[str, Any], *, data: str | None = None, text: str | None = None
) -> dict[str, Any]:
    """The inline button with that callback_data or visible text; LookupError if none."""
    buttons = inline_buttons(message)
    for button in buttons:
        if (data is not None and button.get("callback_data") == data) or (
            data is None and text is not None and button.get("text") == text
        ):
            if "callback_data" not in button:
                raise LookupError(f"button {button.get('text')!r} has no callback_data: {button}")
            return button
    shown = [(b.get("text"), b.get("callback_data")) for b in buttons]
    wanted = f"callback_data={data!r}" if data is not None else f"text={text!r}"
    raise LookupError(
        f"message {message.get('message_id')} has no button with {wanted}; buttons: {shown}"
    )
