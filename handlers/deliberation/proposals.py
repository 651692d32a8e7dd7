"""Proposals for the monthly meeting, support ("me too") and the hot issues.

/propose <text>, /propose #27 (from one's own case) or /propose and then the text as the next
message; /proposals lists the open ones; /hot ranks the open issues for secretaries. Buttons
are `p1:<action>:<id>`, re-checked against the database and the presser on every press:
sp/sc "me too" on a proposal/case, ip/ic the same from the similar list (the held draft goes),
file "file mine anyway", wd withdraw, fc propose from one's own case.
"""

from __future__ import annotations

import logging

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.actions import ProposalPress
from handlers.cases.prompts import explain
from handlers.cases.refs import parse_case_number
from handlers.conversation import Buttons, Reply, Speaker, Turn
from handlers.deliberation import proposals_text as words
from handlers.pending import answers
from storage.cases.categories import active_categories
from storage.deliberation import hot, proposals
from storage.deliberation.proposals import ProposalNotFound
from storage.errors import CaseNotFound, InvalidInput, NotAllowed, StaleAction, StorageError
from storage.models import PendingInput, utcnow
from storage.people.pending import drop_input, expect_input

logger = logging.getLogger(__name__)

AWAITING = "proposal"
Answer = tuple[str, Buttons | None]


async def _start(
    session: AsyncSession, who: Speaker, text: str | None, case_id: int | None = None
) -> Answer:
    """File the topic, or show what is alike first; a refusal explains itself."""
    _ = who._
    await drop_input(session, resident=who.resident)  # a bare /propose is answered by this
    try:
        started = await proposals.start_proposal(
            session, proposer=who.resident, text=text, case_id=case_id, now=utcnow()
        )
    except InvalidInput as error:
        return explain(error, who.lang), None
    except CaseNotFound:
        return _("I cannot find that case among yours."), None
    if started.similar:
        return words.similar_found(started.similar, started.proposal, who.lang, _)
    return words.filed(started.proposal, _)


async def propose(turn: Turn) -> None:
    """/propose: suggest a topic for the monthly meeting (text, #case, or ask for the text)."""
    rows: Buttons | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        args = " ".join(turn.args).strip()
        number = parse_case_number(args) if args else None
        if not turn.private:
            text = who._(words.PRIVATE_ONLY)
        elif number is not None:
            text, rows = await _start(session, who, None, number)
        elif args:
            text, rows = await _start(session, who, args)
        else:
            await expect_input(session, resident=who.resident, kind=AWAITING)
            own = await proposals.proposable_cases(session, resident=who.resident)
            text, rows = words.ask_topic(own, who._)
    await turn.reply(text, rows)


@answers(AWAITING)
async def topic_typed(
    session: AsyncSession, who: Speaker, pending: PendingInput, turn: Turn
) -> list[Reply]:
    """The message after a bare /propose is the topic; unusable text asks again."""
    message = turn.msg.written
    assert message is not None
    text, rows = await _start(session, who, message.text or message.caption)
    if rows is None:  # refused: still waiting for a usable topic
        await expect_input(session, resident=who.resident, kind=AWAITING)
        return [Reply(text + "\n" + who._(words.ASK))]
    return [Reply(text, rows), Reply(who._("Your proposals are listed with /proposals."))]


async def list_proposals(turn: Turn) -> None:
    """/proposals: the open proposals with their support and "me too" buttons."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        found = await proposals.open_proposals(session)
    viewer = who.resident.id if turn.private else None  # withdraw only in private
    text, rows = words.listing(found, viewer, who.lang, who._)
    await turn.reply(text, rows)


async def hot_issues(turn: Turn) -> None:
    """/hot: the ten hottest open issues, for secretaries (checked here, on the server)."""
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        if not who.auth.is_secretary:
            text = _(words.SECRETARIES_ONLY)
        elif not turn.private:
            text = _(words.PRIVATE_ONLY)
        else:
            now = utcnow()
            ranked = await hot.hot_issues(session, now=now, limit=10)
            names = {c.id: c for c in await active_categories(session) if c.id is not None}
            text = words.hot_list(ranked, names, now, who.lang, _)
    await turn.reply(text)


async def on_button(turn: Turn) -> None:
    """A proposal button: re-checked against the database and the presser."""
    action = turn.action
    answer: Answer | None = None
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            if not isinstance(action, ProposalPress):
                raise StaleAction("unparseable")
            toast, answer = await _act(session, who, action.verb, action.subject)
        except (ProposalNotFound, CaseNotFound):
            await turn.answer(_(words.GONE), alert=True)
            return
        except NotAllowed:
            await turn.answer(_("Only the proposer can withdraw a proposal."), alert=True)
            return
        except StorageError:
            await turn.answer(_(words.EXPIRED), alert=True)
            return
    await turn.answer(toast)
    if answer is not None:
        await turn.reply(*answer)


async def _act(
    session: AsyncSession, who: Speaker, action: str, number: int
) -> tuple[str, Answer | None]:
    """Do what the button says; returns (toast, a reply or None)."""
    _, me, now = who._, who.resident, utcnow()
    if action in ("sp", "sc", "ip", "ic"):
        subject = "proposal" if action in ("sp", "ip") else "case"
        backing = await proposals.support(
            session, resident=me, subject=subject, subject_id=number, now=now
        )
        if action in ("ip", "ic"):
            await proposals.drop_draft(session, proposer=me)
            return _(words.BACKED[backing]), (_("Your draft is dropped; thank you."), None)
        return _(words.BACKED[backing]), None
    if action == "file":
        filed = await proposals.file_draft(session, proposer=me, draft_id=number, now=now)
        return _("Filed"), words.filed(filed, _)
    if action == "wd":
        gone = await proposals.withdraw(session, resident=me, proposal_id=number, now=now)
        logger.info("proposal %s withdrawn", gone.id)
        text = _("Your proposal #{number} is withdrawn.").format(number=gone.id)
        return _("Withdrawn"), (text, None)
    # "fc": propose one of one's own cases (anyone else's reads as not found)
    return _("From your case"), await _start(session, who, None, number)
