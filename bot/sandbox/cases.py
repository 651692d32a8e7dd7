"""The demo estate's case histories: each case filed, worked to its outcome, then moved back.

The storage functions stamp "now"; `backdate` moves each case's timeline back to the day it was
filed and spreads its steps over plausible hours, so the figures show response and resolution
times. Used by `bot/sandbox/seed.py`.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import demo_data
from storage.cases import case_events, disputes, feedback, open_case, routing, workflow
from storage.cases.categories import category_by_code
from storage.models import Case, Resident
from storage.people import roles

HANDLER_OF_UNIT = {"property": "chen", "urban": "tom", "safety": "ma", "mediation": "wu"}
# Hours after filing at which each kind of step happened (then spread a little at random).
STEP_HOURS = {"accepted": 6, "in_progress": 26, "dispute": 30, "rejected": 10, "duplicate": 8}


class CaseHistories:
    """Filing and working the demo cases as whoever would (mixed into the Seeder)."""

    s: AsyncSession
    now: datetime
    today: date
    rng: random.Random
    people: dict[str, Resident]
    cases: list[Case]

    async def auth(self, key: str) -> roles.Authority:
        return await roles.authority(self.s, resident=self.people[key], admin_ids=frozenset())

    async def file(self, index: int, days_ago: int, who: str, code: str, text: str, queue: bool):
        filed = self.now - timedelta(days=days_ago, hours=self.rng.randint(1, 9))
        reporter = self.people[who]
        chat = demo_data.GROUP_ID if queue else demo_data.BY_KEY[who].user_id
        case, _ = await open_case(
            self.s,
            reporter=reporter,
            category=await category_by_code(self.s, code),
            text=text,
            source="group" if queue else "private",
            source_chat_id=chat,
            # Negative ids: the emulator never makes them, so no real message collides.
            source_message_id=-(index + 1),
            address=f"{reporter.building}号楼" if reporter.building and not queue else None,
            today=self.today,
        )
        return case, filed

    async def handler_of(self, case: Case) -> str:
        unit = await routing.unit_of(self.s, case)
        return HANDLER_OF_UNIT.get(unit.code if unit else "", "zhao")

    async def work(self, case: Case, outcome: str, reporter: Resident, stars: int) -> None:
        """Take the case to its outcome, acting as whoever would."""
        if outcome in ("new", "overdue_new", "queue"):
            return
        secretary = self.people["zhao"]
        if outcome == "rejected":
            await workflow.reject(
                self.s,
                case=case,
                actor=secretary,
                auth=await self.auth("zhao"),
                reason="不属于社区受理范围 / not for the community office",
                responsible="12345 市民服务热线",
            )
            return
        if outcome.startswith("duplicate:"):
            original = self.cases[int(outcome.split(":")[1])]
            await workflow.mark_duplicate(
                self.s, case=case, original=original, actor=secretary, auth=await self.auth("zhao")
            )
            return
        key = await self.handler_of(case)
        handler, auth = self.people[key], await self.auth(key)
        await workflow.accept(self.s, case=case, actor=handler, auth=auth)
        if outcome.startswith("dispute"):
            await disputes.record_dispute(
                self.s, case=case, actor=handler, auth=auth,
                parties="小区超市 / 装修队", people=1 + stars, amount_yuan=1500 * stars,
            )  # fmt: skip
        if outcome in ("accepted", "overdue_accepted"):
            return
        note = "已安排人员上门查看" if reporter.language == "zh" else "Someone will come to look"
        await workflow.add_progress(self.s, case=case, actor=handler, auth=auth, note=note)
        if outcome in ("in_progress", "overdue_progress", "dispute_open"):
            return
        done = "已处理完毕，请确认" if reporter.language == "zh" else "Fixed; please confirm"
        await workflow.resolve(self.s, case=case, actor=handler, auth=auth, note=done)
        if outcome == "reopened":
            await feedback.reopen(
                self.s, case=case, resident=reporter, reason="还是老样子", today=self.today
            )
        elif outcome != "resolved":
            await feedback.confirm_fixed(self.s, case=case, resident=reporter)
            await feedback.rate(self.s, case=case, resident=reporter, stars=stars)

    async def backdate(self, case: Case, filed: datetime, *, keep_due: bool = False) -> None:
        """Move the case's timeline (made "now") back to ``filed``, step by step."""
        events = await case_events(self.s, case=case)
        days = max((self.now - filed).days, 1)
        resolve_at = filed + timedelta(days=min(max(days // 2, 1), 5), hours=self.rng.randint(1, 8))
        previous = filed
        due_shift = filed - case.created_at
        first_response: datetime | None = None
        for event in events:
            step = event.to_status if event.kind == "status" else event.kind
            if step in ("resolved", "closed", "rated", "reopened"):
                extra = {"resolved": 0, "closed": 20, "rated": 21, "reopened": 30}[step]
                when = resolve_at + timedelta(hours=extra)
            else:
                hours = STEP_HOURS.get(step or "", 0)
                when = filed + timedelta(hours=hours * self.rng.uniform(0.5, 1.5))
            when = min(max(when, previous + timedelta(minutes=1)), self.now - timedelta(minutes=5))
            if event.kind == "assigned" or step == "reopened":
                due_shift = when - event.at
            if step in ("accepted", "in_progress", "resolved") and first_response is None:
                first_response = when
            if step == "resolved" and case.resolved_at is not None:
                case.resolved_at = when
            if step == "closed" and case.closed_at is not None:
                case.closed_at = when
            event.at = previous = when
            self.s.add(event)
        if case.first_response_at is not None:
            case.first_response_at = first_response or previous
        if case.due_at is not None and not keep_due:
            case.due_at = case.due_at + due_shift
        if case.due_at is not None and case.due_at < self.now:
            case.reminded_at = case.escalated_at = case.due_at  # the sweep told them back then
        case.created_at, case.updated_at = filed, previous
        self.s.add(case)

    async def cases_of_residents(self) -> None:
        for index, (days_ago, who, code, text, outcome) in enumerate(demo_data.CASES):
            case, filed = await self.file(index, days_ago, who, code, text, outcome == "queue")
            self.cases.append(case)
            await self.work(case, outcome, self.people[who], stars=self.rng.randint(3, 5))
            await self.backdate(case, filed)
