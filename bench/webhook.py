"""Benchmark: updates per second through the webhook with one and two instances, against polling.

Real `yishi run` processes on one PostgreSQL (or a SQLite file, for polling and one instance
only), the emulator over loopback HTTP playing Telegram. Three set-ups, each on a fresh
database: one process polling (`yishi run`), one process and two processes in webhook mode
(`yishi run --webhook`) behind a round-robin balancer (bot/telegram/emulator/balancer.py), to which
the
emulator posts each update as Telegram would (at most 40 requests in flight, a chat's updates
one at a time). Every update is a resident's `/mycases`: the processed-updates ledger, the
resident's row and a query of their cases, then a reply.

Two phases per set-up:
- burst: every resident sends --burst messages at once; updates/s from the first message to
  the last reply (the ratio to polling is the figure to read);
- paced: --rate updates/s for --seconds; the reply latency (the update made -> the bot's reply
  in the chat) and the handler latency (from the instances' /metrics histograms), p50 and p99.

The emulator, the balancer and the simulated residents run in this process: on a small machine
they compete with the bots for the CPU, which the printed CPU seconds per process show.

    python bench/webhook.py                  # PostgreSQL at postgresql://postgres@127.0.0.1/bench_webhook
    python bench/webhook.py --residents 100 --burst 10 --rate 30 --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from bench.harness import fresh_engine  # noqa: E402
from bot.config import normalise_database_url  # noqa: E402
from bot.telegram.emulator import Emulator, RoundRobin, serve_in_background  # noqa: E402
from bot.telegram.emulator.bot_process import BotProcess, bot_env  # noqa: E402

TOKEN = "123456:BENCH-webhook"
SECRET = "bench-webhook-secret"
FIRST_USER = 700_000
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/bench_webhook"
SETUPS = {  # the first one run is the baseline of the ratios
    "polling": ("polling, 1 process", 1, False),
    "webhook1": ("webhook, 1 instance", 1, True),
    "webhook2": ("webhook, 2 instances", 2, True),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Replies:
    """When each bot message arrived, per chat (the emulator's add_message, timed)."""

    def __init__(self, emu: Emulator) -> None:
        self.at: dict[int, list[float]] = defaultdict(list)
        world = emu.world
        original = world.add_message
        bot_id = world.bot_user["id"]

        def add_message(record: Any, sender: Any, content: Any, reply_to: Any = None) -> Any:
            if sender.get("id") == bot_id:
                self.at[record.id].append(time.perf_counter())
            return original(record, sender, content, reply_to)

        world.add_message = add_message  # type: ignore[method-assign]

    def count(self) -> int:
        return sum(len(times) for times in self.at.values())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def histogram_percentile(buckets: list[tuple[float, float]], share: float) -> float:
    """From cumulative (upper bound, count) pairs, interpolating inside the bucket."""
    total = buckets[-1][1] if buckets else 0
    if not total:
        return float("nan")
    wanted, lower, below = share * total, 0.0, 0.0
    for upper, count in buckets:
        if count >= wanted:
            if upper == float("inf"):
                return lower
            inside = count - below
            return lower + (upper - lower) * ((wanted - below) / inside if inside else 1)
        lower, below = upper, count
    return lower


async def scrape(urls: list[str]) -> dict[str, Any]:
    """The instances' handler histograms summed, and CPU seconds per instance."""
    buckets: dict[float, float] = defaultdict(float)
    cpu: list[float] = []
    async with httpx.AsyncClient(timeout=10) as http:
        for url in urls:
            page = (await http.get(f"{url}/metrics")).text
            for family in text_string_to_metric_families(page):
                for sample in family.samples:
                    if sample.name == "yishi_handler_seconds_bucket":
                        buckets[float(sample.labels["le"])] += sample.value
                    elif sample.name == "process_cpu_seconds_total":
                        cpu.append(sample.value)
    return {"buckets": sorted(buckets.items()), "cpu": cpu}


def since(after: dict[str, Any], before: dict[str, Any]) -> list[tuple[float, float]]:
    old = dict(before["buckets"])
    return [(bound, count - old.get(bound, 0.0)) for bound, count in after["buckets"]]


async def wait_for(replies: Replies, total: int, timeout: float) -> float:
    deadline = time.perf_counter() + timeout
    while replies.count() < total:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{replies.count()} of {total} replies after {timeout:.0f} s")
        await asyncio.sleep(0.01)
    return time.perf_counter()


async def run_setup(name: str, instances: int, webhook: bool, args: argparse.Namespace) -> dict:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    url = normalise_database_url(args.database)
    engine = await fresh_engine(url)
    await engine.dispose()
    emu = Emulator(token=TOKEN, bot_username="yishi_bot", bot_first_name="Yishi")
    users = range(FIRST_USER, FIRST_USER + args.residents)
    for user in users:
        emu.add_user(user, f"居民{user}", language_code="zh")
    replies = Replies(emu)
    listens = [f"127.0.0.1:{free_port()}" for _ in range(instances)]
    health = [f"http://{listen}" for listen in listens]
    balancer = RoundRobin(health)
    workdir = Path(tempfile.mkdtemp(prefix=f"bench-webhook-{name}-"))
    # The emulator posts into the balancer in-process (no HTTP hop of the harness's own): on a
    # small machine the harness competes with the bots for the CPU.
    emu.webhook_transport = httpx.ASGITransport(app=balancer)
    lb_url = "http://127.0.0.1:9/balancer"  # what the bots set as their webhook; never dialled
    async with serve_in_background(emu) as emu_url:
        env = bot_env(emu_url, url, TOKEN, webhook_secret=SECRET)
        bots = []
        for i, listen in enumerate(listens):
            mode = ["--webhook", "--url", f"{lb_url}/telegram"] if webhook else []
            bots.append(
                BotProcess(
                    emu,
                    workdir,
                    env,
                    name=f"bot{i}",
                    health_url=f"http://{listen}/healthz",
                    args=[*mode, "--listen", listen],
                )  # fmt: skip
            )
        try:
            for bot in bots:  # one after the other: both would migrate an empty database
                await bot.start()
            for user in users:  # warm up: every resident known, every connection open
                emu.send_text(user, "/mycases")
            await wait_for(replies, len(users), 120)
            expected = replies.count()

            before = await scrape(health)
            started = time.perf_counter()
            for _ in range(args.burst):
                for user in users:
                    emu.send_text(user, "/mycases")
            expected += args.burst * len(users)
            finished = await wait_for(replies, expected, 600)
            burst_rate = args.burst * len(users) / (finished - started)

            mid = await scrape(health)
            sent_at: dict[int, list[float]] = defaultdict(list)
            seen = {user: len(replies.at[user]) for user in users}
            interval, count = 1 / args.rate, int(args.rate * args.seconds)
            paced_start = time.perf_counter()
            for i in range(count):
                user = users[i % len(users)]
                delay = paced_start + i * interval - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                sent_at[user].append(time.perf_counter())
                emu.send_text(user, "/mycases")
            await wait_for(replies, expected + count, 120)
            after = await scrape(health)
        finally:
            for bot in bots:
                await bot.stop()
            await balancer.aclose()
    latencies = [
        arrived - sent
        for user, sends in sent_at.items()
        for sent, arrived in zip(sends, replies.at[user][seen[user] :], strict=False)
    ]
    handler = since(after, mid)
    here = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "here_cpu": round(here.ru_utime + here.ru_stime - cpu_before, 1),
        "name": name,
        "burst_rate": burst_rate,
        "reply_p50": percentile(latencies, 0.5),
        "reply_p99": percentile(latencies, 0.99),
        "handler_p50": histogram_percentile(handler, 0.5),
        "handler_p99": histogram_percentile(handler, 0.99),
        "cpu": [round(a - b, 1) for a, b in zip(after["cpu"], before["cpu"], strict=True)],
        "balanced": dict(balancer.forwarded) if webhook else {},
    }


