"""Which conversation answers what, in order: the first route that fits an inbound message
handles it. A channel registers this table its own way (bot/telegram/adapter.py: register).

Commands come first, each family of buttons by its action prefix (handlers/actions.py), then
the catch-alls: a press nothing recognised, an unknown private command, any private message,
a group message. The `/start w<id>` deep link runs before everything (`first`), and the
ordinary /start runs after it and says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from handlers.cases import desk, feedback, group, inspect, report, staff, triage
from handlers.cases import mine as cases
from handlers.conversation import Handler
from handlers.deliberation import decisions, meetings, proposals
from handlers.office import admin, export, profile, start, stats
from handlers.whistle import compose as whistle
from handlers.whistle import opinions as whistle_opinions
from handlers.whistle import replies as whistle_replies
from handlers.whistle import results as whistle_results


@dataclass(frozen=True)
class Command:
    names: tuple[str, ...]
    handle: Handler
    private_only: bool = False
    pattern: str | None = None  # the message's text must also match this
    first: bool = False  # runs before every other route, which may answer too


@dataclass(frozen=True)
class Press:
    prefixes: tuple[str, ...]  # of the pressed data; none: any press (the catch-all)
    handle: Handler
    first: bool = False


@dataclass(frozen=True)
class Messages:
    kind: Literal["private_contact", "private_command", "private", "group"]
    handle: Handler
    first: bool = False


Route = Command | Press | Messages


def _command(*names: str, handle: Handler, private_only: bool = False) -> Command:
    return Command(names, handle, private_only=private_only)


ROUTES: list[Route] = [
    Command(("start",), whistle_replies.on_start_opinion, True, r"\sw\d+$", first=True),
    _command("start", handle=start.start),
    _command("help", handle=start.help_),
    _command("lang", handle=start.lang),
    _command("report", handle=report.report),
    _command("cancel", handle=report.cancel, private_only=True),
    _command("mycases", handle=cases.my_cases),
    _command("case", handle=cases.show_case),
    Press(("d1:",), report.on_button),
    Press(("l1:",), start.on_lang_button),
    Press(("c1:view:",), cases.on_view_button),
    # case work: staff, mediators and secretaries; reporters answering about theirs
    _command("todo", handle=staff.todo),
    _command("note", handle=staff.note),
    _command("queue", handle=triage.queue),
    _command("overdue", handle=triage.overdue),
    _command("assign", "recategorise", "reject", "duplicate", handle=triage.secretary_command),
    _command("dispute", handle=desk.dispute),
    _command("routes", handle=desk.routes),
    _command("export", handle=export.export),
    _command("stats", handle=stats.stats),
    Press(("s1:",), staff.on_button),
    Press(("r1:", "f1:"), feedback.on_button),
    _command("inspect", handle=inspect.inspect),
    _command("rounds", handle=inspect.rounds),
    Press(("i1:",), inspect.on_button),
    # the office
    _command("invite", handle=admin.invite),
    _command("staff", handle=admin.staff),
    _command("revoke", handle=admin.revoke),
    _command("duty", handle=admin.duty_roster),
    _command("profile", "building", handle=profile.profile),
    _command("subscribe", handle=profile.subscribe),
    _command("unsubscribe", handle=profile.unsubscribe),
    _command("register_group", handle=profile.register_group),
    _command("unregister_group", handle=profile.unregister_group),
    Messages("private_contact", profile.on_contact),
    # whistles
    _command("whistle", handle=whistle.whistle),
    _command("opinions", handle=whistle_opinions.opinions_command),
    Press(("w1:",), whistle.on_button),
    _command("whistles", handle=whistle_results.whistles),
    Press(("wr1:",), whistle_results.on_button),
    # deliberation
    _command("propose", handle=proposals.propose),
    _command("proposals", handle=proposals.list_proposals),
    _command("hot", handle=proposals.hot_issues),
    Press(("p1:",), proposals.on_button),
    _command("meeting", handle=meetings.meeting_command),
    _command("agenda", handle=meetings.agenda_command),
    _command("decide", handle=decisions.decide_command),
    _command("decision", handle=decisions.decision_command),
    _command("decisions", handle=decisions.decisions_command),
    Press(("m1:",), meetings.on_button),
    # the catch-alls
    Press((), start.stale_button),
    Messages("private_command", start.unknown_command),
    Messages("private", report.on_private_message),
    Messages("group", group.on_group_message),
]
