"""The mediation desk's /dispute and the secretaries' /routes (the routing table)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession

from handlers.cases.refs import explain_refusal, parse_case_number
from handlers.conversation import Turn
from handlers.words.i18n import N_
from storage import cases
from storage.cases import categories, disputes, routing
from storage.errors import InvalidInput, NotAllowed, StorageError
from storage.people.roles import Role

DISPUTE_USAGE = N_(
    "Send it like this: /dispute 27 12 85000 Workers of building 5 / Decoration company "
    "(case, people involved, amount in yuan, the parties)"
)
ROUTE_USAGE = N_("Send it like this: /routes property property 72 (category, unit, hours)")


async def dispute(turn: Turn) -> None:
    """/dispute <case> <people> <yuan> <parties>: mediators record a dispute's particulars."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            number = parse_case_number(args[0]) if args else None
            if number is None or len(args) < 4 or not (args[1] + args[2]).isdigit():
                raise InvalidInput("usage")
            case = await cases.get_case(session, number=number)
            await disputes.record_dispute(
                session,
                case=case,
                actor=who.resident,
                auth=who.auth,
                people=int(args[1]),
                amount_yuan=int(args[2]),
                parties=" ".join(args[3:]),
            )
            text = _("Dispute recorded on case #{number}: {people} people, {amount} yuan.").format(
                number=number, people=int(args[1]), amount=f"{int(args[2]):,}"
            )
        except InvalidInput:
            text = _(DISPUTE_USAGE)
        except StorageError as error:
            text = explain_refusal(error, who)
    await turn.reply(text)


async def routes(turn: Turn) -> None:
    """/routes: the routing table; `/routes <category> <unit> <hours>` changes one row."""
    args = turn.args
    async with turn.transaction() as session:
        who = await turn.speaker(session)
        _ = who._
        try:
            who.auth.require(Role.SECRETARY)
            if args:
                await _set_route(session, args)
            lines = [_("Routing (category → unit, hours to handle):")]
            for category in await categories.active_categories(session):
                assert category.id is not None
                route = await routing.route_for(session, category_id=category.id)
                hours = int(route.due.total_seconds() // 3600) if route else 0
                target = (
                    f"{route.unit.name(who.lang)}, {hours} h" if route else _("secretaries' queue")
                )
                lines.append(f"{category.code} · {category.name(who.lang)} → {target}")
            text = "\n".join(lines)
        except NotAllowed:
            text = _("This is for community office staff.")
        except (InvalidInput, LookupError):
            text = _(ROUTE_USAGE)
    await turn.reply(text)


async def _set_route(session: AsyncSession, args: list[str]) -> None:
    if len(args) != 3 or not args[2].isdigit() or not 1 <= int(args[2]) <= 24 * 90:
        raise InvalidInput("usage")
    category = await categories.category_by_code(session, args[0].lower())
    unit = await routing.unit_by_code(session, args[1].lower())
    if unit is None or unit.id is None or category.id is None:
        raise InvalidInput("usage")
    await routing.set_route(
        session, category_id=category.id, unit_id=unit.id, due_hours=int(args[2])
    )
