"""Outbox notices of the monthly meeting and its decisions (kinds "meeting_*", "decision_*"),
worded at send time. Params never carry a reporter's or supporter's name."""

from __future__ import annotations

from typing import Any

from handlers.actions import MeetingPress, Vote, encode
from handlers.words.i18n import N_, translator
from handlers.words.notice import Buttons, Notice, notice

KIND_LABELS = {
    "unfinished": N_("unfinished business"),
    "cases": N_("residents' reports"),
    "proposal": N_("proposal"),
    "topic": N_("added by the office"),
}
OUTCOMES = {"decided": N_("decided"), "deferred": N_("deferred")}


def agenda_lines(items: list[dict[str, Any]], lang: str) -> list[str]:
    """Numbered items, unfinished business first under its own heading."""
    _ = translator(lang)
    if not items:
        return [_("(nothing on the agenda yet)")]
    lines = []
    for item in items:
        label = _(KIND_LABELS.get(item["kind"], KIND_LABELS["topic"]))
        lines.append(f"{item['n']}. [{label}] {item['title']}")
    return lines


def owner_text(params: dict[str, Any], lang: str) -> str:
    _ = translator(lang)
    if params.get("owner"):
        return str(params["owner"]["zh" if lang == "zh" else "en"])
    return str(params.get("owner_person") or _("unassigned"))


def decision_line(params: dict[str, Any], lang: str) -> str:
    _ = translator(lang)
    return _("Decision #{number}: {text} · owner: {owner} · due {due}").format(
        number=params["decision"],
        text=params["text"],
        owner=owner_text(params, lang),
        due=params.get("due") or "-",
    )


def approval_buttons(meeting_id: int, lang: str) -> Buttons:
    _ = translator(lang)
    return [
        [
            (_("Approve"), encode(MeetingPress(verb="ok", subject=meeting_id))),
            (_("Edit"), encode(MeetingPress(verb="ed", subject=meeting_id))),
        ]
    ]


def vote_buttons(item_id: int, lang: str) -> Buttons:
    _ = translator(lang)
    return [
        [
            (_("For"), encode(Vote(item=item_id, choice="f"))),
            (_("Against"), encode(Vote(item=item_id, choice="a"))),
            (_("Abstain"), encode(Vote(item=item_id, choice="n"))),
        ]
    ]


@notice("meeting_topics")
def topics(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        _(
            "The residents' deliberation meeting is on {when}. What should it take up? "
            "Propose a topic privately with /propose, or support one with its me-too button."
        ).format(when=params["when"])
    )


@notice("meeting_draft")
def draft(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    head = (
        _("The agenda for {when} is not approved yet, so it has not been posted.")
        if params.get("again")
        else _("Draft agenda for the meeting on {when}:")
    )
    lines = [head.format(when=params["when"]), *agenda_lines(params["items"], lang)]
    lines.append(_("Approve it with one tap, or edit it."))
    return Notice("\n".join(lines), approval_buttons(params["meeting"], lang))


@notice("meeting_agenda")
def agenda(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    head = _("Agenda of the residents' deliberation meeting on {when}:").format(when=params["when"])
    return Notice("\n".join([head, *agenda_lines(params["items"], lang)]))


@notice("meeting_reminder")
def reminder(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(
        _("Reminder: the residents' deliberation meeting is tomorrow, {when}.").format(
            when=params["when"]
        )
    )


@notice("meeting_open")
def opening(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    text = _("The meeting of {when} is due. Run it in the group chat?").format(when=params["when"])
    start = encode(MeetingPress(verb="go", subject=params["meeting"]))
    return Notice(text, [[(_("Start the meeting in the chat"), start)]])


@notice("meeting_item")
def item(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    label = _(KIND_LABELS.get(params["kind"], KIND_LABELS["topic"]))
    text = _("Item {n} of {total} [{label}]: {title}\nPlease vote.").format(
        n=params["n"], total=params["total"], label=label, title=params["title"]
    )
    return Notice(text, vote_buttons(params["item"], lang))


@notice("meeting_decided")
def decided(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(_("The meeting decided:") + "\n" + decision_line(params, lang))


def minutes_text(params: dict[str, Any], lang: str) -> str:
    """The minutes: each item with its votes and outcome, then the decisions."""
    _ = translator(lang)
    lines = [_("Minutes of the residents' deliberation meeting, {period}").format(**params)]
    for entry in params["items"]:
        votes = entry["votes"]
        lines.append(
            _("{n}. {title}: {outcome} (for {f}, against {a}, abstain {n_a})").format(
                n=entry["n"],
                title=entry["title"],
                outcome=_(OUTCOMES.get(entry["outcome"], OUTCOMES["deferred"])),
                f=votes.get("for", 0),
                a=votes.get("against", 0),
                n_a=votes.get("abstain", 0),
            )
        )
    lines.append(_("Decisions:") if params["decisions"] else _("No decisions were taken."))
    lines += [decision_line(d, lang) for d in params["decisions"]]
    return "\n".join(lines)


@notice("meeting_minutes")
def minutes(params: dict[str, Any], lang: str) -> Notice:
    return Notice(minutes_text(params, lang))


@notice("decision_done")
def done(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    head = _("An issue you raised or supported has been dealt with:")
    return Notice(head + "\n" + decision_line(params, lang))


@notice("decision_soon")
def due_soon(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    head = _("A meeting decision you own is due soon:")
    tail = _("Add progress with /decision {number} note … or mark it done.").format(
        number=params["decision"]
    )
    return Notice("\n".join([head, decision_line(params, lang), tail]))


@notice("decision_late")
def late(params: dict[str, Any], lang: str) -> Notice:
    _ = translator(lang)
    return Notice(_("A meeting decision is overdue:") + "\n" + decision_line(params, lang))
