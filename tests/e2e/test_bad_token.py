"""A bot token that is malformed or that Telegram refuses stops `yishi run` with one line.

The line names YISHI_TELEGRAM_TOKEN, the exit code is 2 (a setting is wrong), and the token's
secret part appears nowhere in the output, not even at --log-level DEBUG: it shows as `654321:…`.
The emulator, served on loopback, refuses any token but its own (401, as Telegram does).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.telegram.emulator import serve_in_background
from bot.telegram.emulator.bot_process import BotProcess, bot_env
from tests.harness import TOKEN, WANG, make_emulator

pytestmark = pytest.mark.slow

SECRET_PART = "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
REFUSED = f"654321:{SECRET_PART}"
SAYS_REFUSED = (
    "yishi: YISHI_TELEGRAM_TOKEN 654321:… was refused by Telegram: "
    "copy the bot's token from @BotFather again"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _yishi(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True, text=True, env={**os.environ, **env}, cwd=cwd, timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "level"), [("polling", "INFO"), ("webhook", "INFO"), ("polling", "DEBUG")]
)
async def test_a_token_telegram_refuses_ends_in_one_line(tmp_path: Path, mode: str, level: str):
    emu = make_emulator()
    async with serve_in_background(emu) as url:
        env = bot_env(url, f"sqlite:///{tmp_path / 'yishi.db'}", REFUSED)
        args = ["--log-level", level, "run"]
        if mode == "webhook":
            listen = f"127.0.0.1:{_free_port()}"
            env["YISHI_WEBHOOK_SECRET"] = "bad-token-secret"
            args += ["--webhook", "--url", f"http://{listen}/telegram", "--listen", listen]
        result = await asyncio.to_thread(_yishi, env, tmp_path, *args)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert SECRET_PART not in output
    assert "Traceback" not in output
    if level == "INFO":  # checked before anything else is done, so nothing else is said
        assert result.stderr.splitlines() == [SAYS_REFUSED]
        assert not (tmp_path / "yishi.db").exists()
    else:
        assert [line for line in output.splitlines() if "YISHI_" in line] == [SAYS_REFUSED]
        assert result.stderr.splitlines()[-1] == SAYS_REFUSED


@pytest.mark.parametrize("token", ["123456:", "123456: ", "123456:abc/def", ":abc", "12a:abc"])
def test_a_malformed_token_ends_in_one_line(tmp_path: Path, token: str):
    env = {"YISHI_TELEGRAM_TOKEN": token, "YISHI_DATABASE_URL": f"sqlite:///{tmp_path}/y.db"}
    result = _yishi(env, tmp_path, "run")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "yishi: YISHI_TELEGRAM_TOKEN is malformed: expected <digits>:<secret> "
        "(the secret is letters, digits, _ and -)"
    ]
    secret = token.partition(":")[2].strip()
    assert not secret or secret not in result.stdout + result.stderr


def test_a_bot_api_that_cannot_be_reached_ends_in_one_line(tmp_path: Path):
    port = _free_port()  # nothing listens there
    env = bot_env(f"http://127.0.0.1:{port}", f"sqlite:///{tmp_path / 'yishi.db'}", REFUSED)
    result = _yishi(env, tmp_path, "run")
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"yishi: YISHI_TELEGRAM_API_URL http://127.0.0.1:{port}/bot cannot be reached "
        "(NetworkError): check the address and the network"
    ]
    assert SECRET_PART not in result.stdout + result.stderr


async def test_a_running_bot_logs_neither_its_token_nor_its_webhook_secret(tmp_path: Path):
    """At DEBUG python-telegram-bot logs the Bot API URL (token inside) and every call's
    parameters (the webhook's secret_token among them): both show as "…"."""
    emu = make_emulator()
    webhook_secret = "webhook-secret-never-logged"
    async with serve_in_background(emu) as url:
        listen = f"127.0.0.1:{_free_port()}"
        env = bot_env(url, f"sqlite:///{tmp_path / 'yishi.db'}", TOKEN)
        env["YISHI_WEBHOOK_SECRET"] = webhook_secret
        bot = BotProcess(
            emu, tmp_path, env,
            args=["--webhook", "--url", f"http://{listen}/telegram", "--listen", listen],
            health_url=f"http://{listen}/healthz",
            python=("-m", "bot.cli", "--log-level", "DEBUG", "run"),
        )  # fmt: skip
        try:
            await bot.start()
            emu.send_text(WANG, "/start")
            await emu.wait_for_bot_message(WANG, timeout=15)
            assert (await bot.stop())["exit"] == 0
        finally:
            await bot.kill_if_running()
    log = bot.log.read_text()
    assert "Set Bot API URL" in log and "setWebhook" in log  # DEBUG lines were written
    assert TOKEN.partition(":")[2] not in log and webhook_secret not in log
