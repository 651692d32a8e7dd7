"""The words and buttons of composing a whistle (handlers/whistle/compose.py), in the reader's
language."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from handlers.actions import (
    WhistleAllGroups,
    WhistleBuilding,
    WhistleDays,
    WhistleEdit,
    WhistleFreeText,
    WhistleGroup,
    WhistlePreset,
    WhistlePress,
    WhistleStep,
    WhistleVerb,
    encode,
)
from handlers.conversation import Reply
from handlers.words.i18n import N_, translator
from handlers.words.render import local_time
from storage.errors import InvalidInput
from storage.models import Group
from storage.whistle.models import Whistle
from storage.whistle.whistles import Step

# Ready-made answer buttons, in the secretary's language (the options are stored as words).
PRESETS = [
    [N_("Agree"), N_("Disagree"), N_("Other")],
    [N_("Yes"), N_("No")],
    [],
]
DEADLINE_DAYS = (1, 3, 7)
EDITABLE: tuple[WhistleStep, ...] = ("question", "options", "audience", "deadline")
MAX_GROUP_BUTTONS = 10
MAX_BUILDING_BUTTONS = 24

INVALID: dict[str, str] = {
    "empty": N_("That is empty. Please type a few words."),
    "too_long": N_("That is {length} characters; please keep it under {limit}."),
    "options_count": N_("Give two to {maximum} options, separated by /, or choose a set."),
    "option_too_long": N_("Each option must be at most {limit} characters."),
    "options_repeat": N_("Two options are the same."),
    "nothing_to_answer": N_("Without answer buttons, written opinions are the only answer."),
    "no_audience": N_("Choose at least one group, the subscribers or a building."),
    "nobody_reached": N_("Nobody is in that audience yet: choose another one."),
    "deadline_format": N_("I cannot read that time. Try 3d, 48h or 2026-12-05 18:00."),
    "deadline_past": N_("The deadline must be at least ten minutes from now."),
    "deadline_too_far": N_("The deadline must be within {days} days."),
    "no_opinions": N_("This whistle asks for button answers only."),
}


def explain(error: InvalidInput, lang: str) -> str:
    _ = translator(lang)
    return _(INVALID.get(error.reason, N_("That did not work. Please try again."))).format(
        **error.details
    )


@dataclass(frozen=True)
class Choices:
    """What the audience step offers: the registered groups and the known buildings."""

    groups: list[Group]
    buildings: list[str]
    subscribers: int


def _mark(on: bool) -> str:
    return "✅ " if on else "▫️ "


def prompt(draft: Whistle, choices: Choices, lang: str, tz: ZoneInfo) -> Reply:
    """The question for the draft's current step, with its buttons."""
    _ = translator(lang)
    assert draft.id is not None
    number = draft.id
    discard = [(_("Discard"), _press("x", number))]
    step = Step(draft.step or Step.PREVIEW)
    if step is Step.QUESTION:
        return Reply(
            _("New whistle (1/5). Type the question you want to ask residents."), [discard]
        )
    if step is Step.OPTIONS:
        rows = [
            [
                (
                    " / ".join(_(o) for o in preset) or _("No buttons, opinions only"),
                    encode(WhistlePreset(whistle=number, preset=i)),
                )
            ]
            for i, preset in enumerate(PRESETS)
        ]
        text = _("2/5. Answer buttons: choose a set, or type your own options separated by /.")
        return Reply(text, [*rows, discard])
    if step is Step.FREE_TEXT:
        rows = [
            [
                (_("Yes"), encode(WhistleFreeText(whistle=number, wanted=True))),
                (_("No"), encode(WhistleFreeText(whistle=number, wanted=False))),
            ]
        ]
        return Reply(_("3/5. Do you also want written opinions?"), [*rows, discard])
    if step is Step.AUDIENCE:
        return _audience(draft, choices, lang, number, discard)
    if step is Step.DEADLINE:
        rows = [[(_("{n} days").format(n=n) if n > 1 else _("1 day"),
                  encode(WhistleDays(whistle=number, days=n))) for n in DEADLINE_DAYS]]  # fmt: skip
        text = _("5/5. Until when? Choose, or type e.g. 3d, 48h or 2026-12-05 18:00.")
        return Reply(text, [*rows, discard])
    return preview(draft, choices, lang, tz)


