"""Words for the office's commands: role labels, parsing what a secretary types, rendering.

Plain functions of (data, lang), testable without an Update.
"""

from __future__ import annotations

from datetime import date

from handlers.words.i18n import N_, ngettext, translator
from storage.models import Resident, Unit
from storage.people.invitations import StaffEntry
from storage.people.roles import GRANTABLE, Role
from storage.text import mask_phones

ROLE_LABELS: dict[str, str] = {
    Role.RESIDENT: N_("Resident"),
    Role.STAFF: N_("Staff"),
    Role.MEDIATOR: N_("Mediator"),
    Role.INSPECTOR: N_("Inspector"),
    Role.SECRETARY: N_("Secretary"),
}
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
OFFICE = N_("Community office")


def role_label(role: Role, lang: str) -> str:
    return translator(lang)(ROLE_LABELS.get(role, role))


def parse_role(text: str) -> Role | None:
    """A role by its code or its label in either language (`staff`, `Staff`, `工作人员`)."""
    wanted = text.strip().lower()
    for role in Role:
        names = {role.value, *(role_label(role, lang).lower() for lang in ("zh", "en"))}
        if wanted in names:
            return role
    return None


def parse_unit(text: str, units: list[Unit]) -> Unit | None:
    """A unit by its code or its name in either language."""
    wanted = text.strip().lower()
    for unit in units:
        if wanted in (unit.code.lower(), unit.name_zh.lower(), unit.name_en.lower()):
            return unit
    return None


def role_list(lang: str) -> str:
    return ", ".join(f"{role.value} ({role_label(role, lang)})" for role in GRANTABLE)


def unit_list(units: list[Unit], lang: str) -> str:
    return ", ".join(f"{unit.code} ({unit.name(lang)})" for unit in units if unit.active)


def describe_grant(role: Role, unit: Unit | None, lang: str) -> str:
    label = role_label(role, lang)
    return f"{label} · {unit.name(lang)}" if unit else label


def person_name(person: Resident) -> str:
    """How a person is shown to the office: Telegram name, never a phone number in it."""
    return mask_phones(person.name) if person.name else str(person.external_id)


def person_line(person: Resident) -> str:
    handle = f"@{person.username}, " if person.username else ""
    return f"{person_name(person)} ({handle}id {person.external_id})"


def refusal(lang: str) -> str:
    _ = translator(lang)
    return _(
        "Sorry, this is for community office staff with the right role. If you think you "
        "should have it, please ask the community office."
    )


def invite_usage(units: list[Unit], lang: str) -> str:
    _ = translator(lang)
    return _(
        "Send it like this: /invite <role> [unit code]\nRoles: {roles}\nUnits: {units}"
    ).format(roles=role_list(lang), units=unit_list(units, lang))


def explain_invalid(reason: str, units: list[Unit], lang: str) -> str:
    """Why create_invitation refused (InvalidInput.reason), and what to send instead."""
    _ = translator(lang)
    if reason == "needs_unit":
        return _("Staff work in a unit: /invite staff <unit code>. Units: {units}").format(
            units=unit_list(units, lang)
        )
    if reason == "mediation_only":
        return _("Mediators always join the mediation desk: send /invite mediator.")
    if reason == "no_unit":
        return _("Secretaries serve the whole office: send /invite secretary.")
    return invite_usage(units, lang)


def unknown_person(lang: str, given: str) -> str:
    _ = translator(lang)
    return _(
        'I do not know "{given}". Use their Telegram id or @username; they must have '
        "written to me at least once."
    ).format(given=given[:40])


def render_staff(entries: list[StaffEntry], lang: str) -> str:
    """Everyone with a role, the office first, then each unit in its usual order."""
    _ = translator(lang)
    if not entries:
        return _("Nobody holds a role yet. Invite someone with /invite.")
    groups: dict[int, tuple[str, list[StaffEntry]]] = {}
    for entry in entries:
        key = (entry.unit.id or 0) if entry.unit else 0  # 0: the office, listed first
        title = entry.unit.name(lang) if entry.unit else _(OFFICE)
        groups.setdefault(key, (title, []))[1].append(entry)
    people = len({entry.resident.id for entry in entries})
    heading = ngettext(lang, "Office staff ({n} person):", "Office staff ({n} people):", people)
    lines = [heading.format(n=people)]
    for key in sorted(groups):
        title, members = groups[key]
        lines += ["", title]
        lines += [f"• {person_line(e.resident)} · {role_label(e.role, lang)}" for e in members]
    lines += ["", _("To end a role: /revoke <telegram id or @username> <role>")]
    return "\n".join(lines)


def render_roster(days: dict[date, list[Resident]], lang: str, *, hint: bool) -> str:
    """The mediation desk, day by day; `hint` tells a secretary how to fill gaps."""
    _ = translator(lang)
    lines = [_("Mediation desk duty:")]
    for day, mediators in days.items():
        names = ", ".join(person_name(m) for m in mediators) or _("nobody yet")
        lines.append(f"{day.strftime('%m-%d')} {_(WEEKDAYS[day.weekday()])}: {names}")
    if hint:
        lines += [
            "",
            _("/duty fill fills empty days; /duty 2025-06-01 @username [@username] sets a day."),
        ]
    return "\n".join(lines)
