"""`yishi api --listen HOST:PORT` serves the web app in its own process and stops on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import httpx
import pytest

from tests.bot.web.test_open311_client import _free_port

pytestmark = pytest.mark.slow


async def test_yishi_api_serves_open311(database_url: str, tmp_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "YISHI_DATABASE_URL": database_url}
    with open(tmp_path / "api.log", "wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "api",
            "--listen",
            f"127.0.0.1:{port}",
            env=env,
            cwd=tmp_path,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=log,
        )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}/open311/v2") as http:
            for _ in range(300):  # ready once it answers
                try:
                    answer = await http.get("/services.json")
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
            else:
                raise TimeoutError((tmp_path / "api.log").read_text()[-3000:])
        assert answer.status_code == 200
        assert "property" in {s["service_code"] for s in answer.json()}
        process.send_signal(signal.SIGTERM)
        # uvicorn shuts down cleanly, then re-raises the signal it caught
        assert await asyncio.wait_for(process.wait(), 15) in (0, -signal.SIGTERM)
        assert "Finished server process" in (tmp_path / "api.log").read_text()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
