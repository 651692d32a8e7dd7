"""Seeding the sandbox's demo estate through the same storage functions as real use.

People register as if they had written to the bot (`touch_resident`), roles are granted (`grant`),
cases are filed (`open_case`) and worked (`storage.cases.workflow`, `storage.cases.feedback`,
`storage.cases.disputes`, `storage.inspections.hazards`) by the people who would work them. The
storage functions stamp "now"; afterwards each case's timeline is moved back to the day it was filed
and spread over plausible hours, so the figures show response and resolution times. The notices
those actions queued were "delivered" in that past: they are dropped, not sent.

Profiles, subscriptions and the group's registration go through `storage.people.profiles`, proposals
and "me too"s through `storage.deliberation.proposals`.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta, tzinfo

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.sandbox import demo_data
from bot.sandbox.cases import CaseHistories
from bot.sandbox.demo_data import PERSONAS, Persona
from storage import inspections, outbox, people
from storage.cases import duty, routing
from storage.cases.categories import category_by_code
from storage.deliberation import proposals
from storage.models import Case, Resident
from storage.people import profiles, roles
from storage.people.roles import Role

logger = logging.getLogger(__name__)

CHANNEL = "telegram"
DUTY_DAYS = 14


class Seeder(CaseHistories):
    """The estate, built step by step in one transaction."""

    def __init__(self, session: AsyncSession, *, now: datetime, tz: tzinfo) -> None:
        self.s = session
        self.now = now
        self.tz = tz
        self.today = now.astimezone(tz).date()
        self.rng = random.Random(2026)
        self.people: dict[str, Resident] = {}
        self.cases: list[Case] = []

    async def register(self, persona: Persona) -> Resident:
        resident = await people.touch_resident(
            self.s,
            channel=CHANNEL,
            external_id=str(persona.user_id),
            name=persona.full_name,
            username=persona.username,
            language_code=persona.language_code,
            default_language="zh",
        )
        resident.created_at = self.now - timedelta(days=120)
        self.s.add(resident)
        if persona.building:
            await profiles.set_home(
                self.s, resident=resident, building=persona.building, entrance="1"
            )
            await profiles.set_phone(
                self.s,
                resident=resident,
                phone=persona.phone,
                channel=CHANNEL,
                owner_external_id=str(persona.user_id),
            )
            await profiles.subscribe(self.s, resident=resident, now=self.now - timedelta(days=100))
        return resident

    async def people_and_roles(self) -> None:
        for persona in PERSONAS:
            self.people[persona.key] = await self.register(persona)
        secretary = self.people["zhao"]
        for persona in PERSONAS:
            resident = self.people[persona.key]
            if persona.role == "resident":
                continue
            unit = await routing.unit_by_code(self.s, persona.unit) if persona.unit else None
            await roles.grant(
                self.s,
                resident=resident,
                role=Role(persona.role),
                unit_id=unit.id if unit else None,
                by=None if resident is secretary else secretary,
            )
        mediators = [self.people["wu"], self.people["zheng"]]
        for offset in range(DUTY_DAYS):  # the roster /duty shows: two on duty every day
            await duty.set_duty(
                self.s, day=self.today + timedelta(days=offset), mediators=mediators
            )
        group = await people.touch_group(
            self.s, channel=CHANNEL, external_id=demo_data.GROUP_ID, title=demo_data.GROUP_TITLE
        )
        await profiles.register_group(
            self.s,
            group=group,
            by=await self.auth("zhao"),
            buildings=demo_data.GROUP_BUILDINGS,
            now=self.now - timedelta(days=110),
        )

    async def inspection(self) -> None:
        inspector = self.people["huang"]
        round_, _ = await inspections.start_round(self.s, inspector=inspector)
        for number, (days_ago, line_text, rectified) in enumerate(demo_data.HAZARDS):
            filed = self.now - timedelta(days=days_ago, hours=3 - number)
            case, _ = await inspections.log_hazard(
                self.s,
                round_=round_,
                inspector=inspector,
                kind=inspections.HazardKind.UNDERGROUND_PARKING
                if number == 0
                else inspections.HazardKind.FIRE_PASSAGE,
                line=inspections.parse_line(line_text),
                photo=None,
                today=filed.astimezone(self.tz).date(),
                tz=self.tz,
                source_chat_id=demo_data.BY_KEY["huang"].user_id,
                source_message_id=-(1000 + number),
            )
            if rectified:
                await self.work(case, "closed", inspector, stars=5)
            await self.backdate(case, filed, keep_due=True)
        await inspections.end_round(self.s, inspector=inspector, round_id=round_.id or 0)
        round_.started_at = self.now - timedelta(days=HAZARD_DAYS, hours=4)
        round_.ended_at = round_.started_at + timedelta(hours=2)
        self.s.add(round_)

    async def proposals(self) -> None:
        """Proposals and "me too"s, as residents make them with /propose and the buttons."""
        for number, (who, code, text, supporters) in enumerate(demo_data.PROPOSALS):
            created = self.now - timedelta(days=20 - 4 * number)
            proposer = self.people[who]
            category = await category_by_code(self.s, code)
            started = await proposals.start_proposal(
                self.s, proposer=proposer, text=text, now=created, category_id=category.id
            )
            proposal = started.proposal
            if proposal.status == proposals.DRAFT:  # alike ones exist: "file mine anyway"
                proposal = await proposals.file_draft(
                    self.s, proposer=proposer, draft_id=proposal.id or 0, now=created
                )
            for hours, key in enumerate(supporters, start=1):
                await proposals.support(
                    self.s, resident=self.people[key], subject="proposal",
                    subject_id=proposal.id or 0, now=created + timedelta(hours=hours),
                )  # fmt: skip
        queued = [
            c for c, row in zip(self.cases, demo_data.CASES, strict=True) if row[4] == "queue"
        ]
        for key in ("wang", "liu", "alice"):
            await proposals.support(
                self.s, resident=self.people[key], subject="case",
                subject_id=queued[0].id or 0, now=self.now - timedelta(hours=2),
            )  # fmt: skip


HAZARD_DAYS = demo_data.HAZARDS[0][0]


async def seed_demo(session: AsyncSession, *, now: datetime, tz: tzinfo) -> int:
    """Seed the whole estate in the caller's transaction; returns the number of cases."""
    before = await outbox.last_id(session)
    seeder = Seeder(session, now=now, tz=tz)
    await seeder.people_and_roles()
    await seeder.cases_of_residents()
    await seeder.inspection()
    await seeder.proposals()
    await outbox.discard_after(session, message_id=before)
    count = len(seeder.cases) + len(demo_data.HAZARDS)
    logger.info("seeded the demo estate: %d people, %d cases", len(PERSONAS), count)
    return count
