"""One update the library cannot read must not stop the bot for everyone.

python-telegram-bot reads a getUpdates batch as a whole: one update it cannot parse failed the
batch, the offset never moved, and the same batch was fetched for ever. Now such an update is
skipped (logged with its update_id, counted in /metrics as yishi_updates_unparseable_total) and
confirmed like any other; through the webhook it is answered 200, so Telegram does not retry it.
"""

from __future__ import annotations

import logging

import pytest

from bot.metrics import REGISTRY
from tests.bot.web.test_webhook import WebhookBot, webhook_bot  # noqa: F401
from tests.harness import ALICE, LI, WANG, ZHAO, BotUnderTest, texts

COUNTER = "yishi_updates_unparseable_total"


def unparseable() -> float:
    return REGISTRY.get_sample_value(COUNTER) or 0.0


async def test_polling_skips_an_unreadable_update_and_goes_on(
    bot: BotUnderTest, caplog: pytest.LogCaptureFixture
):
    before = unparseable()
    with caplog.at_level(logging.WARNING):
        # one batch: Wang's, Zhao's that cannot be read, Li's
        bot.emu.send_text(WANG, "/help")
        bad = bot.emu.send_unparseable(ZHAO, "王先生电话13912345678")
        bot.emu.send_text(LI, "/help")
        bot.expected += 3
        await bot.settle()
    assert texts(bot.emu.bot_messages(WANG)) and texts(bot.emu.bot_messages(LI))
    assert bot.emu.bot_messages(ZHAO) == []
    assert unparseable() - before == 1
    assert "Alice" in texts(await bot.say(ALICE, "/start"))[0]  # polling goes on
    assert bot.emu.pending_updates() == 0  # all four confirmed
    warned = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert warned == [f"update {bad['update_id']} (message) cannot be read (TypeError): skipped"]
    assert "13912345678" not in caplog.text


async def test_the_webhook_answers_an_unreadable_update_200(webhook_bot: WebhookBot):  # noqa: F811
    before = unparseable()
    webhook_bot.emu.send_unparseable(ZHAO)
    answer = await webhook_bot.post(webhook_bot.emu.updates()[-1])
    assert answer.status_code == 200  # Telegram would retry anything else, holding Zhao's chat
    assert unparseable() - before == 1
    assert webhook_bot.emu.bot_messages(ZHAO) == []
    assert (await webhook_bot.post(webhook_bot.typed(ZHAO, "/help"))).status_code == 200
    assert webhook_bot.emu.bot_messages(ZHAO)
