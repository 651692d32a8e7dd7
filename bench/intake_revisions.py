"""Benchmark: the intake benchmark of two git revisions, interleaved in one run.

Checks out the old revision (default 0906cc2, main just before issue 16 started moving code)
in a temporary `git worktree` (removed afterwards) and runs `bench/intake.py --yishi-only` of
each side in turns for --rounds rounds, old first in odd rounds and new first in even ones (so a
drift within a round favours neither side): every round is a fresh process of that
revision's own harness, bot and emulator (its tree first on PYTHONPATH), with the same number
of residents, the same database kind and the same raised send limits. The new side is this
working tree unless --new names a revision. Prints each round's Yishi figures, the median
updates/s of each side, and the ratio new / old: of the medians, and each round's (new over the
old run of the same round) with their median and range.

    python bench/intake_revisions.py                        # 0906cc2 against the working tree
    python bench/intake_revisions.py --rounds 5 --residents 150
    python bench/intake_revisions.py --old HEAD~3 --new HEAD --database-url postgresql://...
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OLD = "0906cc2"
PACKAGES = ("bot", "storage", "handlers", "scheduler")
# The README's settings for measuring the bot rather than Telegram's limits (the emulator
# enforces none); both sides get exactly these.
LIMITS = {
    "YISHI_SEND_PER_SECOND": "1000",
    "YISHI_SEND_PER_CHAT_PER_SECOND": "1000",
    "YISHI_SEND_PER_GROUP_PER_MINUTE": "60000",
}


@dataclass
class Side:
    label: str  # "old" or "new"
    revision: str  # as given, or "working tree"
    commit: str  # full hash, or "" for the working tree
    root: Path
    options: list[str]  # --yishi-only when this revision's intake.py has it


def git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, check=True, capture_output=True, text=True
    ).stdout.strip()


def resolve(revision: str) -> str:
    """The full commit hash of a revision; ValueError when git knows no such commit."""
    try:
        return git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    except subprocess.CalledProcessError:
        raise ValueError(f"no such git revision: {revision!r}") from None


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", default=OLD, help=f"the baseline revision (default {OLD})")
    parser.add_argument(
        "--new", default=None, help="the revision to compare (default: the working tree)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="runs of each side (default 3)")
    parser.add_argument("--residents", type=int, default=100, help="per run (default 100)")
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.residents < 1:
        parser.error("--rounds and --residents must be at least 1")
    for name in ("old", "new"):
        revision = getattr(args, name)
        if revision is not None:
            try:
                resolve(revision)
            except ValueError as error:
                parser.error(str(error))
    return args


def child_env(root: Path) -> dict[str, str]:
    """The environment for a side's processes: its tree first on the path, the raised limits."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("YISHI_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(root), env.get("PYTHONPATH")]))
    return {**env, **LIMITS}


