"""Every button is a small typed action, encoded here and nowhere else.

The wire form is `<family><version>:<fields>`, e.g. `s1:acc:42` (case 42: accept) or `d1:7:skip`
(draft 7: skip the photos), at most 64 bytes: Telegram's limit for callback data, and what a
WeCom menu key carries too. The version is part of the family (`s1`): a button of a version this
code does not read (`s2:…`) decodes to None and is refused politely, and a wire form that was
sent once stays readable as a legacy layout of its action.

Every integer that names a row is checked here against the databases' id range (1..2³¹-1). The
rule for what comes from outside: an id no row can have (0, 2³¹, fifty digits) becomes NOWHERE,
which every lookup reads as "not found", so it is answered exactly like the id of something that
does not exist; anything that is not an id at all (a sign, letters, a missing or extra field, an
unknown family) decodes to None, like any other button this bot never made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from storage.columns import MAX_ID, possible_id
from storage.inspections import HazardKind

NOWHERE = 0  # the id of nothing: no row has it, so its lookup reads "not found"
MAX_BYTES = 64  # Telegram's limit for callback data


class _IdMarker:
    """Marks an int field that names a row."""


Id = Annotated[int, _IdMarker()]
Index = Annotated[int, range(0, 100)]  # a place in a short list the button came with
Page = Annotated[int, range(0, 1_000_000)]
Stars = Annotated[int, range(1, 6)]
Days = Annotated[int, range(1, 61)]
InspectionKind = Annotated[str, (*HazardKind, "end")]  # a hazard's kind, or End round


def parse_id(text: str) -> int | None:
    """An id as a person types it, e.g. in `/case 27`: "27" or "#27" -> 27; a number no row can
    have ("0", "9999999999") -> NOWHERE; anything else (a sign, letters, nothing) -> None."""
    digits = text.strip().removeprefix("#")
    if not (digits.isascii() and digits.isdigit()):
        return None
    if len(digits) > len(str(MAX_ID)):  # no int() of fifty digits: it is nothing anyway
        return NOWHERE
    number = int(digits)
    return number if possible_id(number) else NOWHERE


@dataclass(frozen=True)
class Action:
    """A button's meaning; each subclass has one wire layout (and perhaps legacy ones)."""


class _Field:
    """How one field is written on the wire and read back (None: it does not fit)."""

    def __init__(self, kind: Any) -> None:
        self.kind = kind
        origin, args = get_origin(kind), get_args(kind)
        self.marker = args[1] if origin is Annotated else None
        words = args if origin is Literal else self.marker if isinstance(self.marker, tuple) else ()
        self.choices = tuple(str(word) for word in words)

    @property
    def is_id(self) -> bool:
        return isinstance(self.marker, _IdMarker)

    @property
    def examples(self) -> tuple[str, ...]:
        """Wire texts this field accepts (the fuzz test presses them all)."""
        if self.kind is bool:
            return ("0", "1")
        if self.choices:
            return self.choices
        if self.is_id:
            return ("1",)
        assert isinstance(self.marker, range)
        return (str(self.marker.start),)

    def read(self, text: str) -> Any:
        if self.kind is bool:
            return {"0": False, "1": True}.get(text)
        if self.choices:
            return text if text in self.choices else None
        if not (text.isascii() and text.isdigit()):
            return None
        if self.is_id:
            return parse_id(text)
        assert isinstance(self.marker, range)
        fits = len(text) <= len(str(self.marker.stop))  # no int() of fifty digits
        return int(text) if fits and int(text) in self.marker else None

    def write(self, value: Any) -> str:
        text = ("1" if value else "0") if self.kind is bool else str(value)
        if self.read(text) != value:
            raise ValueError(f"{value!r} does not fit {self.kind}")
        return text


class Layout:
    """One wire form of an action, e.g. "c1:view:{case}"; a legacy one is only read."""

    def __init__(self, action: type[Action], wire: str, *, legacy: bool = False) -> None:
        self.action, self.wire, self.legacy = action, wire, legacy
        self.segments = wire.split(":")
        self.family = self.segments[0]
        hints = get_type_hints(action, include_extras=True)
        self.fields = {s[1:-1]: _Field(hints[s[1:-1]]) for s in self.segments if s[0] == "{"}

    def read(self, parts: list[str]) -> Action | None:
        if len(parts) != len(self.segments):
            return None
        values: dict[str, Any] = {}
        for segment, part in zip(self.segments, parts, strict=True):
            if segment[0] != "{":
                if segment != part:
                    return None
                continue
            value = self.fields[segment[1:-1]].read(part)
            if value is None:
                return None
            values[segment[1:-1]] = value
        return self.action(**values)

    def write(self, action: Action) -> str:
        return ":".join(
            self.fields[s[1:-1]].write(getattr(action, s[1:-1])) if s[0] == "{" else s
            for s in self.segments
        )


LAYOUTS: list[Layout] = []  # each action's current layout, then its legacy ones
_CURRENT: dict[type[Action], Layout] = {}


def button(wire: str, *legacy: str) -> Any:
    """Register an action's wire layout (and older layouts it still reads)."""

    def register(cls: type[Action]) -> type[Action]:
        _CURRENT[cls] = Layout(cls, wire)
        LAYOUTS.append(_CURRENT[cls])
        LAYOUTS.extend(Layout(cls, old, legacy=True) for old in legacy)
        return cls

    return register


def encode(action: Action) -> str:
    """The callback data of a button; ValueError if a field does not fit or it is too long."""
    data = _CURRENT[type(action)].write(action)
    if len(data.encode()) > MAX_BYTES:
        raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
    return data


