"""No SQL outside storage/: bot/, handlers/ and scheduler/ ask storage's typed functions.

Every module of those packages is parsed with `ast` (nothing is imported or run). A module fails
if it imports a name from sqlalchemy or sqlmodel other than the two handles the edges pass
along (ALLOWED), calls `.get(`, `.exec(`, `.execute(`, `.scalar(`, `.scalars(` or `.stream(` on a
session, or calls `select(`. What is genuinely plumbing is listed in EXEMPT, each with its
reason; an exemption nothing uses any more fails too, so the list only shrinks.

A session is a name or `self.` attribute annotated `AsyncSession`, bound by `async with ... as`
from `session_scope(...)` or `transaction(...)`, or called `session` or `s` (the project's names
for one).
"""

from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "scheduler")
DATABASE_LIBRARIES = ("sqlalchemy", "sqlmodel")
SESSION_METHODS = frozenset({"get", "exec", "execute", "scalar", "scalars", "stream"})
SESSION_NAMES = frozenset({"session", "s"})
SESSION_FACTORIES = frozenset({"session_scope", "transaction"})

# Types only: a handler's signature names the session it is given, the edges the engine they
# hand to storage.db.session_scope. Neither builds a query.
ALLOWED = {
    "AsyncSession": "the type of the session a conversation or job is handed",
    "AsyncEngine": "the type of the engine the edges pass to storage.db.session_scope",
}
# (module, what) -> why it is plumbing, not a query.
EXEMPT = {
    ("bot/metrics.py", "import sqlalchemy.event"): (
        "counts committed cases for /metrics with ORM session events; reads no row"
    ),
    ("bot/metrics.py", "import sqlalchemy.inspect"): (
        "tells a committed case from a rolled-back one (has_identity) in that listener"
    ),
    ("bot/metrics.py", "import sqlalchemy.orm.Session"): "the class that listener is attached to",
    ("bot/metrics.py", "import sqlalchemy.orm.SessionTransaction"): "that listener's argument",
}


@dataclass(frozen=True)
class Finding:
    module: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line}: {self.what}"


def _is_database_module(name: str | None) -> bool:
    return name is not None and name.split(".")[0] in DATABASE_LIBRARIES


def _annotation_is_session(annotation: ast.expr | None) -> bool:
    if annotation is None:
        return False
    text = ast.unparse(annotation)
    return "AsyncSession" in text


class _Sessions(ast.NodeVisitor):
    """Every name (and `self.` attribute) that holds a session somewhere in the module."""

    def __init__(self) -> None:
        self.names: set[str] = set(SESSION_NAMES)

    def visit_arg(self, node: ast.arg) -> None:
        if _annotation_is_session(node.annotation):
            self.names.add(node.arg)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        target = node.target
        if _annotation_is_session(node.annotation):
            if isinstance(target, ast.Name):
                self.names.add(target.id)
            elif isinstance(target, ast.Attribute):
                self.names.add(target.attr)
        self.generic_visit(node)

    def visit_AsyncWith(self, node: ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            made_by = call.func if isinstance(call, ast.Call) else None
            factory = (
                made_by.id
                if isinstance(made_by, ast.Name)
                else made_by.attr
                if isinstance(made_by, ast.Attribute)
                else None
            )
            if factory in SESSION_FACTORIES and isinstance(item.optional_vars, ast.Name):
                self.names.add(item.optional_vars.id)
        self.generic_visit(node)


def _holder(node: ast.expr) -> str | None:
    """`session` for `session`, `s` for `self.s`; None for anything else."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id in ("self", "cls") else None
    return None


def findings_in(source: str, module: str) -> list[Finding]:
    """What in this module's source builds or runs SQL outside storage."""
    tree = ast.parse(source)
    sessions = _Sessions()
    sessions.visit(tree)
    found: list[Finding] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [
                Finding(module, node.lineno, f"import {alias.name}")
                for alias in node.names
                if _is_database_module(alias.name)
            ]
        elif isinstance(node, ast.ImportFrom) and _is_database_module(node.module):
            found += [
                Finding(module, node.lineno, f"import {node.module}.{alias.name}")
                for alias in node.names
                if alias.name not in ALLOWED
            ]
        elif isinstance(node, ast.Call):
            call = node.func
            queries = isinstance(call, ast.Name) and call.id == "select"
            if isinstance(call, ast.Attribute):
                queries = call.attr == "select"
                on_session = _holder(call.value) in sessions.names
                queries |= call.attr in SESSION_METHODS and on_session
            if queries:
                found.append(Finding(module, node.lineno, f"{ast.unparse(call)}("))
    return found


def findings(root: Path) -> list[Finding]:
    """Every finding in bot/, handlers/ and scheduler/ under `root`."""
    found: list[Finding] = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            module = path.relative_to(root).as_posix()
            found += findings_in(path.read_text(encoding="utf-8"), module)
    return found


def test_no_sql_outside_storage() -> None:
    found = findings(ROOT)
    unexempted = [str(f) for f in found if (f.module, f.what) not in EXEMPT]
    assert not unexempted, "SQL outside storage/ (ask a storage function):\n" + "\n".join(
        unexempted
    )


def test_every_exemption_is_still_needed() -> None:
    used = {(f.module, f.what) for f in findings(ROOT)}
    assert not [key for key in EXEMPT if key not in used]


@pytest.mark.parametrize(
    "line",
    [
        "from sqlmodel import select",
        "from sqlalchemy import func",
        "import sqlalchemy",
        "from sqlmodel.sql.expression import col",
        "query = select(Category)",
        "async def f(session: AsyncSession):\n    await session.get(Unit, 1)",
        "async def f(db: AsyncSession):\n    await db.exec(query)",
        "async def f(e):\n    async with session_scope(e) as x:\n        await x.execute(q)",
        "class Seeder:\n    s: AsyncSession\n    async def f(self):\n        await self.s.exec(q)",
        "query = sa.select(Case)",
    ],
)
def test_a_query_is_found(line: str) -> None:
    assert findings_in(line, "handlers/scratch.py")


@pytest.mark.parametrize(
    "line",
    [
        "from sqlmodel.ext.asyncio.session import AsyncSession",
        "from sqlalchemy.ext.asyncio import AsyncEngine",
        "value = params.get('chat_id')",
        "stored = world.files.get(file_id)",
        "unit = await get_unit(session, unit_id=1)",
    ],
)
def test_a_storage_call_is_not(line: str) -> None:
    assert findings_in(line, "handlers/scratch.py") == []


def test_a_select_put_into_a_handler_fails(tmp_path: Path) -> None:
    """A scratch copy of the packages with one query added to a conversation is caught."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    stats = tmp_path / "handlers" / "office" / "stats.py"
    stats.write_text(
        stats.read_text(encoding="utf-8")
        + "\n\nasync def _codes(session: AsyncSession) -> object:\n"
        + "    from sqlmodel import select\n\n"
        + "    from storage.models import Category\n\n"
        + "    return (await session.exec(select(Category.code))).all()\n",
        encoding="utf-8",
    )
    added = {(f.module, f.what) for f in findings(tmp_path) if (f.module, f.what) not in EXEMPT}
    assert added == {
        ("handlers/office/stats.py", "import sqlmodel.select"),
        ("handlers/office/stats.py", "select("),
        ("handlers/office/stats.py", "session.exec("),
    }
