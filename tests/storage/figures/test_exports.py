"""Exports: a known November, written as .xlsx, .csv and .md, read back and checked."""

import asyncio
import io
import os
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import col, select

from handlers.office.export_files import write_csv, write_md, write_xlsx
from handlers.office.export_sheets import CASES, DISPUTES, EVENTS, FIGURES, HAZARDS
from storage.cases import categories, disputes, open_case, workflow
from storage.db import session_scope
from storage.models import Case, CaseEvent, Hazard
from storage.periods import parse_period
from tests.storage.cases.test_workflow import TODAY, _auth, _setup

ROOT = Path(__file__).resolve().parents[3]
TZ = ZoneInfo("Asia/Shanghai")
NOVEMBER = parse_period("2026-11", tz=TZ, today=TODAY)
NOW = datetime(2026, 12, 5, tzinfo=UTC)
SECRET_BITS = ("13812345678", "12345678", "13900001111", "王芳芳", "Resident")


def _local(*args: int) -> datetime:
    return datetime(*args, tzinfo=TZ).astimezone(UTC)


async def _november(engine: AsyncEngine) -> dict[str, int]:
    """Five cases in November (local time), one just before it, one just after."""
    async with session_scope(engine) as s:
        p = await _setup(s)
        p["wang"].name = "王芳芳"
        secretary = await _auth(s, p["secretary"])
        numbers: dict[str, int] = {}

        async def file(
            key: str, code: str, text: str, at: datetime, source: str = "private", **kw: bool
        ) -> Case:
            category = await categories.category_by_code(s, code)
            case, _ = await open_case(
                s,
                reporter=p["wang"],
                category=category,
                text=text,
                source=source,
                source_chat_id=p["wang"].external_id,
                source_message_id=len(numbers) + 1,
                today=TODAY,
                **kw,
            )
            case.created_at = at
            numbers[key] = case.id
            return case

        first = await file(
            "first", "safety", "楼道堆放杂物，电话13812345678", _local(2026, 11, 1, 0, 10)
        )
        await workflow.resolve(
            s, case=first, actor=p["secretary"], auth=secretary, note="已清理，物业 021-12345678"
        )
        same = _local(2026, 11, 15, 9, 0)  # two cases filed in the same instant
        rejected = await file("rejected", "property", '=HYPERLINK("x") 电梯坏了', same)
        await workflow.reject(s, case=rejected, actor=p["secretary"], auth=secretary, reason="重复")
        labour = await file("labour", "labour", "工地拖欠工资三个月", same, anonymous=True)
        await disputes.record_dispute(
            s,
            case=labour,
            actor=p["secretary"],
            auth=secretary,
            parties="工人3人 / 某建筑公司 13900001111",
            people=3,
            amount_yuan=45000,
        )
        hazard = await file(
            "hazard", "safety", "消防通道堵塞", _local(2026, 11, 20, 14), source="inspection"
        )
        s.add(
            Hazard(
                case_id=hazard.id,
                kind="fire_passage",
                place="5号楼东侧",
                responsible_party="物业",
                deadline=_local(2026, 11, 27, 18),
            )
        )
        await file("last", "environment", "垃圾桶满了", _local(2026, 11, 30, 23, 59))
        await file("before", "other", "十月底的事", _local(2026, 10, 31, 23, 50))
        await file("after", "other", "十二月初的事", _local(2026, 12, 1, 0, 0))
    return numbers


def _cells(book: openpyxl.Workbook) -> list[object]:
    return [v for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row]


