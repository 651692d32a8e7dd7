"""Benchmark: residents filing complete reports through the emulator.

Runs, in one go and against the same loopback emulator, (1) a bare python-telegram-bot echo
bot and (2) Yishi (`yishi run`), each as its own process, with the same number of simulated
residents sending the same kinds of update (8 per resident: command, button, text, photo,
button, text, button, button). Prints updates per second for both, their ratio, latency
percentiles per step, and the peak memory (VmHWM) of each bot process.

    python bench/intake.py                      # SQLite (a fresh file)
    python bench/intake.py --database-url postgresql://postgres@127.0.0.1:5432/bench
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.telegram.emulator import Emulator, serve_in_background  # noqa: E402

TOKEN = "123456:BENCH"
FIRST_USER = 100_000
Step = tuple[Callable[[Emulator, int], Any], Callable[[dict[str, Any]], bool]]


def _button(emu: Emulator, chat: int, label: str) -> tuple[int, str]:
    for message in reversed(emu.bot_messages(chat)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for button in row:
                if button["text"] == label:
                    return message["message_id"], button["callback_data"]
    raise LookupError(f"{chat}: no button {label!r}")


def _press(label: str) -> Callable[[Emulator, int], Any]:
    def act(emu: Emulator, user: int) -> Any:
        message_id, data = _button(emu, user, label)
        return emu.press(user, message_id, data=data)

    return act


def _has(marker: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: marker in (message.get("text") or "")


def _any(message: dict[str, Any]) -> bool:
    return True


YISHI_STEPS: list[Step] = [
    (lambda e, u: e.send_text(u, "/report"), _has("1/5")),
    (_press("安全隐患"), _has("2/5")),
    (lambda e, u: e.send_text(u, "3号楼2单元楼道的灭火器过期了"), _has("3/5")),
    (lambda e, u: e.send_photo(u, data=b"jpeg"), _has("第 1 张")),
    (_press("完成 ✅"), _has("4/5")),
    (lambda e, u: e.send_text(u, "3号楼2单元"), _has("5/5")),
    (_press("匿名反映"), _has("匿名：是")),
    (_press("确认提交"), _has("已登记，编号")),
]
ECHO_STEPS: list[Step] = [
    (lambda e, u: e.send_text(u, "/report"), _any),
    (_press("ok"), _any),
    (lambda e, u: e.send_text(u, "3号楼2单元楼道的灭火器过期了"), _any),
    (lambda e, u: e.send_photo(u, data=b"jpeg"), _any),
    (_press("ok"), _any),
    (lambda e, u: e.send_text(u, "3号楼2单元"), _any),
    (_press("ok"), _any),
    (_press("ok"), _any),
]


ECHOES = [("echo (bare PTB)", {}), ("echo concurrent", {"ECHO_CONCURRENT": "1"})]


async def _resident(emu: Emulator, user: int, steps: list[Step], latencies: list[float]) -> None:
    for act, expected in steps:
        messages = emu.bot_messages(user)
        after = messages[-1]["message_id"] if messages else 0
        started = time.perf_counter()
        act(emu, user)
        await emu.wait_for_bot_message(user, after=after, predicate=expected, timeout=60)
        latencies.append(time.perf_counter() - started)


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _run(
    name: str,
    command: list[str],
    env: dict[str, str],
    residents: int,
    steps: list[Step],
    ready: Callable[[Emulator], bool],
) -> dict[str, Any]:
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    users = range(FIRST_USER, FIRST_USER + residents)
    for user in users:
        emu.add_user(user, f"居民{user}", language_code="zh-hans")
    async with serve_in_background(emu) as base_url:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            stdout=asyncio.subprocess.DEVNULL,
            env={
                **os.environ,
                **env,
                "YISHI_TELEGRAM_TOKEN": TOKEN,
                "YISHI_TELEGRAM_API_URL": f"{base_url}/bot",
            },
        )
        try:
            deadline = time.monotonic() + 60
            while not ready(emu):
                if time.monotonic() > deadline or process.returncode is not None:
                    raise RuntimeError(f"{name} did not start")
                await asyncio.sleep(0.05)
            latencies: list[float] = []
            started = time.perf_counter()
            await asyncio.gather(*(_resident(emu, u, steps, latencies) for u in users))
            elapsed = time.perf_counter() - started
            peak = _peak_rss_mib(process.pid)
        finally:
            process.terminate()
            await process.wait()
    updates = residents * len(steps)
    latencies.sort()
    return {
        "name": name,
        "updates": updates,
        "seconds": elapsed,
        "rate": updates / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "peak_mib": peak,
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument(
        "--yishi-only", action="store_true", help="skip the echo baselines (no ratios)"
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        database_url = args.database_url or f"sqlite:///{tmp}/bench.db"
        if args.database_url and "postgres" in args.database_url:
            await _reset_postgres(args.database_url)
        echo_command = [sys.executable, str(ROOT / "bench" / "echo_bot.py")]
        baselines = []
        for name, env in () if args.yishi_only else ECHOES:
            baselines.append(
                await _run(
                    name,
                    echo_command,
                    env,
                    args.residents,
                    ECHO_STEPS,
                    lambda emu: bool(emu.calls_of("getUpdates")),
                )
            )
        yishi = await _run(
            "yishi",
            [sys.executable, "-m", "bot.cli", "--log-level", "WARNING", "run"],
            {"YISHI_DATABASE_URL": database_url},
            args.residents,
            YISHI_STEPS,
            lambda emu: bool(emu.calls_of("setMyCommands")),
        )
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"intake benchmark: {args.residents} residents x 8 updates, Yishi on {backend}")
    print(
        f"{'bot':<16} {'updates':>8} {'seconds':>8} {'updates/s':>10} {'p50 ms':>8} "
        f"{'p95 ms':>8} {'peak MiB':>9}"
    )
    for row in (*baselines, yishi):
        print(
            f"{row['name']:<16} {row['updates']:>8} {row['seconds']:>8.2f} {row['rate']:>10.1f} "
            f"{row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['peak_mib']:>9.1f}"
        )
    if baselines:
        echo, echo_concurrent = baselines
        print(
            f"ratio yishi / bare echo:       {yishi['rate'] / echo['rate']:.2f} "
            "(target >= 0.7 on SQLite)"
        )
        print(f"ratio yishi / concurrent echo: {yishi['rate'] / echo_concurrent['rate']:.2f}")


async def _reset_postgres(url: str) -> None:
    from sqlalchemy import text

    from bot.config import normalise_database_url
    from storage.db import create_engine

    engine = create_engine(normalise_database_url(url))
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main())
