"""The words of joint inspections: kind labels, the hazard-line help, buttons, /rounds."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.actions import InspectionPress, encode
from handlers.conversation import Buttons
from handlers.words.i18n import N_, Translate
from handlers.words.render import HAZARD_KINDS as KINDS
from handlers.words.render import local_time
from storage.errors import InvalidInput
from storage.inspections import HazardKind, HazardLine, RoundSummary
from storage.models import Unit

STAFF_ONLY = N_("This is for community office staff.")
HOW = N_(
    "For each hazard send one message: place / responsible party / days to rectify, "
    "for example:\nBuilding 3 car park, zone B / property company / 7\n"
    "A photo with that line as its caption is attached to the hazard. Then choose its kind."
)
INVALID = {
    "hazard_format": N_("I could not read that as a hazard line."),
    "hazard_days": N_("The last part must be the number of days to rectify, from 0 to {limit}."),
    "too_long": N_("A part is {length} characters long; please keep it under {limit}."),
}


def end_button(round_id: int, _: Translate) -> list[tuple[str, str]]:
    return [(_("End round"), encode(InspectionPress(round_id=round_id, kind="end")))]


def kind_buttons(round_id: int, _: Translate) -> Buttons:
    labels = [
        (_(label), encode(InspectionPress(round_id=round_id, kind=kind)))
        for kind, label in KINDS.items()
    ]
    return [*(labels[i : i + 2] for i in range(0, len(labels), 2)), end_button(round_id, _)]


def round_opened(round_id: int, started: bool, _: Translate) -> str:
    opened = (
        _("Inspection round {round} has started.")
        if started
        else _("Your inspection round {round} is still open; carry on.")
    )
    return opened.format(round=round_id) + "\n\n" + _(HOW)


def kind_question(line: HazardLine, _: Translate) -> str:
    summary = _("{place} · responsible: {responsible} · {days} days to rectify").format(
        place=line.place, responsible=line.responsible, days=line.days
    )
    return summary + "\n" + _("What kind of hazard is it?")


def explain_line(error: InvalidInput | None, _: Translate) -> str:
    """Why a line was not taken (None: a photo without a caption), and how to write one."""
    if error is None:
        why = _("Please send the photo again with the hazard line as its caption.")
    else:
        why = _(INVALID.get(error.reason, INVALID["hazard_format"])).format(**error.details)
    return why + "\n\n" + _(HOW) + "\n" + _("Or press End round if you are done.")


def logged(
    number: int,
    kind: HazardKind,
    line: HazardLine,
    deadline: datetime,
    unit: Unit | None,
    lang: str,
    _: Translate,
    tz: ZoneInfo,
) -> str:
    """The reply to a filed hazard: its number, deadline and who was told."""
    text = _("Hazard #{number} logged: {kind}, {place}. Rectify by {deadline}.").format(
        number=number,
        kind=_(KINDS[kind]),
        place=line.place,
        deadline=deadline.astimezone(tz).date().isoformat(),
    )
    told = (
        _("{unit} has been told.").format(unit=unit.name(lang))
        if unit
        else _("The secretaries will assign it.")
    )
    return f"{text} {told}\n\n" + _("Send the next hazard line, or end the round.")


def render_rounds(found: list[RoundSummary], _: Translate, tz: ZoneInfo, *, names: bool) -> str:
    """The rounds, newest first, with what each found and how much of it is rectified."""
    if not found:
        return _("No inspection rounds yet. Send /inspect to start one.")
    template = _("Round {round}, {started}, {state}: found {found}, rectified {rectified}")
    lines = [_("Inspection rounds, newest first:")]
    for row in found:
        text = template.format(
            round=row.round.id,
            started=local_time(row.round.started_at, tz),
            state=_("still open") if row.round.ended_at is None else _("ended"),
            found=row.found,
            rectified=row.rectified,
        )
        lines.append(f"{row.inspector} · {text}" if names else text)
    return "\n".join(lines)