def intake_options(root: Path) -> list[str]:
    """--yishi-only if this revision's intake.py has it (older ones run the echo bots too)."""
    help_text = subprocess.run(
        [sys.executable, "bench/intake.py", "--help"],
        cwd=root,
        env=child_env(root),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return ["--yishi-only"] if "--yishi-only" in help_text else []


def imported_from(root: Path) -> list[str]:
    """Where a process of this side imports our packages from (so neither runs the other's)."""
    code = f"import {', '.join(PACKAGES)}; " + "; ".join(
        f"print({name}.__path__[0])" for name in PACKAGES
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=root,
        env=child_env(root),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()


@contextmanager
def checkout(label: str, revision: str | None) -> Iterator[Side]:
    """The working tree as it is, or a detached temporary worktree of the revision."""
    if revision is None:
        yield Side(label, "working tree", "", ROOT, intake_options(ROOT))
        return
    commit = resolve(revision)
    with tempfile.TemporaryDirectory(prefix=f"intake-{label}-") as tmp:
        path = Path(tmp) / "tree"
        git("worktree", "add", "--detach", str(path), commit)
        try:
            yield Side(label, revision, commit, path, intake_options(path))
        finally:
            git("worktree", "remove", "--force", str(path))


def check_imports(side: Side) -> None:
    paths = imported_from(side.root)
    strays = [p for p in paths if not Path(p).resolve().is_relative_to(side.root.resolve())]
    if strays:
        raise SystemExit(f"{side.label}: imports code from outside its tree: {strays}")


def run_once(side: Side, residents: int, database_url: str | None) -> dict[str, float]:
    """One fresh `bench/intake.py` of this side; its Yishi row as numbers."""
    command = [sys.executable, "bench/intake.py", "--residents", str(residents), *side.options]
    if database_url:
        command += ["--database-url", database_url]
    done = subprocess.run(
        command, cwd=side.root, env=child_env(side.root), capture_output=True, text=True
    )
    if done.returncode != 0:
        raise SystemExit(f"{side.label}: intake.py failed ({done.returncode}):\n{done.stderr}")
    return parse_yishi_row(done.stdout)


def parse_yishi_row(output: str) -> dict[str, float]:
    """The `yishi` row of intake.py's table: updates, seconds, updates/s, p50, p95, peak MiB."""
    for line in output.splitlines():
        fields = line.split()
        if fields and fields[0] == "yishi":
            keys = ("updates", "seconds", "rate", "p50_ms", "p95_ms", "peak_mib")
            return dict(zip(keys, map(float, fields[1:7]), strict=True))
    raise SystemExit(f"no yishi row in intake.py's output:\n{output}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    if (ROOT / ".env").exists():
        print("warning: the working tree's .env is read by its side only", file=sys.stderr)
    with checkout("old", args.old) as old, checkout("new", args.new) as new:
        sides = (old, new)
        for side in sides:
            check_imports(side)
            # Both trees compiled before timing: a fresh worktree has no __pycache__.
            subprocess.run(
                [sys.executable, "-m", "compileall", "-q", *PACKAGES, "bench"],
                cwd=side.root,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            shown = f"{side.revision} ({side.commit[:10]})" if side.commit else side.revision
            print(f"{side.label}: {shown}, intake.py {' '.join(side.options) or '(all bots)'}")
        print(
            f"{args.rounds} rounds x {args.residents} residents x 8 updates, Yishi on {backend}, "
            "old first in odd rounds, new first in even ones, limits "
            + " ".join(f"{k}={v}" for k, v in LIMITS.items())
        )
        print(
            f"{'round':>5} {'side':<4} {'seconds':>8} {'updates/s':>10} {'p50 ms':>8} "
            f"{'p95 ms':>8} {'peak MiB':>9}",
            flush=True,
        )
        rates: dict[str, list[float]] = {"old": [], "new": []}
        for round_ in range(1, args.rounds + 1):
            for side in sides if round_ % 2 else sides[::-1]:
                row = run_once(side, args.residents, args.database_url)
                rates[side.label].append(row["rate"])
                print(
                    f"{round_:>5} {side.label:<4} {row['seconds']:>8.2f} {row['rate']:>10.1f} "
                    f"{row['p50_ms']:>8.1f} {row['p95_ms']:>8.1f} {row['peak_mib']:>9.1f}",
                    flush=True,
                )
    for label in ("old", "new"):
        values = rates[label]
        print(
            f"median {label}: {statistics.median(values):.1f} updates/s "
            f"(range {min(values):.1f}-{max(values):.1f})"
        )
    per_round = [n / o for o, n in zip(rates["old"], rates["new"], strict=True)]
    print(
        f"ratio new / old: {statistics.median(rates['new']) / statistics.median(rates['old']):.2f} "
        f"(medians); per round {', '.join(f'{r:.2f}' for r in per_round)} "
        f"(median {statistics.median(per_round):.2f}, "
        f"range {min(per_round):.2f}-{max(per_round):.2f})"
    )


if __name__ == "__main__":
    main()
