"""Plain-text rendering of cases and drafts in the reader's language (no Telegram types)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.words.i18n import N_, ngettext, translator
from storage.cases import CaseView, Status
from storage.inspections import HazardKind
from storage.models import Case, Category, ReportDraft
from storage.text import mask_phones

STATUS_LABELS: dict[str, str] = {
    Status.NEW: N_("New"),
    Status.ACCEPTED: N_("Accepted"),
    Status.IN_PROGRESS: N_("In progress"),
    Status.RESOLVED: N_("Resolved"),
    Status.CLOSED: N_("Closed"),
    Status.REJECTED: N_("Rejected"),
    Status.DUPLICATE: N_("Duplicate"),
    Status.REOPENED: N_("Reopened"),
}

# Hazard kinds as inspectors see them on the buttons and as the exports name them.
HAZARD_KINDS: dict[str, str] = {
    HazardKind.GROUP_RENTAL: N_("Group-rental housing"),
    HazardKind.SMALL_VENUES: N_("Small shops, workshops, eateries"),
    HazardKind.UNDERGROUND_PARKING: N_("Underground parking"),
    HazardKind.UTILITIES: N_("Water and electricity use"),
    HazardKind.FIRE_PASSAGE: N_("Fire passages"),
    HazardKind.OTHER: N_("Other hazard"),
}

EVENT_LABELS: dict[str, str] = {
    "opened": N_("Report received"),
    "note": N_("Progress"),
    "followup": N_("Message from the reporter"),
    "rated": N_("Rated (1-5)"),
    "assigned": N_("Assigned"),
    "returned": N_("Sent back for triage"),
    "recategorised": N_("Category changed"),
    "reminded": N_("Reminder sent"),
    "escalated": N_("Escalated: overdue"),
}


def status_label(status: str, lang: str) -> str:
    return translator(lang)(STATUS_LABELS.get(status, status))


def local_time(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _place(lat: float | None, lon: float | None, address: str | None, lang: str) -> str | None:
    _ = translator(lang)
    if lat is not None and lon is not None:
        return _("Location: {lat:.5f}, {lon:.5f}").format(lat=lat, lon=lon)
    if address:
        return _("Address: {address}").format(address=mask_phones(address))
    return None


def _photos(count: int, lang: str) -> str | None:
    if not count:
        return None
    return ngettext(lang, "{n} photo", "{n} photos", count).format(n=count)


def render_draft_summary(draft: ReportDraft, category: Category, lang: str) -> str:
    _ = translator(lang)
    lines = [
        _("Please check your report:"),
        "",
        _("Category: {category}").format(category=category.name(lang)),
        _("Description: {text}").format(text=mask_phones(draft.text or "")),
    ]
    for extra in (
        _photos(len(draft.photos), lang),
        _place(draft.latitude, draft.longitude, draft.address, lang),
    ):
        if extra:
            lines.append(extra)
    lines.append(_("Anonymous: yes") if draft.anonymous else _("Anonymous: no"))
    return "\n".join(lines)


def render_case(
    view: CaseView, lang: str, tz: ZoneInfo, *, staff: bool = False, reporter: str | None = None
) -> str:
    """One case with its timeline: for its reporter (public events), or for staff (all,
    internal ones marked; the reporter's name only when given, never when anonymous)."""
    _ = translator(lang)
    case = view.case
    lines = [
        _("Case #{number} · {category}").format(number=case.id, category=view.category.name(lang)),
        _("Status: {status}").format(status=status_label(case.status, lang)),
        _("Filed: {when}").format(when=local_time(case.created_at, tz)),
        "",
        mask_phones(case.text),
    ]
    for extra in (
        _photos(len(case.photos), lang),
        _place(case.latitude, case.longitude, case.address, lang),
    ):
        if extra:
            lines.append(extra)
    if staff:
        lines.append(
            _("Reported by: {name}").format(name=reporter)
            if reporter
            else _("Reported anonymously")
        )
        if case.due_at is not None:
            lines.append(_("Due: {when}").format(when=local_time(case.due_at, tz)))
    elif case.anonymous:
        lines.append(_("Filed anonymously: staff and groups do not see your name."))
    lines += ["", _("Timeline:")]
    for event in view.events:
        label = EVENT_LABELS.get(event.kind)
        what = _(label) if label else status_label(event.to_status or "", lang)
        line = f"• {local_time(event.at, tz)} {what}"
        if event.note:
            line += f": {mask_phones(event.note)}"
        if staff and not event.public:
            line += " " + _("(internal)")
        lines.append(line)
    return "\n".join(lines)


def render_case_list(
    items: list[tuple[Case, Category]], total: int, lang: str, tz: ZoneInfo
) -> str:
    _ = translator(lang)
    if not items:
        return _("You have not reported anything yet. Send /report to start.")
    lines = [ngettext(lang, "Your case ({n}):", "Your cases ({n}):", total).format(n=total)]
    for case, category in items:
        lines.append(
            f"#{case.id} · {category.name(lang)} · {status_label(case.status, lang)}"
            f" · {case.created_at.astimezone(tz).strftime('%m-%d')}"
        )
    if total > len(items):
        lines.append(_("Showing the newest {shown}.").format(shown=len(items)))
    lines.append(_("Send /case <number> to see one case."))
    return "\n".join(lines)
