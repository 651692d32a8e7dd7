"""The import contracts (pyproject.toml, `lint-imports` in `make check`) hold, and break.

Each case runs lint-imports on a scratch copy of the packages and pyproject.toml, once as they
are and once with a forbidden import added, so a contract that silently checks nothing fails.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "scheduler", "storage")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.slow  # real subprocesses


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """The project's packages and pyproject.toml, copied (sources only)."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "locales", "static")
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def lint_imports(where: Path) -> subprocess.CompletedProcess[str]:
    # From `where`, lint-imports puts it first on sys.path, so the copy shadows the project.
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=60,
    )


def add_line(module: Path, line: str) -> None:
    module.write_text(module.read_text() + f"\n{line}  # noqa\n")


def test_the_contracts_are_kept_as_the_code_stands(scratch: Path) -> None:
    run = lint_imports(scratch)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 8 kept, 0 broken." in run.stdout


@pytest.mark.parametrize("forbidden", ["telegram", "bot.config", "handlers", "scheduler"])
def test_storage_importing_a_channel_or_an_edge_breaks_its_contract(
    scratch: Path, forbidden: str
) -> None:
    add_line(scratch / "storage" / "errors.py", f"import {forbidden}")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "storage imports no channel, conversation or scheduler BROKEN" in run.stdout
    assert re.search(rf"storage\.errors -> {re.escape(forbidden)}\b", run.stdout), run.stdout


@pytest.mark.parametrize("forbidden", ["telegram", "bot.config", "handlers.notices"])
def test_scheduler_importing_a_channel_or_a_conversation_breaks_its_contract(
    scratch: Path, forbidden: str
) -> None:
    add_line(scratch / "scheduler" / "plan.py", f"import {forbidden}")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "scheduler imports no handlers, telegram or bot BROKEN" in run.stdout
    assert re.search(rf"scheduler\.plan -> {re.escape(forbidden)}\b", run.stdout), run.stdout


def test_scheduler_reaching_a_channel_through_storage_breaks_its_contract(scratch: Path) -> None:
    # Indirect imports count: a job that imports a storage module importing handlers.
    add_line(scratch / "storage" / "periods.py", "import handlers.words.i18n")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "scheduler imports no handlers, telegram or bot BROKEN" in run.stdout
    assert "storage.periods -> handlers.words.i18n" in run.stdout, run.stdout


@pytest.mark.parametrize("forbidden", ["telegram", "bot.config", "scheduler"])
def test_handlers_importing_a_channel_or_an_edge_breaks_its_contract(
    scratch: Path, forbidden: str
) -> None:
    add_line(scratch / "handlers" / "cases" / "mine.py", f"import {forbidden}")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "handlers imports no telegram, bot or scheduler BROKEN" in run.stdout
    assert re.search(rf"handlers\.cases\.mine -> {re.escape(forbidden)}\b", run.stdout), run.stdout


def test_a_cycle_inside_storage_breaks_its_contract(scratch: Path) -> None:
    # storage.outbox imports storage.models; importing it back closes a circle.
    add_line(scratch / "storage" / "models.py", "import storage.outbox")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no import cycles inside storage BROKEN" in run.stdout
    assert re.search(r"- \.(models -> \.outbox|outbox -> \.models) ", run.stdout)


def test_a_capability_importing_one_above_it_breaks_the_layers(scratch: Path) -> None:
    # people is below cases: a role that reads a case would make the two lean on each other.
    add_line(scratch / "storage" / "people" / "roles.py", "import storage.cases.records")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "storage's capabilities are layered over people and the shared modules BROKEN" in (
        run.stdout
    )
    assert "storage.people.roles -> storage.cases.records" in run.stdout, run.stdout


def test_telegram_outside_its_channel_breaks_its_contract(scratch: Path) -> None:
    # The web app is shared by every channel: it may not speak PTB itself.
    add_line(scratch / "bot" / "web.py", "import telegram.ext")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "only the Telegram channel imports telegram BROKEN" in run.stdout
    assert "bot.web -> telegram" in run.stdout, run.stdout


def test_a_conversation_importing_one_above_it_breaks_the_handlers_layers(scratch: Path) -> None:
    # Whistle replies sit below cases: reaching up into the guided report closes a circle.
    add_line(scratch / "handlers" / "whistle" / "replies.py", "import handlers.cases.report")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "handlers' capabilities are layered over the conversation seam" in run.stdout
    assert "handlers.whistle.replies -> handlers.cases.report" in run.stdout, run.stdout


def test_a_cycle_inside_bot_breaks_its_contract(scratch: Path) -> None:
    # The Telegram channel serves the web app; the web app naming the channel closes a circle.
    add_line(scratch / "bot" / "web.py", "import bot.telegram.sender")
    run = lint_imports(scratch)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "no import cycles inside bot BROKEN" in run.stdout
    assert re.search(r"- \.(web -> \.telegram|telegram -> \.web) ", run.stdout), run.stdout


def test_make_check_runs_the_contracts() -> None:
    recipe = re.search(r"^check:.*\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe is not None and "$(BIN)/lint-imports" in recipe[1]


def test_importing_storage_puts_every_table_on_the_metadata() -> None:
    # The table modules import none of each other; storage/tables.py must gather them all.
    script = """
import importlib, pkgutil
import storage
from sqlmodel import SQLModel
gathered = set(SQLModel.metadata.tables)
for module in pkgutil.walk_packages(storage.__path__, "storage."):
    importlib.import_module(module.name)
print(sorted(set(SQLModel.metadata.tables) - gathered))
"""
    run = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert (run.returncode, run.stdout.strip()) == (0, "[]"), run.stderr
