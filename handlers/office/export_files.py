"""Writing an export: an .xlsx workbook, the cases as .csv, or the figures as Markdown.

Rows are read a chunk at a time (storage/figures/exports.py) and written in a worker thread while
the next chunk is read, so the event loop never waits on openpyxl and at most two chunks are in
memory; openpyxl's write-only workbook streams each sheet to a temporary file until it is
saved. Used by /export (handlers/office/export.py) and `yishi report` (bot/cli.py).
"""

from __future__ import annotations

import asyncio
import csv
import io
import logging
import os
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy.ext.asyncio import AsyncEngine

from handlers.office.export_sheets import (
    CASES,
    DISPUTES,
    EVENTS,
    FIGURES,
    HAZARDS,
    SHEETS,
    FigureRow,
    Rows,
    Value,
    figure_rows,
)
from storage.db import session_scope
from storage.figures.exports import CHUNK, Chunk, ReportFigures, chunks, report_figures
from storage.periods import Period

logger = logging.getLogger(__name__)

Target = str | os.PathLike[str] | IO[bytes]
WIDTHS = {"内容": 60, "说明": 50, "地点": 30, "当事方": 30, "责任方": 24, "指标": 34}
TIMES = {"提交时间", "时间", "办理期限", "首次响应", "解决时间", "整改期限", "整改时间"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheet apps may run as a formula


@dataclass
class Written:
    cases: int = 0
    events: int = 0
    hazards: int = 0
    disputes: int = 0


def file_name(period: Period, fmt: str = "xlsx") -> str:
    """yishi-2026-11.xlsx; a range of days: yishi-2026-11-01_2026-11-15.xlsx."""
    return f"yishi-{period.label.replace('..', '_')}.{fmt}"


@contextmanager
def _opened(target: Target) -> Iterator[IO[bytes]]:
    if isinstance(target, str | os.PathLike):
        with open(target, "wb") as fh:
            yield fh
    else:
        yield target


async def _pump(source: AsyncIterator[Chunk], write: Callable[[Chunk], None]) -> None:
    """Write each chunk in a thread while the next one is read."""
    pending: asyncio.Future[None] | None = None
    try:
        async for chunk in source:
            if pending is not None:
                await pending
            pending = asyncio.ensure_future(asyncio.to_thread(write, chunk))
    finally:
        if pending is not None:
            await pending


async def _figures(engine: AsyncEngine, period: Period, now: datetime) -> ReportFigures:
    async with session_scope(engine) as session:
        return await report_figures(session, period=period, now=now)


def _unsafe(value: Value) -> bool:
    """Text openpyxl would take for a formula or an error code, or refuse (control chars)."""
    return isinstance(value, str) and (
        value.startswith(("=", "#")) or ILLEGAL_CHARACTERS_RE.search(value) is not None
    )


class _Book:
    """A write-only workbook with every sheet's header in place."""

    def __init__(self, rows: Rows) -> None:
        self.rows, self.written = rows, Written()
        self.book = Workbook(write_only=True)
        self.sheets: dict[str, Any] = {}
        bold = Font(bold=True)
        for sheet in SHEETS:
            ws = self.book.create_sheet(sheet.name)
            for index, header in enumerate(sheet.headers, 1):
                width = WIDTHS.get(header, 18 if header in TIMES else 12)
                ws.column_dimensions[get_column_letter(index)].width = width
            ws.freeze_panes = "A2"
            ws.append([self._cell(ws, header, font=bold) for header in sheet.headers])
            self.sheets[sheet.name] = ws

    @staticmethod
    def _cell(ws: Any, value: Value, **style: Any) -> Any:
        cell = WriteOnlyCell(ws, value=None)
        if isinstance(value, str):
            cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
            cell.data_type = "s"  # a text that starts with "=" stays text, never a formula
        else:
            cell.value = value
        for name, setting in style.items():
            setattr(cell, name, setting)
        return cell

    def _append(self, name: str, values: Sequence[Value]) -> None:
        ws = self.sheets[name]
        ws.append([self._cell(ws, v) if _unsafe(v) else v for v in values])

    def add(self, chunk: Chunk) -> None:
        rows, written = self.rows, self.written
        for case in chunk.cases:
            self._append(CASES.name, rows.case(case))
        for event in chunk.events:
            self._append(EVENTS.name, rows.event(event))
        for hazard in chunk.hazards:
            self._append(HAZARDS.name, rows.hazard(hazard))
        for dispute in chunk.disputes:
            self._append(DISPUTES.name, rows.dispute(dispute))
        written.cases += len(chunk.cases)
        written.events += len(chunk.events)
        written.hazards += len(chunk.hazards)
        written.disputes += len(chunk.disputes)

    def finish(self, figures: list[FigureRow], target: Target) -> None:
        ws = self.sheets[FIGURES.name]
        for row in figures:
            fmt = {"number_format": "0.0%"} if row.percent else {}
            ws.append([self._cell(ws, row.label), self._cell(ws, row.value, **fmt)])
        with _opened(target) as fh:
            self.book.save(fh)


async def write_xlsx(
    target: Target, engine: AsyncEngine, *, period: Period, now: datetime, size: int = CHUNK
) -> Written:
    """Sheets 案件, 处理记录, 隐患, 纠纷 and 统计 for the cases filed in the period."""
    report = await _figures(engine, period, now)
    book = await asyncio.to_thread(_Book, Rows(period.tz))
    await _pump(chunks(engine, period=period, size=size), book.add)
    await asyncio.to_thread(book.finish, figure_rows(report), target)
    logger.info("exported %s: %s", period.label, book.written)
    return book.written


def _csv_value(value: Value) -> Value:
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


async def write_csv(
    target: Target, engine: AsyncEngine, *, period: Period, size: int = CHUNK
) -> Written:
    """The cases sheet as CSV, UTF-8 with a BOM so that Excel reads the Chinese right."""
    rows, written = Rows(period.tz), Written()
    with _opened(target) as fh:
        text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        out = csv.writer(text)
        out.writerow(CASES.headers)

        def write(chunk: Chunk) -> None:
            out.writerows([_csv_value(v) for v in rows.case(c)] for c in chunk.cases)
            written.cases += len(chunk.cases)

        try:
            await _pump(chunks(engine, period=period, size=size, details=False), write)
        finally:
            text.flush()
            text.detach()  # the caller's buffer stays open
    return written


def _md(value: Value, percent: bool) -> str:
    if value is None:
        return "—"
    if percent and isinstance(value, float):
        return f"{value:.1%}"
    return str(value).replace("|", "\\|")


def markdown(report: ReportFigures) -> str:
    period = report.figures.period
    lines = [
        f"# 统计 {period.label}（{period.first_day} 至 {period.last_day}）",
        "",
        f"案件总数：{report.cases} 件",
        "",
        f"| {FIGURES.headers[0]} | {FIGURES.headers[1]} |",
        "| --- | ---: |",
    ]
    lines += [f"| {_md(r.label, False)} | {_md(r.value, r.percent)} |" for r in figure_rows(report)]
    return "\n".join(lines) + "\n"


async def write_md(
    target: Target, engine: AsyncEngine, *, period: Period, now: datetime
) -> Written:
    """The figures as a Markdown table, with the number of cases filed in the period."""
    report = await _figures(engine, period, now)
    with _opened(target) as fh:
        fh.write(markdown(report).encode("utf-8"))
    return Written(cases=report.cases)
