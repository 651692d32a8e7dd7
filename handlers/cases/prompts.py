"""The guided report's prompts: what to say and which buttons to show at each step."""

from __future__ import annotations

from handlers.actions import (
    ReportAnonymity,
    ReportCancel,
    ReportCategory,
    ReportConfirm,
    ReportSkip,
    encode,
)
from handlers.conversation import Key, Keyboard, Reply
from handlers.words.i18n import N_, translator
from handlers.words.render import render_draft_summary
from storage.cases.drafts import Step
from storage.errors import InvalidInput
from storage.models import Category, ReportDraft

SKIP_LABEL = N_("Skip ⏭")
INVALID_INPUT: dict[str, str] = {
    "empty": N_("The description is empty. Please tell us in a few words what happened."),
    "no_words": N_("Emoji alone are hard to act on. Please describe the problem in words."),
    "too_long": N_(
        "That is {length} characters; please keep it under {limit}. "
        "Send the most important part; photos can show the rest."
    ),
    "too_short": N_(
        "Please write a little more (at least {minimum} characters) so staff know what to fix."
    ),
    "address_too_short": N_("Please type a fuller address, for example: building 3, unit 2."),
    "too_many_photos": N_("You can attach up to {limit} photos. Press Done to continue."),
    "bad_location": N_("That location looks wrong. Please share it again or type an address."),
}


def skip_labels() -> set[str]:
    """The location step's text button, in every language (a resident may switch midway)."""
    return {translator(lang)(SKIP_LABEL) for lang in ("zh", "en")}


def explain(error: InvalidInput, lang: str) -> str:
    _ = translator(lang)
    template = INVALID_INPUT.get(error.reason, N_("That did not work. Please try again."))
    return _(template).format(**error.details)


def prompt(draft: ReportDraft, categories: list[Category], lang: str) -> Reply:
    """The question for the draft's current step."""
    _ = translator(lang)
    assert draft.id is not None
    draft_id = draft.id
    step = Step(draft.step)
    if step is Step.CATEGORY:
        buttons = [
            (c.name(lang), encode(ReportCategory(draft=draft_id, category=c.id)))
            for c in categories
            if c.id is not None
        ]
        rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
        rows.append([(_("Cancel"), encode(ReportCancel(draft=draft_id)))])
        return Reply(_("New report (1/5). What is it about? Choose a category:"), rows)
    if step is Step.DESCRIPTION:
        return Reply(
            _(
                "2/5. Describe the problem: what is wrong, where exactly, since when. "
                "Send /cancel to stop."
            )
        )
    if step is Step.PHOTOS:
        label = _("Done ✅") if draft.photos else _(SKIP_LABEL)
        return Reply(
            _("3/5. Send photos if you have them (up to 10), then press Done. Or skip."),
            [[(label, encode(ReportSkip(draft=draft_id)))]],
        )
    if step is Step.LOCATION:
        keys = Keyboard(((Key(_("📍 Share my location"), asks="location"),), (Key(_(SKIP_LABEL)),)))
        return Reply(
            _(
                "4/5. Where is it? Share your location with the button below, "
                "or type an address (building, unit, floor)."
            ),
            keyboard=keys,
        )
    if step is Step.ANONYMOUS:
        named, anonymous = (
            encode(ReportAnonymity(draft=draft_id, anonymous=a)) for a in (False, True)
        )
        rows = [[(_("Show my name to staff"), named)], [(_("Stay anonymous"), anonymous)]]
        return Reply(
            _(
                "5/5. May the staff handling it see your name? Anonymous reports are "
                "handled the same way; only you can follow them."
            ),
            rows,
        )
    category = next((c for c in categories if c.id == draft.category_id), None)
    if category is None:  # retired while the draft waited: ask again rather than guess
        draft.step = Step.CATEGORY
        return prompt(draft, categories, lang)
    rows = [
        [
            (_("Confirm and submit"), encode(ReportConfirm(draft=draft_id))),
            (_("Cancel"), encode(ReportCancel(draft=draft_id))),
        ]
    ]
    return Reply(render_draft_summary(draft, category, lang), rows)
