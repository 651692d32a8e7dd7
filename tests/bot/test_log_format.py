"""`configure_logging`: today's text lines, or JSON lines a log collector can parse."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.log_format import configure_logging

ROOT = Path(__file__).resolve().parents[2]
TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Each test leaves the root logger and the quietened loggers as it found them."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "alembic.runtime.plugins")}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name, old in quiet.items():
        logging.getLogger(name).setLevel(old)


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_json_lines_carry_time_level_logger_and_message(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    before = datetime.now(UTC) - timedelta(seconds=1)
    logging.getLogger("bot.sender").info("sent %d of %d", 3, 5)
    logging.getLogger("bot.sender").debug("not at INFO")
    [line] = _json_lines(capsys.readouterr().err)
    assert set(line) == {"ts", "level", "logger", "message"}
    assert (line["level"], line["logger"], line["message"]) == ("INFO", "bot.sender", "sent 3 of 5")
    assert isinstance(line["ts"], str) and TS.fullmatch(line["ts"]), line["ts"]
    when = datetime.fromisoformat(line["ts"].replace("Z", "+00:00"))
    assert before <= when <= datetime.now(UTC) + timedelta(seconds=1)


def test_json_keeps_chinese_readable_and_each_record_on_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    logging.getLogger("handlers.cases.report").warning("居民 %s 的报告\n第二行", "张三")
    err = capsys.readouterr().err
    assert "居民 张三 的报告" in err  # not \u5c45...
    assert err.count("\n") == 1
    [line] = _json_lines(err)
    assert line["message"] == "居民 张三 的报告\n第二行"


def test_json_includes_the_traceback_as_one_string(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    try:
        {}["missing"]  # noqa: B018
    except KeyError:
        logging.getLogger("bot.telegram.app").exception("update %d failed", 42)
    [line] = _json_lines(capsys.readouterr().err)
    assert line["level"] == "ERROR" and line["message"] == "update 42 failed"
    assert isinstance(line["exc"], str)
    assert line["exc"].startswith("Traceback (most recent call last):")
    assert "KeyError: 'missing'" in line["exc"]


def test_json_adds_extra_fields_and_repr_for_what_json_cannot_carry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    class Update:
        def __repr__(self) -> str:
            return "<Update 7>"

    configure_logging("INFO", "json")
    logging.getLogger("bot.telegram.webhook").info(
        "update",
        extra={"update_id": 7, "chat": {"id": -100, "title": "三号楼"}, "raw": Update()},
    )
    logging.getLogger("bot.telegram.webhook").info("clash", extra={"level": "mine"})
    first, second = _json_lines(capsys.readouterr().err)
    assert first["update_id"] == 7
    assert first["chat"] == {"id": -100, "title": "三号楼"}
    assert first["raw"] == "<Update 7>"
    assert second["level"] == "INFO" and second["extra_level"] == "mine"


def test_text_format_is_the_one_yishi_always_wrote(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("info", "text")
    logging.getLogger("bot.telegram.runner").info("polling as %s", "@yishi_bot")
    err = capsys.readouterr().err
    pattern = (
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO bot\.telegram\.runner: polling as @yishi_bot\n"
    )
    assert re.fullmatch(pattern, err), err


def test_calling_it_twice_replaces_the_handler(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    count = len(root.handlers)
    configure_logging("INFO", "text")
    configure_logging("WARNING", "json")
    assert len(root.handlers) == count + 1
    logging.getLogger("x").info("dropped at WARNING")
    logging.getLogger("x").warning("once")
    [line] = _json_lines(capsys.readouterr().err)  # one line, and JSON: the text one is gone
    assert line["message"] == "once"


def test_noisy_loggers_stay_quiet_at_info(capsys: pytest.CaptureFixture[str]) -> None:
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    configure_logging("INFO", "json")
    logging.getLogger("httpx").info("HTTP Request: POST .../getUpdates")
    logging.getLogger("alembic.runtime.plugins").info("setup plugin")
    logging.getLogger("httpx").warning("still shown")
    assert [line["message"] for line in _json_lines(capsys.readouterr().err)] == ["still shown"]


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="log format"):
        configure_logging("INFO", "xml")
    with pytest.raises(ValueError):
        configure_logging("LOUD", "text")


@pytest.mark.slow
def test_a_fresh_process_writes_json_lines_from_the_setting(tmp_path: Path) -> None:
    """As `yishi` will start: settings from the environment decide the format."""
    script = (
        "import logging\n"
        "from bot.config import load_settings\n"
        "from bot.log_format import configure_logging\n"
        "configure_logging('INFO', load_settings().log_format)\n"
        "logging.getLogger('bot.cli').info('迁移完成 %s', 'head', extra={'revision': '0007'})\n"
        "logging.getLogger('httpx').info('quiet')\n"
        "print('stdout stays clean')\n"
    )
    env = {
        **os.environ,
        "YISHI_LOG_FORMAT": "json",
        "YISHI_DATABASE_URL": f"sqlite:///{tmp_path / 'yishi.db'}",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,  # no stray .env
        env=env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.decode() == "stdout stays clean\n"
    [line] = _json_lines(done.stderr.decode("utf-8"))
    assert line["message"] == "迁移完成 head" and line["revision"] == "0007"
    assert line["logger"] == "bot.cli" and line["level"] == "INFO"
