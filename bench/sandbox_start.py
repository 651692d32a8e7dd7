"""How long `make sandbox` takes from a fresh start until the chat page answers.

Each run starts the sandbox with `--fresh` on a temporary database (the first start of a fresh
clone: schema, defaults and the demo estate are created), and measures from the moment the
process starts:
  page   the first HTTP 200 on the page (GET /)
  ready  the bot polling and the page usable (/control/page says ready)
  answer the bot's first answer to a resident's /start, through the control API
then presses Ctrl-C (SIGINT) and measures how long it takes to stop, and its exit code.
Figures are ratios against the 60 s the issue allows and against a baseline measured in the
same run: a bare interpreter importing the bot (`python -c "import bot.telegram.app"`).

    python bench/sandbox_start.py [--runs 3] [--direct]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIMIT = 60.0
WANG = 20001


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, timeout: float = 2.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:
        return 0, b""


def wait_until(probe, deadline: float) -> float:
    while time.monotonic() < deadline:
        if probe():
            return time.monotonic()
        time.sleep(0.05)
    raise TimeoutError("the sandbox did not get there in time")


def command(port: int, workdir: Path, direct: bool) -> list[str]:
    args = f"--fresh --listen 127.0.0.1:{port} --database sqlite:///{workdir}/sandbox.db"
    stamp = ROOT / ".venv" / ".installed-stamp"
    if not direct and shutil.which("make") and stamp.exists():
        return ["make", "--no-print-directory", "-C", str(ROOT), "sandbox", f"SANDBOX_ARGS={args}"]
    return [sys.executable, "-m", "bot.cli", "sandbox", *args.split()]


def one_run(direct: bool) -> dict[str, float]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        process = subprocess.Popen(
            command(port, workdir, direct),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=open(workdir / "log", "wb"),  # noqa: SIM115
            start_new_session=True,  # Ctrl-C goes to the whole group, as in a terminal
        )
        try:
            deadline = started + 3 * LIMIT
            page = wait_until(lambda: get(base + "/")[0] == 200, deadline)
            ready = wait_until(
                lambda: b'"ready":true' in get(base + "/control/page")[1].replace(b" ", b""),
                deadline,
            )
            body = json.dumps({"user_id": WANG, "text": "/start"}).encode()
            request = urllib.request.Request(
                base + "/control/send_text", body, {"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                sent = json.load(response)["message_id"]
            url = f"{base}/control/wait?chat_id={WANG}&after={sent}&timeout=30"
            answer = wait_until(lambda: b'"is_bot":true' in get(url, 35)[1], deadline)
        finally:
            before_stop = time.monotonic()
            os.killpg(process.pid, signal.SIGINT)
            try:
                code = process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code = -9
            stopped = time.monotonic()
    return {
        "page": page - started,
        "ready": ready - started,
        "answer": answer - started,
        "stop": stopped - before_stop,
        "exit": float(code),
    }


def baseline() -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-c", "import bot.telegram.app"], cwd=ROOT, check=True)
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--direct", action="store_true", help="run bot.cli, not `make sandbox`")
    args = parser.parse_args()
    base = baseline()
    print(f"baseline: importing the bot takes {base:.2f} s")
    runs = [one_run(args.direct) for _ in range(args.runs)]
    for name in ("page", "ready", "answer", "stop"):
        values = [run[name] for run in runs]
        median = statistics.median(values)
        each = ", ".join(f"{v:.2f}" for v in values)
        print(
            f"{name:>6}: median {median:6.2f} s (runs: {each}); ratio to the 60 s limit "
            f"{median / LIMIT:.3f}, to the import baseline {median / base:.1f}"
        )
    codes = sorted({int(run["exit"]) for run in runs})
    print(f"exit codes after Ctrl-C: {codes}")
    worst = max(run["ready"] for run in runs)
    print(f"{'PASS' if worst < LIMIT else 'FAIL'}: slowest start to a usable page {worst:.2f} s")


if __name__ == "__main__":
    main()
