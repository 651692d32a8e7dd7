"""The words and buttons of proposals, "me too" and /hot (no Telegram types here)."""

from __future__ import annotations

from datetime import datetime

from handlers.actions import ProposalPress, ProposalVerb, encode
from handlers.conversation import Buttons
from handlers.words.i18n import N_, Translate, ngettext
from storage.deliberation.hot import HotIssue
from storage.deliberation.meeting_models import Proposal
from storage.deliberation.proposals import Alike, Backing
from storage.models import Case, Category
from storage.text import mask_phones

SHORT = 60
PRIVATE_ONLY = N_("I answer this only in a private chat with you.")
SECRETARIES_ONLY = N_("Sorry, the hot issues are for the community secretaries.")
GONE = N_("That proposal or case is no longer open.")
EXPIRED = N_("This button has expired.")
ASK = N_(
    "What topic would you like the monthly residents' meeting to take up? "
    "Send it in one message, or send /cancel."
)
BACKED = {
    Backing.ADDED: N_("Thank you: your support is counted."),
    Backing.ALREADY: N_("You support this already; it counts once."),
    Backing.OWN: N_("This one is yours: raising it already counts, no need to support it."),
}


def _press(verb: ProposalVerb, subject: int | None) -> str:
    assert subject is not None
    return encode(ProposalPress(verb=verb, subject=subject))


def short(text: str, limit: int = SHORT) -> str:
    """One line, phone numbers masked, cut at `limit` characters."""
    line = " ".join(mask_phones(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def ask_topic(own_cases: list[Case], _: Translate) -> tuple[str, Buttons]:
    """The /propose question, with a button for each of the asker's open cases."""
    rows: Buttons = [
        [(_("From my case #{number}").format(number=c.id), _press("fc", c.id))] for c in own_cases
    ]
    text = _(ASK)
    if own_cases:
        text += "\n" + _("Or propose one of your open cases for the meeting:")
    return text, rows


def filed(proposal: Proposal, _: Translate) -> tuple[str, Buttons]:
    text = _(
        "Your proposal #{number} is filed for the monthly meeting: {text}\n"
        "Others can support it with /proposals."
    ).format(number=proposal.id, text=short(proposal.text))
    return text, [[(_("Withdraw my proposal"), _press("wd", proposal.id))]]


def similar_found(
    alike: list[Alike], draft: Proposal, lang: str, _: Translate
) -> tuple[str, Buttons]:
    """Before filing: what is already open and alike, each with "me too", and file anyway."""
    lines = [_("Before I file it: these open topics look like yours. Support one instead?")]
    rows: list[list[tuple[str, str]]] = []
    for n, item in enumerate(alike, 1):
        if item.subject == "proposal":
            label = _("Proposal #{number}").format(number=item.subject_id)
            data = _press("ip", item.subject_id)
        else:
            label = _("Case #{number}").format(number=item.subject_id)
            data = _press("ic", item.subject_id)
        count = ngettext(lang, "{count} supporter", "{count} supporters", item.supporters).format(
            count=item.supporters
        )
        lines.append(f"{n}. {label}: {short(item.text)} ({count})")
        rows.append([(_("Me too: {label}").format(label=label), data)])
    rows.append([(_("File mine anyway"), _press("file", draft.id))])
    return "\n".join(lines), rows


def listing(
    found: list[tuple[Proposal, int]], viewer_id: int | None, lang: str, _: Translate
) -> tuple[str, Buttons]:
    """/proposals: the open ones with their support, "me too" on others', withdraw on mine."""
    if not found:
        return _("No proposal is open. Send /propose to suggest a topic for the meeting."), []
    lines = [_("Open proposals for the monthly meeting (most supported first):")]
    rows: list[list[tuple[str, str]]] = []
    for proposal, supporters in found:
        count = ngettext(lang, "{count} supporter", "{count} supporters", supporters).format(
            count=supporters
        )
        lines.append(f"#{proposal.id} · {short(proposal.text)} · {count}")
        if proposal.proposer_id == viewer_id:
            label = _("Withdraw #{number}").format(number=proposal.id)
            rows.append([(label, _press("wd", proposal.id))])
        else:
            label = _("Me too: #{number}").format(number=proposal.id)
            rows.append([(label, _press("sp", proposal.id))])
    return "\n".join(lines), rows


def hot_list(
    issues: list[HotIssue], categories: dict[int, Category], now: datetime, lang: str,
    _: Translate,
) -> str:  # fmt: skip
    """/hot: the ranking the draft agenda starts from, with why each item is there."""
    if not issues:
        return _("No open issue at the moment.")
    lines = [_("Hot issues, hottest first:")]
    for n, issue in enumerate(issues, 1):
        category = categories.get(issue.category_id) if issue.category_id else None
        what = (
            _("proposal #{number}").format(number=issue.proposal_id)
            if issue.proposal_id is not None
            else ngettext(lang, "{count} case", "{count} cases", len(issue.case_ids)).format(
                count=len(issue.case_ids)
            )
        )
        days = max(0, (now - issue.first_raised_at).days)
        facts = [
            category.name(lang) if category else _("no category"),
            what,
            ngettext(lang, "{count} resident", "{count} residents", issue.residents).format(
                count=issue.residents
            ),
            ngettext(lang, "open {count} day", "open {count} days", days).format(count=days),
        ]
        if issue.deferred:
            facts.append(_("deferred {count}×").format(count=issue.deferred))
        if issue.overdue:
            facts.append(_("overdue"))
        lines.append(f"{n}. {short(issue.title)}\n   {' · '.join(facts)} · {issue.score:.1f}")
    return "\n".join(lines)
