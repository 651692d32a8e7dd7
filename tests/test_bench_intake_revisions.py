"""bench/intake_revisions.py: its arguments and its temporary worktree (no benchmark is run)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs a git checkout")


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "intake_revisions", ROOT / "bench" / "intake_revisions.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_arguments() -> None:
    script = _script()
    args = script.parse_args(["--old", "HEAD", "--rounds", "4", "--residents", "7"])
    assert (args.old, args.new, args.rounds, args.residents) == ("HEAD", None, 4, 7)
    for bad in (["--old", "no-such-revision-xyz"], ["--new", "no-such-revision-xyz"]):
        with pytest.raises(SystemExit) as exit_:
            script.parse_args(bad)
        assert exit_.value.code == 2
    with pytest.raises(SystemExit):
        script.parse_args(["--old", "HEAD", "--rounds", "0"])


@pytest.mark.slow
def test_old_revision_in_a_temporary_worktree_removed_after() -> None:
    script = _script()
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    with script.checkout("old", "HEAD") as side:
        assert side.commit == head
        assert side.root != ROOT and (side.root / "bench" / "intake.py").exists()
        assert side.options == ["--yishi-only"]
        script.check_imports(side)  # its processes import its own packages
        path = side.root
    assert not path.exists()
    listed = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True)
    assert str(path) not in listed.stdout
    with script.checkout("new", None) as side:
        assert (side.root, side.commit) == (ROOT, "")


def test_reads_the_yishi_row() -> None:
    output = (
        "intake benchmark: 10 residents x 8 updates, Yishi on SQLite\n"
        "bot               updates  seconds  updates/s   p50 ms   p95 ms  peak MiB\n"
        "yishi                  80     0.66      120.7     74.7    108.1     157.4\n"
    )
    row = _script().parse_yishi_row(output)
    assert row == {
        "updates": 80,
        "seconds": 0.66,
        "rate": 120.7,
        "p50_ms": 74.7,
        "p95_ms": 108.1,
        "peak_mib": 157.4,
    }