async def test_workbook_has_the_sheets_headers_and_rows(engine: AsyncEngine) -> None:
    numbers = await _november(engine)
    inside = [numbers[k] for k in ("first", "rejected", "labour", "hazard", "last")]
    async with session_scope(engine) as s:
        query = select(CaseEvent).where(col(CaseEvent.case_id).in_(inside))
        events = len((await s.exec(query)).all())
    buffer = io.BytesIO()
    written = await write_xlsx(buffer, engine, period=NOVEMBER, now=NOW, size=2)

    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == ["案件", "处理记录", "隐患", "纠纷", "统计"]
    for sheet in (CASES, EVENTS, HAZARDS, DISPUTES, FIGURES):
        assert next(book[sheet.name].iter_rows(values_only=True)) == sheet.headers
    assert CASES.headers[:3] == ("案件编号", "提交时间", "类别")
    cases = list(book["案件"].iter_rows(min_row=2, values_only=True))
    assert [row[0] for row in cases] == inside  # filing order, each once across chunks of 2
    assert (written.cases, written.events, written.hazards, written.disputes) == (5, events, 1, 1)
    assert book["处理记录"].max_row == events + 1
    assert book["隐患"].max_row == 2 and book["纠纷"].max_row == 2

    first = cases[0]
    assert first[1] == datetime(2026, 11, 1, 0, 10)  # local time, as Excel wants it (no zone)
    assert first[2:6] == ("安全隐患", "已解决", "私聊", "街道平安办")
    assert first[10] == "楼道堆放杂物，电话138****5678"
    assert cases[1][10].startswith("=HYPERLINK")  # kept as text: never run as a formula
    assert book["案件"].cell(row=3, column=11).data_type == "s"
    assert book["纠纷"].cell(row=2, column=3).value == 3
    assert book["隐患"].cell(row=2, column=3).value == "消防通道"

    figures = {row[0]: row[1] for row in book["统计"].iter_rows(min_row=2, values_only=True)}
    assert figures["统计期间"] == "2026-11" and figures["案件总数（件）"] == 5
    assert figures["受理诉求（件）"] == 3  # first, labour, last (rejected is not; hazard is apart)
    assert figures["办结诉求（件）"] == 1 and figures["发现隐患（处）"] == 1
    assert figures["办结率"] == 1 / 3 and book["统计"]["B8"].number_format == "0.0%"
    assert (figures["召开议事会（次）"], figures["作出决议（项）"]) == (0, 0)
    assert figures["本期决议完成率"] is None  # no decisions: an empty cell, not 0%

    text = " ".join(str(v) for v in _cells(book) if v is not None)
    for secret in SECRET_BITS:
        assert secret not in text, secret
    assert "021-****5678" in text and "139****1111" in text


async def test_csv_is_the_cases_sheet_with_a_bom(engine: AsyncEngine) -> None:
    await _november(engine)
    buffer = io.BytesIO()
    written = await write_csv(buffer, engine, period=NOVEMBER, size=3)
    raw = buffer.getvalue()
    assert raw.startswith(b"\xef\xbb\xbf") and written.cases == 5
    lines = raw.decode("utf-8-sig").splitlines()
    assert lines[0] == ",".join(CASES.headers) and len(lines) == 6
    assert "2026-11-01 00:10:00" in lines[1] and "138****5678" in lines[1]
    assert "'=HYPERLINK" in lines[2]  # Excel does not run it as a formula
    for secret in SECRET_BITS:
        assert secret not in raw.decode("utf-8-sig")


async def test_markdown_is_the_figures_table_and_the_case_count(engine: AsyncEngine) -> None:
    await _november(engine)
    buffer = io.BytesIO()
    written = await write_md(buffer, engine, period=NOVEMBER, now=NOW)
    text = buffer.getvalue().decode()
    assert written.cases == 5 and "案件总数：5 件" in text
    assert "| 指标 | 数值 |" in text and "| 受理诉求（件） | 3 |" in text
    assert "| 办结率 | 33.3% |" in text and "| 化解劳资纠纷（件） | 0 |" in text


async def test_an_empty_period_still_opens_with_headers(engine: AsyncEngine) -> None:
    period = parse_period("2030-01", tz=TZ, today=date(2030, 1, 2))
    buffer = io.BytesIO()
    written = await write_xlsx(buffer, engine, period=period, now=NOW + timedelta(days=1))
    book = openpyxl.load_workbook(buffer)
    assert written.cases == 0 and book["案件"].max_row == 1
    assert book["统计"]["B2"].value == "2030-01"


async def _yishi(cwd: Path, database_url: str, *args: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "report",
        *args,
        cwd=cwd,  # no .env of the checkout; default output files land here
        env={**os.environ, "PYTHONPATH": str(ROOT), "YISHI_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.mark.slow
async def test_yishi_report_writes_each_format(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    await _november(engine)
    code, out, _err = await _yishi(tmp_path, database_url, "--period", "2026-11", "--out", "n.xlsx")
    assert code == 0 and "5 cases" in out
    book = openpyxl.load_workbook(tmp_path / "n.xlsx")
    assert book.sheetnames[0] == "案件" and book["案件"].max_row == 6
    code, _out, _err = await _yishi(
        tmp_path, database_url, "--period", "2026-11", "--format", "csv"
    )
    assert code == 0
    assert (tmp_path / "yishi-2026-11.csv").read_text("utf-8-sig").count("\n") == 6
    code, _out, _err = await _yishi(tmp_path, database_url, "--period=2026-11", "--format=md")
    assert code == 0 and "案件总数：5 件" in (tmp_path / "yishi-2026-11.md").read_text()
    code, _out, err = await _yishi(tmp_path, database_url, "--period", "next month")
    assert code == 2 and "bad period" in err


def test_every_hazard_kind_has_one_label_for_buttons_and_exports() -> None:
    from handlers.words.render import HAZARD_KINDS
    from storage.inspections import HazardKind

    assert set(HAZARD_KINDS) == set(HazardKind)
