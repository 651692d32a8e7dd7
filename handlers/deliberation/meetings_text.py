"""The words of the meeting commands: status, agenda, the secretary's panel, refusals."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from handlers.actions import MeetingPress, MeetingVerb, encode
from handlers.conversation import Buttons
from handlers.deliberation.notices import agenda_lines, decision_line
from handlers.words.i18n import N_, Translate
from handlers.words.render import local_time
from storage.deliberation.decisions import DecisionNotFound, NotOwner
from storage.deliberation.meeting_models import AgendaItem, Meeting
from storage.deliberation.meeting_run import Voted, VotingClosed
from storage.deliberation.meetings import MeetingNotFound, agenda_params
from storage.errors import InvalidInput, NotAllowed, StaleAction, StorageError

SECRETARIES_ONLY = N_("Only the community office's secretaries may do that.")
CHOICES = {"for": N_("For"), "against": N_("Against"), "abstain": N_("Abstain")}
STATUS = {
    "planned": N_("planned"),
    "agenda_draft": N_("agenda drafted, waiting for approval"),
    "agenda_approved": N_("agenda approved"),
    "in_progress": N_("in progress"),
    "held": N_("held"),
    "minuted": N_("minutes posted"),
}
AGENDA_HELP = N_(
    "Edit the agenda:\n/agenda add <topic>\n/agenda drop <number>\n"
    "/agenda move <number> <new place>\n/agenda approve"
)
DECIDE_HELP = N_(
    "Record the decision like this:\n/decide <what> / <owner: unit code or @user> / "
    "<due: 2027-01-15 or days, e.g. 30>\n(add an item number first for another item: "
    "/decide 2 …)"
)
DECISION_HELP = N_(
    "Send it like this: /decision 12, /decision 12 note <progress>, /decision 12 done"
)
INVALID = {
    "no_item": N_("There is no such item: the agenda has {count} items."),
    "empty": N_("Please give the topic's words."),
    "bad_due": N_(
        "The due date must be a day within a year, like 2027-01-15, or a number of days."
    ),
    "bad_owner": N_("The owner must be a unit code (e.g. property) or a person's @username."),
    "bad_decision": N_("Please say what was decided, in under 500 characters."),
    "bad_note": N_("Please write the progress note, in under 500 characters."),
}
REFUSALS: dict[type[StorageError], str] = {
    NotAllowed: SECRETARIES_ONLY,
    MeetingNotFound: N_("I cannot find that meeting."),
    DecisionNotFound: N_("I cannot find that decision."),
    VotingClosed: N_("Voting on this item has closed."),
    StaleAction: N_("That is not possible at this stage of the meeting."),
}


def refusal(error: StorageError, _: Translate) -> str:
    if isinstance(error, InvalidInput):
        return _(INVALID.get(error.reason, DECIDE_HELP)).format(**error.details)
    for kind, message in REFUSALS.items():
        if isinstance(error, kind):
            return _(message)
    return _("This button has expired.")


def meeting_status(
    meeting: Meeting, items: list[AgendaItem], lang: str, _: Translate, tz: ZoneInfo
) -> str:
    head = _("Residents' deliberation meeting {period}: {when} · {status}").format(
        period=meeting.period,
        when=local_time(meeting.starts_at, tz),
        status=_(STATUS.get(meeting.status, meeting.status)),
    )
    return "\n".join([head, _("Agenda:"), *agenda_lines(agenda_params(items), lang)])


def panel(
    item: AgendaItem | None, items: list[AgendaItem], meeting: Meeting, _: Translate
) -> tuple[str, Buttons]:
    """The secretary's controls for the item on the floor (or the end of the agenda)."""
    end = [(_("End meeting"), _press("end", meeting.id))]
    number = next((n for n, i in enumerate(items, start=1) if item and i.id == item.id), 0)
    if item is None:
        text = _("That was the last item. End the meeting when you are ready.")
        return text, [end]
    text = _("Item {n} is on the floor: {title}").format(n=number, title=item.title)
    return text + "\n" + _(DECIDE_HELP), [
        [(_("Defer"), _press("def", item.id)), (_("Next item"), _press("nx", item.id))],
        end,
    ]


def _press(verb: MeetingVerb, subject: int | None) -> str:
    assert subject is not None
    return encode(MeetingPress(verb=verb, subject=subject))


def decision_view(params: dict, notes: list[tuple[str, str]], lang: str, _: Translate) -> str:
    status = _("done") if params["status"] == "done" else _("open")
    lines = [decision_line(params, lang) + f" · {status}"]
    lines += [f"- {when}: {note}" for when, note in notes]
    return "\n".join(lines)


def vote_counted(voted: Voted, _: Translate) -> str:
    counts = voted.counts
    tally = {"f": counts["for"], "a": counts["against"], "n": counts["abstain"]}
    if voted.changed:
        changed = _("Your vote is changed to {choice}. For {f} · against {a} · abstain {n}")
        return changed.format(choice=_(CHOICES[voted.choice]), **tally)
    return _("Your vote is counted. For {f} · against {a} · abstain {n}").format(**tally)


def not_owner(error: NotOwner, lang: str, _: Translate) -> str:
    """Who may: the decision's owner, by name where there is one, or a secretary."""
    owner = error.person or (error.unit or {}).get(lang)
    if owner is None:
        return _("Only the decision's owner or a secretary may do that.")
    return _("Only the decision's owner ({owner}) or a secretary may do that.").format(owner=owner)
