"""The webhook path in-process: the secret token, retries, /healthz and /metrics.

The emulator makes the updates (a resident typing), the test posts them to the web app the
way Telegram would, and the bot answers through the emulator's Bot API.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func
from sqlmodel import select

from bot.config import load_settings
from bot.metrics import CASES_OPENED
from bot.runtime import runtime
from bot.serving import Intake
from bot.telegram.app import (
    build_application,
    start_scheduling,
    start_sending,
    stop_scheduling,
    stop_sending,
)
from bot.telegram.emulator import Emulator
from bot.telegram.webhook import SECRET_HEADER, WebhookEndpoint
from bot.web import BotLink, build_web_app
from storage.db import create_engine, session_scope
from storage.models import ProcessedUpdate
from tests.harness import LI, TOKEN, WANG, emulator_request, make_emulator

SECRET = "s3cret-Token_for-tests"
PATH = "/telegram/hook"
PUBLIC = "https://bot.example.org/tg"


@dataclass
class WebhookBot:
    emu: Emulator
    http: httpx.AsyncClient
    intake: Intake

    async def post(self, update: dict[str, Any], secret: str | None = SECRET, **kw: Any):
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        return await self.http.post(PATH, json=update, headers=headers, **kw)

    def typed(self, user: int, text: str) -> dict[str, Any]:
        """What Telegram would post after `user` typed `text`."""
        self.emu.send_text(user, text)
        return self.emu.updates()[-1]


@pytest.fixture
async def webhook_bot(database_url: str) -> AsyncIterator[WebhookBot]:
    emu = make_emulator()
    settings = load_settings(
        telegram_token=TOKEN, telegram_api_url="http://emulator/bot", database_url=database_url
    )
    engine = create_engine(database_url)
    app = build_application(settings, engine, request=emulator_request(emu), polling=False)
    intake = Intake()
    link = BotLink(sender=runtime(app.bot_data).sender, intake=intake)
    link.webhook = (PATH, WebhookEndpoint(app, SECRET, intake).handle)
    web = build_web_app(settings, engine, link)
    async with app:
        await app.start()
        start_sending(app)
        start_scheduling(app)
        intake.open()
        transport = httpx.ASGITransport(app=web)
        async with httpx.AsyncClient(transport=transport, base_url="http://yishi.test") as http:
            yield WebhookBot(emu, http, intake)
        await stop_scheduling(app)
        await stop_sending(app)
        await app.stop()
    await engine.dispose()


async def _handled(database_url: str) -> int:
    engine = create_engine(database_url)
    async with session_scope(engine) as session:
        count = (await session.exec(select(func.count()).select_from(ProcessedUpdate))).one()
    await engine.dispose()
    return int(count)


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


async def test_without_the_right_secret_the_update_is_refused_and_nothing_happens(
    webhook_bot: WebhookBot, database_url: str
):
    update = webhook_bot.typed(WANG, "/start")
    for secret in (None, "", "wrong", SECRET[:-1], SECRET + "x", SECRET.upper()):
        response = await webhook_bot.post(update, secret=secret)
        assert response.status_code == 403, secret
    assert webhook_bot.emu.bot_messages(WANG) == []
    assert await _handled(database_url) == 0


async def test_an_update_is_handled_inside_the_request_and_a_retry_changes_nothing(
    webhook_bot: WebhookBot, database_url: str
):
    update = webhook_bot.typed(WANG, "/start")
    response = await webhook_bot.post(update)
    assert response.status_code == 200
    replies = webhook_bot.emu.bot_messages(WANG)
    assert len(replies) == 1  # answered before the 200: the request carried the whole update
    assert (await webhook_bot.post(update)).status_code == 200  # Telegram's retry
    assert len(webhook_bot.emu.bot_messages(WANG)) == 1
    assert await _handled(database_url) == 1


async def test_what_is_not_an_update_gets_a_clear_refusal(webhook_bot: WebhookBot):
    headers = {SECRET_HEADER: SECRET}
    http = webhook_bot.http
    text = await http.post(PATH, content=b"hello", headers=headers | {"content-type": "text/plain"})
    assert text.status_code == 415
    broken = await http.post(
        PATH, content=b"{not json", headers=headers | {"content-type": "application/json"}
    )
    assert broken.status_code == 400
    assert (await webhook_bot.post([1, 2])).status_code == 400  # type: ignore[arg-type]
    huge = {"update_id": 1, "message": {"text": "x" * 2_000_000}}
    assert (await webhook_bot.post(huge)).status_code == 400
    assert (await http.get(PATH)).status_code == 405
    assert webhook_bot.emu.bot_messages(WANG) == []


async def test_healthz_says_ok_while_running_and_503_when_stopping(webhook_bot: WebhookBot):
    healthy = await webhook_bot.http.get("/healthz")
    assert healthy.status_code == 200
    body = healthy.json()
    assert body["status"] == "ok" and body["database"] == "ok" and body["sender"] == "running"
    assert body["backlog"] == 0
    update = webhook_bot.typed(WANG, "/start")
    webhook_bot.intake.close()
    stopping = await webhook_bot.http.get("/healthz")
    assert stopping.status_code == 503 and stopping.json()["status"] == "stopping"
    refused = await webhook_bot.post(update)
    assert refused.status_code == 503  # Telegram tries again later, maybe another instance
    assert webhook_bot.emu.bot_messages(WANG) == []


async def test_healthz_reports_a_database_that_cannot_be_reached():
    closed_port = "postgresql://postgres@127.0.0.1:1/yishi"  # nothing listens on port 1
    settings = load_settings(database_url=closed_port)
    engine = create_engine(settings.database_url)
    web = build_web_app(settings, engine)
    transport = httpx.ASGITransport(app=web)
    async with httpx.AsyncClient(transport=transport, base_url="http://yishi.test") as http:
        response = await http.get("/healthz")
        metrics = await http.get("/metrics")
    await engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unhealthy"
    assert response.json()["database"] in ("ConnectionRefusedError", "OSError")
    assert response.json()["backlog"] is None
    assert metrics.status_code == 200  # the counters are still worth scraping


async def test_metrics_count_updates_by_type_cases_and_the_backlog(webhook_bot: WebhookBot):
    before = _samples((await webhook_bot.http.get("/metrics")).text)
    await webhook_bot.post(webhook_bot.typed(WANG, "/start"))
    await webhook_bot.post(webhook_bot.typed(WANG, "/report"), secret="nope")
    page = await webhook_bot.http.get("/metrics")
    assert page.headers["content-type"].startswith("text/plain")
    after = _samples(page.text)

    def grew(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew("yishi_updates_total", type="message") == 1
    assert grew("yishi_webhook_requests_total", result="handled") == 1
    assert grew("yishi_webhook_requests_total", result="forbidden") == 1
    assert grew("yishi_handler_seconds_count") == 1
    assert after[("yishi_outbox_backlog", (("status", "pending"),))] == 0
    assert ("yishi_cases_opened_total", ()) in after


async def test_a_case_counts_as_opened_when_its_transaction_commits(engine):
    from storage.cases import open_case
    from storage.models import Category
    from tests.storage.factories import resident

    async def open_one(session) -> None:
        category = (await session.exec(select(Category))).first()
        await open_case(
            session,
            reporter=await resident(session),
            category=category,
            text="楼道灯坏了",
            source="private",
            source_chat_id=WANG,
            source_message_id=1,
        )

    def opened() -> float:
        return CASES_OPENED._value.get()

    start = opened()
    with pytest.raises(RuntimeError):
        async with session_scope(engine) as session:
            await open_one(session)
            await session.flush()
            raise RuntimeError("the report fails half-way")
    assert opened() == start  # rolled back: nothing was opened
    async with session_scope(engine) as session:
        await open_one(session)
    assert opened() == start + 1


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--webhook", "--url", PUBLIC], {}, "YISHI_WEBHOOK_SECRET is not set"),
        (["--webhook", "--url", PUBLIC], {"YISHI_WEBHOOK_SECRET": "a b"},
         "YISHI_WEBHOOK_SECRET must be"),
        (["--webhook"], {"YISHI_WEBHOOK_SECRET": SECRET}, "--webhook needs --url"),
        (["--webhook", "--url", "http://bot.example.org/tg"], {"YISHI_WEBHOOK_SECRET": SECRET},
         "only to https://"),
        (["--url", PUBLIC], {}, "--url is for --webhook"),
        (["--webhook", "--url", PUBLIC, "--listen", "8443"],
         {"YISHI_WEBHOOK_SECRET": SECRET}, "use HOST:PORT"),
    ],
)  # fmt: skip
def test_webhook_mode_refuses_to_start_without_what_it_needs(
    args, env, says, monkeypatch, tmp_path, capsys
):
    from bot.cli import main

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("YISHI_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("YISHI_DATABASE_URL", f"sqlite:///{tmp_path}/yishi.db")
    monkeypatch.delenv("YISHI_WEBHOOK_SECRET", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["run", *args]) == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "yishi.db").exists()  # refused before touching anything


async def test_metrics_count_send_errors_by_telegrams_answer(webhook_bot: WebhookBot, engine):
    from storage import outbox
    from tests.storage.factories import resident

    before = _samples((await webhook_bot.http.get("/metrics")).text)
    webhook_bot.emu.fail_next("sendMessage", status=429, retry_after=1)
    webhook_bot.emu.block(WANG, notify_bot=False)
    async with session_scope(engine) as session:
        for n, chat in enumerate((LI, WANG)):
            await outbox.enqueue(
                session, to=await resident(session, chat), kind="text",
                params={"text": f"停水通知 {n}"}, dedup_key=f"metrics:{chat}",
            )  # fmt: skip
    sent = ("yishi_outbox_sent_total", ())
    refused = ("yishi_outbox_send_errors_total", (("code", "403"),))
    for _ in range(100):  # the 429 first (a one-second pause), then LI's notice and WANG's 403
        after = _samples((await webhook_bot.http.get("/metrics")).text)
        if all(after.get(key, 0) > before.get(key, 0) for key in (sent, refused)):
            break
        await asyncio.sleep(0.1)

    def grew(code: str) -> float:
        key = ("yishi_outbox_send_errors_total", (("code", code),))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert (grew("429"), grew("403"), grew("400"), grew("5xx")) == (1, 1, 0, 0)
    assert after[sent] - before.get(sent, 0) == 1
