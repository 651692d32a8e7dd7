"""The Telegram adapter: every action round-trips through callback data, and an Update becomes
the Inbound the conversations read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from telegram import InlineKeyboardMarkup, ReplyKeyboardMarkup, ReplyKeyboardRemove, Update

from bot.telegram.adapter import inbound, reply_markup
from bot.telegram.limits import check_callback_data
from handlers.actions import LAYOUTS, Action, Layout, decode, encode
from handlers.conversation import (
    REMOVE_KEYBOARD,
    Contact,
    Inbound,
    Key,
    Keyboard,
    Location,
    Person,
    Place,
    Ref,
    Reply,
    Written,
)

BOT, BOT_NAME = 4242, "yishi_bot"
WANG = {"id": 1001, "is_bot": False, "first_name": "王", "last_name": "芳", "language_code": "zh"}
YISHI = {"id": BOT, "is_bot": True, "first_name": "Yishi", "username": BOT_NAME}
PRIVATE = {"id": 1001, "type": "private", "first_name": "王"}
GROUP = {"id": -100500, "type": "supergroup", "title": "阳光花园居民群"}
DATE = 1_790_000_000


def examples(layout: Layout) -> Iterator[str]:
    """The layout's wire with its first example in every field, then each example in turn."""
    valid = {name: field.examples[0] for name, field in layout.fields.items()}
    yield layout.wire.format(**valid)
    for name, field in layout.fields.items():
        for value in field.examples[1:]:
            yield layout.wire.format(**{**valid, name: value})


ACTIONS: list[Action] = []
for _layout in LAYOUTS:
    for _wire in examples(_layout):
        _action = decode(_wire)
        assert _action is not None, _wire
        if _action not in ACTIONS:
            ACTIONS.append(_action)


def read(data: dict[str, Any]) -> Inbound:
    """An update as Telegram sends it (through JSON), read by the adapter."""
    update = Update.de_json(json.loads(json.dumps(data)), None)
    assert update is not None
    return inbound(update, account=BOT, account_name=BOT_NAME)


@pytest.mark.parametrize("action", ACTIONS, ids=encode)
def test_every_action_round_trips_through_callback_data(action: Action) -> None:
    data = encode(action)
    check_callback_data(data)  # what Telegram would take
    markup = reply_markup(Reply("words", [[("press me", data)], [("map", "https://example.org")]]))
    assert isinstance(markup, InlineKeyboardMarkup)
    [[button], [link]] = markup.inline_keyboard
    assert button.callback_data == data and link.url == "https://example.org"
    shown = {"message_id": 7, "date": DATE, "chat": PRIVATE, "from": YISHI, "text": "words"}
    pressed = read(
        {
            "update_id": 1,
            "callback_query": {
                "id": "q1",
                "from": WANG,
                "chat_instance": "c",
                "data": button.callback_data,
                "message": {**shown, "reply_markup": markup.to_dict()},
            },
        }
    )
    assert pressed.action == action
    assert pressed.data == data and pressed.written is None
    assert pressed.pressed is not None and pressed.pressed.ref == Ref(1001, 7)
    assert pressed.pressed.rows == ((("press me", data),), (("map", "https://example.org"),))


def test_the_neutral_keyboards_become_telegram_ones() -> None:
    asks = Keyboard(((Key("📍", asks="location"),), (Key("📱", asks="contact"), Key("Skip"))))
    markup = reply_markup(Reply("where?", keyboard=asks))
    assert isinstance(markup, ReplyKeyboardMarkup)
    [[location], [contact, skip]] = markup.keyboard
    assert location.request_location and contact.request_contact and skip.text == "Skip"
    assert markup.one_time_keyboard and markup.resize_keyboard
    assert isinstance(reply_markup(Reply("done", keyboard=REMOVE_KEYBOARD)), ReplyKeyboardRemove)
    assert reply_markup(Reply("plain")) is None


def message(**fields: Any) -> dict[str, Any]:
    return {"update_id": 9, "message": {"message_id": 30, "date": DATE, "from": WANG, **fields}}


def test_a_photo_in_a_group_with_a_mention_replying_to_the_bot() -> None:
    caption = "#反映 @yishi_bot 灯坏了"
    got = read(
        message(
            chat=GROUP,
            caption=caption,
            caption_entities=[{"type": "mention", "offset": 4, "length": 10}],
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960},
            ],
            media_group_id="album-1",
            reply_to_message={
                "message_id": 29,
                "date": DATE,
                "chat": GROUP,
                "from": YISHI,
                "text": "投票",
            },
        )  # fmt: skip
    )
    wang = Person("1001", "王 芳", None, "zh")
    sent_at = datetime.fromtimestamp(DATE, UTC)
    replied = Written(
        Ref(-100500, 29),
        text="投票",
        sent_at=sent_at,
        author=Person(str(BOT), "Yishi", BOT_NAME, None, is_bot=True),
    )
    assert got == Inbound(
        channel="telegram",
        account=BOT,
        account_name=BOT_NAME,
        update_id=9,
        person=wang,
        place=Place(-100500, private=False, title="阳光花园居民群"),
        written=Written(
            Ref(-100500, 30),
            caption=caption,
            photo="large",
            photo_unique="l",  # the largest size's: the same file whoever sends it
            sent_at=sent_at,
            album="album-1",
            mentions=("@yishi_bot",),
            author=wang,
        ),
        reply_to=replied,
    )
    assert got.written is not None and got.written.words == caption and got.action is None


def test_a_command_with_its_arguments() -> None:
    text = "/case@yishi_bot 27 now"
    got = read(
        message(
            chat=PRIVATE, text=text, entities=[{"type": "bot_command", "offset": 0, "length": 15}]
        )
    )
    assert (got.command, got.args, got.place) == ("case", ("27", "now"), Place(1001, private=True))
    plain = read(message(chat=PRIVATE, text="case 27"))
    assert (plain.command, plain.args) == (None, ())


def test_a_location_and_a_contact() -> None:
    located = read(message(chat=PRIVATE, location={"latitude": 31.23, "longitude": 121.47}))
    assert located.written is not None
    assert located.written.location == Location(31.23, 121.47) and located.written.words is None
    contact = {"phone_number": "+8613800000000", "first_name": "王", "user_id": 1001}
    shared = read(message(chat=PRIVATE, contact=contact))
    assert shared.written is not None
    assert shared.written.contact == Contact("+8613800000000", 1001)