def ensure_database(url: str) -> None:
    if url.startswith("postgresql"):
        name = url.rsplit("/", 1)[1]
        subprocess.run(
            ["createdb", "-h", "127.0.0.1", "-U", "postgres", name],
            capture_output=True,
            check=False,
        )


def report(results: list[dict], args: argparse.Namespace) -> None:
    base = results[0]["burst_rate"]
    print(f"\n{args.residents} residents; burst {args.burst} each; paced {args.rate}/s for "
          f"{args.seconds} s; database {args.database.split('@')[-1]}")  # fmt: skip
    print(f"{'set-up':<22}{'updates/s':>10}{'ratio':>7}{'reply p50':>11}{'reply p99':>11}"
          f"{'handler p50':>13}{'handler p99':>13}  cpu s (burst+paced)")  # fmt: skip
    for r in results:
        print(
            f"{r['name']:<22}{r['burst_rate']:>10.0f}{r['burst_rate'] / base:>7.2f}"
            f"{r['reply_p50'] * 1000:>9.0f}ms{r['reply_p99'] * 1000:>9.0f}ms"
            f"{r['handler_p50'] * 1000:>11.0f}ms{r['handler_p99'] * 1000:>11.0f}ms  {r['cpu']}"
            f" (this process: {r['here_cpu']})"
        )
    for r in results:
        if r["balanced"]:
            print(f"  {r['name']}: requests per instance {list(r['balanced'].values())}")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--residents", type=int, default=200)
    parser.add_argument("--burst", type=int, default=15, help="messages per resident at once")
    parser.add_argument("--rate", type=float, default=40, help="paced updates per second")
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--only", choices=sorted(SETUPS), action="append", help="repeatable")
    args = parser.parse_args()
    ensure_database(args.database)
    chosen = args.only or list(SETUPS)
    if not args.database.startswith("postgresql") and "webhook2" in chosen:
        chosen.remove("webhook2")  # two processes on one SQLite file is not a set-up we offer
    results = [await run_setup(*SETUPS[key], args) for key in chosen]
    report(results, args)


if __name__ == "__main__":
    asyncio.run(main())
