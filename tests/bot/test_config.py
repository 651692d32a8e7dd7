import subprocess
import sys

import pytest

from bot.config import SettingsError, load_settings
from storage.db import head_revision


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env
    for name in ("TELEGRAM_TOKEN", "ADMINS", "TIMEZONE", "DEFAULT_LANGUAGE", "DATABASE_URL"):
        monkeypatch.delenv(f"YISHI_{name}", raising=False)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./yishi.db"
    assert settings.timezone == "Asia/Shanghai" and settings.default_language == "zh"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.admins == frozenset()


def test_values_from_environment_and_dotenv(monkeypatch, tmp_path) -> None:
    (tmp_path / ".env").write_text("YISHI_ADMINS=11, 22\nYISHI_DEFAULT_LANGUAGE=en-US\n")
    monkeypatch.setenv("YISHI_DATABASE_URL", "postgresql://u@h/db")
    settings = load_settings()
    assert settings.admins == {11, 22}
    assert settings.default_language == "en"
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMINS", "12,abc"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("DATABASE_URL", "mysql://x"),
        ("TELEGRAM_API_URL", "ftp://x"),
    ],
)
def test_a_bad_value_names_the_variable(monkeypatch, name: str, value: str) -> None:
    monkeypatch.setenv(f"YISHI_{name}", value)
    with pytest.raises(SettingsError, match=f"^YISHI_{name} "):
        load_settings()


@pytest.mark.parametrize("token", [None, "", "nocolon", "abc:def", "123456:", "123456:a b"])
def test_token_required_and_well_formed(monkeypatch, token) -> None:
    if token is not None:
        monkeypatch.setenv("YISHI_TELEGRAM_TOKEN", token)
    with pytest.raises(SettingsError, match="YISHI_TELEGRAM_TOKEN"):
        load_settings().require_token()


def test_cli_stops_with_one_line_and_exit_code_2(tmp_path) -> None:
    env = {"PATH": "", "YISHI_TIMEZONE": "Nowhere/Else", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "yishi: YISHI_TIMEZONE is not a known IANA time zone such as Asia/Shanghai"
    ]


def test_cli_migrate_then_seed_on_a_new_database(tmp_path) -> None:
    import os

    env = {**os.environ, "YISHI_DATABASE_URL": f"sqlite:///{tmp_path / 'new.db'}"}
    for command, said in (("migrate", "up to date"), ("seed", "categories are in place")):
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "--log-level", "WARNING", command],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        assert said in result.stdout
    import sqlite3

    with sqlite3.connect(tmp_path / "new.db") as db:
        assert db.execute("SELECT count(*) FROM categories").fetchone()[0] == 8
        version = db.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        assert version == head_revision()
