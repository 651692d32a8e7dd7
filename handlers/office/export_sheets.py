"""What an export shows: sheet names, Chinese headers, and each row as the office reads it.

Spreadsheets are in Chinese whoever asks (the office files them), so headers and labels are
constants here rather than messages; statuses and event kinds reuse the chat's own labels so
the file says what residents and staff saw. Times are local and without a zone (Excel has
none); rates are fractions that the writers show as percentages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from handlers.words.i18n import translator
from handlers.words.render import EVENT_LABELS, HAZARD_KINDS, STATUS_LABELS
from storage.figures.exports import CaseRow, DisputeRow, EventRow, HazardRow, ReportFigures
from storage.figures.stats_durations import Durations

logger = logging.getLogger(__name__)

Value = str | int | float | datetime | None


@dataclass(frozen=True)
class Sheet:
    name: str
    headers: tuple[str, ...]


CASES = Sheet(
    "案件",
    ("案件编号", "提交时间", "类别", "状态", "来源", "责任单位", "办理期限", "首次响应")
    + ("解决时间", "满意度", "内容"),
)
EVENTS = Sheet("处理记录", ("案件编号", "时间", "事项", "原状态", "新状态", "说明", "居民可见"))
HAZARDS = Sheet(
    "隐患", ("案件编号", "巡查轮次", "隐患类型", "地点", "责任方", "整改期限", "状态", "整改时间")
)
DISPUTES = Sheet("纠纷", ("案件编号", "当事方", "涉及人数", "涉及金额（元）", "状态", "解决时间"))
FIGURES = Sheet("统计", ("指标", "数值"))
SHEETS = (CASES, EVENTS, HAZARDS, DISPUTES, FIGURES)

SOURCES = {"private": "私聊", "group": "群聊", "inspection": "巡查", "open311": "Open311"}
# Event kinds the chat timeline does not label (it shows them another way).
KINDS = {"status": "状态变更", "dispute": "纠纷登记", "reopened": "重新办理"}


@dataclass(frozen=True)
class FigureRow:
    label: str
    value: Value
    percent: bool = False


class Rows:
    """Turns storage rows into spreadsheet rows in one time zone."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        zh = translator("zh")
        self.statuses = {code: zh(label) for code, label in STATUS_LABELS.items()}
        self.kinds = {code: zh(label) for code, label in EVENT_LABELS.items()} | KINDS
        self.hazard_kinds = {code: zh(label) for code, label in HAZARD_KINDS.items()}

    def time(self, moment: datetime | None) -> datetime | None:
        if moment is None:
            return None
        return moment.astimezone(self.tz).replace(tzinfo=None, microsecond=0)

    def status(self, code: str | None) -> str | None:
        return None if code is None else self.statuses.get(code, code)

    def case(self, row: CaseRow) -> tuple[Value, ...]:
        return (
            row.number,
            self.time(row.filed_at),
            row.category,
            self.status(row.status),
            SOURCES.get(row.source, row.source),
            row.unit,
            self.time(row.due_at),
            self.time(row.first_response_at),
            self.time(row.resolved_at),
            row.satisfaction,
            row.text,
        )

    def event(self, row: EventRow) -> tuple[Value, ...]:
        kind = self.kinds.get(row.kind, row.kind)
        status_from, status_to = self.status(row.from_status), self.status(row.to_status)
        return (
            row.case,
            self.time(row.at),
            kind,
            status_from,
            status_to,
            row.note,
            _yes(row.public),
        )

    def hazard(self, row: HazardRow) -> tuple[Value, ...]:
        return (
            row.case,
            row.round,
            self.hazard_kinds.get(row.kind, row.kind),
            row.place,
            row.responsible_party,
            self.time(row.deadline),
            self.status(row.status),
            self.time(row.rectified_at),
        )

    def dispute(self, row: DisputeRow) -> tuple[Value, ...]:
        status, resolved = self.status(row.status), self.time(row.resolved_at)
        return (row.case, row.parties, row.people, row.amount_yuan, status, resolved)


def _yes(flag: bool) -> str:
    return "是" if flag else "否"


def _hours(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _durations(name: str, durations: Durations) -> list[FigureRow]:
    return [
        FigureRow(f"{name}件数", durations.count),
        FigureRow(f"{name}时长中位数（小时）", _hours(durations.median_hours)),
        FigureRow(f"{name}时长90%分位（小时）", _hours(durations.p90_hours)),
    ]


def figure_rows(report: ReportFigures) -> list[FigureRow]:
    """Label/value pairs: the period, every figure, by category and status, the trend."""
    f, d, rows = report.figures, report.disputes, Rows(report.figures.period.tz)
    period = f.period
    average = None if f.satisfaction.average is None else round(f.satisfaction.average, 2)
    found = [
        FigureRow("统计期间", period.label),
        FigureRow("起始日期", period.first_day.isoformat()),
        FigureRow("截止日期", period.last_day.isoformat()),
        FigureRow("案件总数（件）", report.cases),
        FigureRow("受理诉求（件）", f.demand.accepted),
        FigureRow("办结诉求（件）", f.demand.handled),
        FigureRow("办结率", f.demand.completion_rate, percent=True),
        FigureRow("发现隐患（处）", f.hazards.found),
        FigureRow("整改隐患（处）", f.hazards.rectified),
        FigureRow("整改率", f.hazards.rectification_rate, percent=True),
        *_durations("首次响应", f.first_response),
        *_durations("解决", f.resolution),
        FigureRow("当前超期未办结（件）", f.overdue_now),
        FigureRow("满意度评价（条）", f.satisfaction.responses),
        FigureRow("平均满意度（1-5）", average),
        FigureRow("化解劳资纠纷（件）", d.resolved),
        FigureRow("涉及人数（人）", d.people),
        FigureRow("涉及金额（元）", d.amount_yuan),
    ]
    if (m := f.meetings) is not None:
        found += [
            FigureRow("召开议事会（次）", m.held),
            FigureRow("作出决议（项）", m.taken),
            FigureRow("本期办结决议（项）", m.done),
            FigureRow("本期决议完成率", m.completion_rate, percent=True),
        ]
    found += [
        FigureRow(f"分类：{c.name_zh} · {rows.status(c.status)}（件）", c.count)
        for c in f.by_category
    ]
    for month in f.trend:
        found.append(FigureRow(f"{month.month} 受理（件）", month.accepted))
        found.append(FigureRow(f"{month.month} 办结（件）", month.handled))
    return found