def decode(data: object) -> Action | None:
    """The action behind callback data; None for anything this version did not make."""
    if not isinstance(data, str) or len(data.encode()) > MAX_BYTES:
        return None
    parts = data.split(":")
    for layout in LAYOUTS:
        if layout.family == parts[0] and (action := layout.read(parts)) is not None:
            return action
    return None


# The guided report (handlers/cases/report.py): draft 7, its step's answer.
@dataclass(frozen=True)
class ReportStep(Action):
    draft: Id


@button("d1:{draft}:cat:{category}")
@dataclass(frozen=True)
class ReportCategory(ReportStep):
    category: Id


@button("d1:{draft}:skip")
@dataclass(frozen=True)
class ReportSkip(ReportStep):
    pass


@button("d1:{draft}:anon:{anonymous}")
@dataclass(frozen=True)
class ReportAnonymity(ReportStep):
    anonymous: bool


@button("d1:{draft}:ok")
@dataclass(frozen=True)
class ReportConfirm(ReportStep):
    pass


@button("d1:{draft}:no")
@dataclass(frozen=True)
class ReportCancel(ReportStep):
    pass


@button("l1:{language}")
@dataclass(frozen=True)
class ChooseLanguage(Action):
    language: Literal["zh", "en"]


# Cases: a reporter's view and answers, a handler's work (handlers/cases/mine.py, feedback.py,
# staff.py).
@button("c1:view:{case}")
@dataclass(frozen=True)
class ViewCase(Action):
    case: Id


@button("s1:{verb}:{case}")
@dataclass(frozen=True)
class CaseWork(Action):
    verb: Literal["acc", "prog", "res", "not"]  # accept, add progress, resolved, not ours
    case: Id


@button("r1:{answer}:{case}")
@dataclass(frozen=True)
class IsItFixed(Action):
    answer: Literal["yes", "no"]
    case: Id


@button("r1:rate:{stars}:{case}")
@dataclass(frozen=True)
class Rate(Action):
    stars: Stars
    case: Id


@button("f1:{case}")
@dataclass(frozen=True)
class AddMessage(Action):
    case: Id


@button("i1:{round_id}:{kind}")
@dataclass(frozen=True)
class InspectionPress(Action):
    round_id: Id
    kind: InspectionKind


# me too on a proposal / case (from the similar list: ip, ic), file mine anyway (a draft),
# withdraw (a proposal), propose from my case
ProposalVerb = Literal["sp", "sc", "ip", "ic", "file", "wd", "fc"]


@button("p1:{verb}:{subject}")
@dataclass(frozen=True)
class ProposalPress(Action):
    verb: ProposalVerb
    subject: Id


# approve, edit, start, end (a meeting); defer, next (an agenda item)
MeetingVerb = Literal["ok", "ed", "go", "end", "def", "nx"]


@button("m1:{verb}:{subject}")
@dataclass(frozen=True)
class MeetingPress(Action):
    verb: MeetingVerb
    subject: Id


@button("m1:v:{item}:{choice}")
@dataclass(frozen=True)
class Vote(Action):
    item: Id
    choice: Literal["f", "a", "n"]  # for, against, abstain


# Whistles (handlers/whistle*.py): composing a draft, the secretary's views, residents' answers.
@dataclass(frozen=True)
class WhistleAction(Action):
    whistle: Id


# all subscribers, audience done, results to groups, send, discard; cancel, cancel: yes;
# a resident's "write an opinion"
WhistleVerb = Literal["s", "ad", "r", "ok", "x", "cx", "cy", "op"]
WhistleStep = Literal["question", "options", "audience", "deadline"]  # a step to go back to


@button("w1:{verb}:{whistle}")
@dataclass(frozen=True)
class WhistlePress(WhistleAction):
    verb: WhistleVerb


@button("w1:o:{whistle}:{preset}")
@dataclass(frozen=True)
class WhistlePreset(WhistleAction):
    preset: Index


@button("w1:f:{whistle}:{wanted}")
@dataclass(frozen=True)
class WhistleFreeText(WhistleAction):
    wanted: bool


@button("w1:g:{whistle}:all")
@dataclass(frozen=True)
class WhistleAllGroups(WhistleAction):
    pass


@button("w1:g:{whistle}:{group}")
@dataclass(frozen=True)
class WhistleGroup(WhistleAction):
    group: Id


@button("w1:b:{whistle}:{building}")
@dataclass(frozen=True)
class WhistleBuilding(WhistleAction):
    building: Index


@button("w1:d:{whistle}:{days}")
@dataclass(frozen=True)
class WhistleDays(WhistleAction):
    days: Days


# Sent until issue 15 as w1:e:<step>:<whistle>, which nothing read: those buttons work now.
@button("w1:e:{whistle}:{step}", "w1:e:{step}:{whistle}")
@dataclass(frozen=True)
class WhistleEdit(WhistleAction):
    step: WhistleStep


@button("w1:ops:{whistle}:{page}")
@dataclass(frozen=True)
class WhistleOpinions(WhistleAction):
    page: Page


@button("w1:a:{whistle}:{option}")
@dataclass(frozen=True)
class WhistleAnswer(WhistleAction):
    option: Index


@button("w1:case:{opinion}")
@dataclass(frozen=True)
class OpinionToCase(Action):
    opinion: Id


@button("wr1:show:{whistle}")
@dataclass(frozen=True)
class WhistleResults(WhistleAction):
    pass