def _press(verb: WhistleVerb, number: int) -> str:
    return encode(WhistlePress(verb=verb, whistle=number))


def _audience(draft: Whistle, choices: Choices, lang: str, number: int, discard: list) -> Reply:
    _ = translator(lang)
    audience = draft.audience or {}
    chosen = audience.get("groups") or []
    everyone = chosen == "all"
    rows = [[(_mark(everyone) + _("All registered groups ({n})").format(n=len(choices.groups)),
              encode(WhistleAllGroups(whistle=number)))]]  # fmt: skip
    for group in choices.groups[:MAX_GROUP_BUTTONS]:
        if group.id is None:
            continue
        on = everyone or (isinstance(chosen, list) and group.id in chosen)
        toggle = encode(WhistleGroup(whistle=number, group=group.id))
        rows.append([(_mark(on) + (group.title or str(group.external_id)), toggle)])
    subscribers = bool(audience.get("subscribers"))
    rows.append([(_mark(subscribers) + _("All subscribers ({n})").format(n=choices.subscribers),
                  _press("s", number))])  # fmt: skip
    picked = set(audience.get("buildings") or [])
    buttons = [
        (
            _mark(subscribers or name in picked) + name,
            encode(WhistleBuilding(whistle=number, building=index)),
        )
        for index, name in enumerate(choices.buildings[:MAX_BUILDING_BUTTONS])
    ]
    rows.extend(buttons[i : i + 4] for i in range(0, len(buttons), 4))
    rows.append([(_("Done ➡️"), _press("ad", number))])
    text = _(
        "4/5. Who should get it? Press to choose groups, all subscribers, or the subscribers "
        "of some buildings; then Done."
    )
    return Reply(text, [*rows, discard])


def describe_audience(draft: Whistle, choices: Choices, lang: str) -> str:
    _ = translator(lang)
    audience = draft.audience or {}
    parts = []
    groups = audience.get("groups") or []
    if groups == "all":
        parts.append(_("all registered groups"))
    elif groups:
        titles = [g.title for g in choices.groups if g.id in groups]
        parts.append(_("groups: {names}").format(names=", ".join(titles)))
    if audience.get("subscribers"):
        parts.append(_("all subscribers"))
    elif audience.get("buildings"):
        parts.append(
            _("subscribers in buildings {names}").format(names=", ".join(audience["buildings"]))
        )
    return "; ".join(parts) or "-"


def preview(
    draft: Whistle, choices: Choices, lang: str, tz: ZoneInfo, reached: tuple[int, int] = (0, 0)
) -> Reply:
    """What will be sent, to whom, until when; and the buttons to send, change or discard."""
    _ = translator(lang)
    assert draft.id is not None and draft.deadline_at is not None
    number = draft.id
    groups, people = reached
    lines = [
        _("Preview of whistle #{number}").format(number=draft.id),
        "",
        draft.question,
        "",
        _("Buttons: {options}").format(options=" | ".join(draft.options) or "-"),
        _("Written opinions: {answer}").format(answer=_("Yes") if draft.free_text else _("No")),
        _("Audience: {audience}").format(audience=describe_audience(draft, choices, lang)),
        _("Reaches {groups} groups and {people} residents.").format(groups=groups, people=people),
        _("Deadline: {when}").format(when=local_time(draft.deadline_at, tz)),
    ]
    if groups:
        answer = _("Yes") if draft.results_to_groups else _("No")
        lines.append(_("Results also posted to the groups: {answer}").format(answer=answer))
    rows = [[(_("📣 Send now"), _press("ok", number))]]
    if groups:
        rows.append([(_("Results to groups: yes / no"), _press("r", number))])
    edit = {step: encode(WhistleEdit(whistle=number, step=step)) for step in EDITABLE}
    rows.append([(_("Edit question"), edit["question"]), (_("Edit buttons"), edit["options"])])
    rows.append([(_("Edit audience"), edit["audience"]), (_("Edit deadline"), edit["deadline"])])
    rows.append([(_("Discard"), _press("x", number))])
    return Reply("\n".join(lines), rows)
