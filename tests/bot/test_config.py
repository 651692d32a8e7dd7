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
    for name in WECOM:
        monkeypatch.delenv(f"YISHI_WECOM_{name}", raising=False)
    monkeypatch.delenv("YISHI_WECOM_API_URL", raising=False)
    monkeypatch.delenv("YISHI_WECOM_ADMINS", raising=False)


# A complete WeCom configuration (WeCom's sample corp id, token and key).
WECOM = {
    "CORP_ID": "wx5823bf96d3bd56c7",
    "AGENT_ID": "1000002",
    "SECRET": "app-Secret_0123456789",
    "TOKEN": "QDG6eK",
    "AES_KEY": "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C",
    "OPEN_KFID": "wkOFFICE0001",
}


def _set_wecom(monkeypatch: pytest.MonkeyPatch, **changes: str | None) -> None:
    for name, value in {**WECOM, **changes}.items():
        if value is None:
            monkeypatch.delenv(f"YISHI_WECOM_{name}", raising=False)
        else:
            monkeypatch.setenv(f"YISHI_WECOM_{name}", value)


def test_defaults() -> None:
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./yishi.db"
    assert settings.timezone == "Asia/Shanghai" and settings.default_language == "zh"
    assert settings.telegram_api_url == "https://api.telegram.org/bot"
    assert settings.admins == frozenset()
    assert settings.wecom() is None  # WeCom is off without a corp id
    assert settings.wecom_api_url == "https://qyapi.weixin.qq.com"


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
        ("WECOM_API_URL", "qyapi.weixin.qq.com"),
        ("WECOM_CORP_ID", "ww corp"),
        ("WECOM_AGENT_ID", "app1"),
        ("WECOM_SECRET", "two words"),
        ("WECOM_TOKEN", "to"),
        ("WECOM_AES_KEY", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2"),  # 42 characters
        ("WECOM_AES_KEY", "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2+"),
        ("WECOM_OPEN_KFID", "wk/office"),
        ("WECOM_ADMINS", "zhangsan, li si"),
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


def test_wecom_settings_when_complete(monkeypatch) -> None:
    _set_wecom(monkeypatch, API_URL="http://127.0.0.1:9000/", ADMINS="zhangsan; LiSi")
    settings = load_settings()
    wecom = settings.wecom()
    assert wecom is not None
    assert (wecom.corp_id, wecom.agent_id, wecom.open_kfid) == (
        "wx5823bf96d3bd56c7",
        "1000002",
        "wkOFFICE0001",
    )
    assert (wecom.secret, wecom.token, wecom.aes_key) == (
        WECOM["SECRET"],
        WECOM["TOKEN"],
        WECOM["AES_KEY"],
    )
    assert wecom.api_url == "http://127.0.0.1:9000"
    assert wecom.admins == {"zhangsan", "LiSi"}
    assert WECOM["SECRET"] not in repr(wecom) and WECOM["AES_KEY"] not in repr(wecom)
    assert {WECOM["SECRET"], WECOM["TOKEN"], WECOM["AES_KEY"]} <= set(settings.secrets())


@pytest.mark.parametrize("missing", ["AGENT_ID", "SECRET", "TOKEN", "AES_KEY", "OPEN_KFID"])
def test_wecom_needs_every_setting_once_the_corp_id_is_set(monkeypatch, missing: str) -> None:
    _set_wecom(monkeypatch, **{missing: None})
    settings = load_settings()
    with pytest.raises(SettingsError, match=f"^YISHI_WECOM_{missing} is not set"):
        settings.wecom()


def test_wecom_settings_without_a_corp_id_are_ignored(monkeypatch) -> None:
    _set_wecom(monkeypatch, CORP_ID=None, SECRET=None)
    assert load_settings().wecom() is None


@pytest.mark.parametrize(
    ("setting", "line"),
    [
        (
            {"YISHI_TIMEZONE": "Nowhere/Else"},
            "yishi: YISHI_TIMEZONE is not a known IANA time zone such as Asia/Shanghai",
        ),
        (
            {"YISHI_WECOM_CORP_ID": "wwcorp0001"},
            "yishi: YISHI_WECOM_AGENT_ID is not set: WeCom needs it once YISHI_WECOM_CORP_ID is",
        ),
    ],
    ids=["timezone", "wecom"],
)
def test_cli_stops_with_one_line_and_exit_code_2(tmp_path, setting, line) -> None:
    env = {"PATH": "", "HOME": str(tmp_path), **setting}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [line]


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
