"""The soak test's final checks and its printed tables.

Reports: every description a resident submitted carries a unique tag; each one the bot
confirmed must be exactly one case (none is lost, none doubled), with the number the bot gave.
Notices: the outbox rows by status; a sent row's message must be in the emulator under its
sent_message_id (else it is lost), and any other bot message in that chat with the same text
and buttons is a duplicate. A SIGTERM'd bot sends nothing twice; a SIGKILL'd one may re-send
the one notice in flight, so duplicates are allowed up to the number of SIGKILLs.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from bench.soak_watch import TAG, Stats, buttons, percentiles
from bot.telegram.emulator import Emulator
from storage.db import session_scope
from storage.models import Case, OutboxMessage, Resident, utcnow
from storage.whistle.models import WhistleAnswer


@dataclass
class Check:
    name: str
    value: int | float
    limit: int | float | None = None  # None: shown, not judged

    @property
    def ok(self) -> bool:
        return self.limit is None or self.value <= self.limit


async def report_checks(engine: AsyncEngine, stats: Stats) -> list[Check]:
    async with session_scope(engine) as session:
        rows = (await session.exec(select(Case.id, Case.text))).all()
    cases: dict[str, list[int]] = defaultdict(list)
    untagged = 0
    for number, text in rows:
        found = TAG.search(text)
        if found:
            cases[found[0]].append(number)
        else:
            untagged += 1
    confirmed = stats.confirmed
    unconfirmed = [tag for tag in stats.submitted if tag not in confirmed]
    return [
        Check("reports submitted (confirm pressed)", len(stats.submitted)),
        Check("reports confirmed by the bot", len(confirmed)),
        Check("cases found for confirmed reports", sum(len(cases[t]) for t in confirmed)),
        Check("confirmed reports lost (0 cases)", sum(not cases[t] for t in confirmed), 0),
        Check("reports doubled (>1 case)", sum(len(cases[t]) > 1 for t in stats.submitted), 0),
        Check(
            "confirmed with a wrong number",
            sum(bool(cases[t]) and n not in cases[t] for t, n in confirmed.items()),
            0,
        ),
        Check("filed but never confirmed (info)", sum(len(cases[t]) == 1 for t in unconfirmed)),
        Check("cases nobody submitted", sum(1 for t in cases if t not in stats.submitted), 0),
        Check("cases without a tag", untagged, 0),
        Check("/case showed other words", stats.counts["/case showed other words"], 0),
        Check("cases missing from /mycases", stats.counts["cases missing from /mycases"], 0),
    ]


def _signature(message: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    return message.get("text") or message.get("caption") or "", tuple(buttons(message))


async def notice_checks(
    engine: AsyncEngine, emu: Emulator, stats: Stats, kills: int
) -> tuple[list[Check], dict[str, list[float]]]:
    """The outbox checks, and the delivery latencies (created -> sent) in seconds: in all,
    and by kind of notice."""
    now = utcnow()
    async with session_scope(engine) as session:
        rows = (await session.exec(select(OutboxMessage))).all()
        query = select(WhistleAnswer.whistle_id, WhistleAnswer.option, Resident.external_id).join(
            Resident, col(Resident.id) == WhistleAnswer.resident_id
        )
        stored = {(chat, w): option for w, option, chat in (await session.exec(query)).all()}
    status = Counter(row.status for row in rows)
    due = sum(1 for r in rows if r.status == "pending" and r.next_attempt_at <= now)
    sent = [r for r in rows if r.status == "sent" and r.sent_message_id is not None]
    latencies: dict[str, list[float]] = defaultdict(list)
    for row in sent:
        if row.sent_at is not None:
            seconds = (row.sent_at - row.created_at).total_seconds()
            latencies["notice delivery"].append(seconds)
            latencies[f"  {row.kind}"].append(seconds)
    lost = duplicates = 0
    expected: dict[int, Counter[tuple[str, tuple[str, ...]]]] = defaultdict(Counter)
    for row in sent:
        chat = emu.world.chats.get(int(row.address))
        message = chat.messages.get(row.sent_message_id or 0) if chat else None
        if message is None:
            lost += 1
        elif "edit_date" not in message:  # an edited message's first words are gone
            expected[int(row.address)][_signature(message)] += 1
    for chat, signatures in expected.items():
        seen = Counter(_signature(m) for m in emu.bot_messages(chat))
        duplicates += sum(max(0, seen[s] - n) for s, n in signatures.items())
    wrong_answers = sum(stored.get(key) != option for key, option in stats.answers.items())
    checks = [
        Check("notices queued in all", len(rows)),
        Check("sent", status["sent"]),
        Check("unreachable (blocked the bot)", status["unreachable"]),
        Check("failed (gave up)", status["failed"], 0),
        Check("still queued and due", due, 0),
        Check("still queued for later (info)", status["pending"] - due),
        Check("sent but missing from the chat (lost)", lost, 0),
        Check(f"delivered twice (allowed: 1 per SIGKILL = {kills})", duplicates, kills),
        Check("whistle answers acknowledged", len(stats.answers)),
        Check("stored answer differs from acknowledged", wrong_answers, 0),
    ]
    return checks, latencies


def restart_checks(stats: Stats) -> list[Check]:
    graceful = [r for r in stats.restarts if r["signal"] == "SIGTERM"]
    return [
        Check("SIGTERM stops", len(graceful)),
        Check("SIGKILL stops", sum(r["signal"] == "SIGKILL" for r in stats.restarts)),
        Check("SIGTERM stops not exiting 0 within 10 s", sum(_unclean(r) for r in graceful), 0),
    ]


def _unclean(stop: dict[str, Any]) -> bool:
    return bool(stop["forced"] or stop["exit"] != 0 or stop["seconds"] > 10)


def print_checks(title: str, checks: list[Check]) -> None:
    print(f"\n{title:<52}{'value':>8}{'limit':>8}  result")
    for check in checks:
        limit = "" if check.limit is None else f"{check.limit:g}"
        verdict = "" if check.limit is None else ("ok" if check.ok else "FAIL")
        print(f"  {check.name:<50}{check.value:>8g}{limit:>8}  {verdict}")


def print_latencies(series: dict[str, list[float]]) -> None:
    print(f"\n{'latency (seconds)':<30}{'n':>7}{'p50':>8}{'p90':>8}{'p99':>8}{'max':>8}")
    for name, values in series.items():
        p = percentiles(values)
        cells = "".join("       -" if math.isnan(v) else f"{v:>8.2f}" for v in p.values())
        print(f"  {name:<28}{len(values):>7}{cells}")


def print_counts(title: str, counts: dict[str, int]) -> None:
    print(f"\n{title}")
    if not counts:
        print("  (none)")
    for name, value in counts.items():
        print(f"  {name:<50}{value:>8}")


def print_restarts(stats: Stats) -> None:
    print(f"\n{'restarts':<12}{'signal':>8}{'exit':>6}{'to exit (s)':>13}{'ready after (s)':>17}")
    for i, r in enumerate(stats.restarts, 1):
        ready = "(final stop)" if r["ready after"] is None else f"{r['ready after']:.2f}"
        forced = " (forced)" if r["forced"] else ""
        print(f"  #{i:<9}{r['signal']:>8}{r['exit']:>6}{r['seconds']:>13.2f}{ready:>17}{forced}")


def log_summary(log: str, top: int = 6) -> dict[str, int]:
    """The commonest exceptions in the bot's log, by the last line of each traceback."""
    lines = log.splitlines()
    endings: Counter[str] = Counter()
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and lines[j].startswith(" "):
                j += 1
            if j < len(lines):
                endings[lines[j][:70]] += 1
    return dict(endings.most_common(top))


def print_soak(
    header: str,
    activity: dict[str, int],
    stats: Stats,
    checks: dict[str, list[Check]],
    delivery: dict[str, list[float]],
    log: str,
) -> bool:
    """Print everything; True when every check passed."""
    print(header)
    print_counts("activity", {**activity, **stats.counts})
    print_counts("faults injected", dict(stats.faults))
    print_restarts(stats)
    print_counts("presses the bot answered otherwise (why)", dict(stats.refused.most_common(8)))
    print_counts(
        "bot log: errors, by the last line of their traceback",
        {"ERROR lines": log.count(" ERROR "), **log_summary(log)},
    )
    for title, group in checks.items():
        print_checks(title, group)
    print_latencies({**stats.latency, **delivery})
    failed = [c.name for group in checks.values() for c in group if not c.ok]
    print("\nresult:", "FAIL: " + "; ".join(failed) if failed else "all checks passed")
    return not failed
