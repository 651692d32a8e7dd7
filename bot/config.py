"""Settings: one object, read from YISHI_* variables and .env, passed down explicitly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

if TYPE_CHECKING:
    from storage.deliberation.meeting_calendar import MeetingPlan

LANGUAGES = ("zh", "en")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram accepts as secret_token
# @BotFather's tokens: the bot's id, a colon, and a secret (35 characters today) of this alphabet.
BOT_TOKEN = re.compile(r"(\d+):([A-Za-z0-9_-]+)")
# WeCom's own rules for what it hands out or accepts (developer.work.weixin.qq.com): the
# callback Token is "英文或数字，长度为3-32字符"; the EncodingAESKey "长度固定为43个字符，从a-z,
# A-Z, 0-9共62个字符中选取"; a member's userid is 1-64 bytes of letters, digits and "_-@.",
# starting with a letter or digit.
WECOM_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_@.-]{0,63}")
WECOM_AGENT_ID = re.compile(r"\d{1,10}")
WECOM_TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")
WECOM_AES_KEY = re.compile(r"[A-Za-z0-9]{43}")
WECOM_SECRET = re.compile(r"[!-~]{1,128}")  # printable ASCII, no spaces


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="YISHI_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    telegram_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    database_url: str = "sqlite+aiosqlite:///./yishi.db"
    admins: Annotated[frozenset[int], NoDecode] = Field(default_factory=frozenset)
    timezone: str = "Asia/Shanghai"
    default_language: str = "zh"
    concurrent_updates: int = Field(default=32, ge=1, le=1024)
    # Telegram's flood limits, kept for every message the bot sends (bot/telegram/flood.py). Raise
    # them
    # only for a Bot API that allows more (an emulator, paid broadcasts).
    send_per_second: float = Field(default=30, gt=0)
    send_per_chat_per_second: float = Field(default=1, gt=0)
    send_per_group_per_minute: float = Field(default=20, gt=0)
    # What one person may send before the bot stops handling it for a while
    # (handlers/person_limit.py).
    person_limit_messages: int = Field(default=10, ge=1)
    person_limit_seconds: float = Field(default=10.0, gt=0, le=3600)
    bot_username: str | None = None  # for links printed outside the bot (yishi invite)
    # Webhook mode: Telegram sends this in X-Telegram-Bot-Api-Secret-Token with every update.
    webhook_secret: SecretStr | None = None
    log_format: Literal["text", "json"] = "text"
    # How long after start-up the scheduler makes up posts missed while the bot was down.
    catch_up_after: float = Field(default=120.0, ge=0, le=86400)
    # The monthly deliberation meeting (storage/deliberation/meeting_calendar.py): its day
    # ("last-sat", "2-wed", or a day of the month "15"), local time, and the days between it and
    # each step.
    meeting_day: str = "last-sat"
    meeting_time: str = "19:30"
    meeting_steps: str = "topics=-10,draft=-3,agenda=-2,reminder=-1,meeting=0,minutes=1"
    # WeCom (企业微信, bot/wecom/): configured when the corp id is set; then every setting below
    # but the URL is required (`wecom()`). The URL points tests and the sandbox at an emulator.
    wecom_corp_id: str | None = None
    wecom_agent_id: str | None = None
    wecom_secret: SecretStr | None = None
    wecom_token: SecretStr | None = None  # the callback's Token (signatures)
    wecom_aes_key: SecretStr | None = None  # the callback's EncodingAESKey
    wecom_open_kfid: str | None = None  # the customer-service account residents write to
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_admins: Annotated[frozenset[str], NoDecode] = Field(default_factory=frozenset)

    @field_validator("admins", mode="before")
    @classmethod
    def _parse_admins(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            try:
                return frozenset(int(p) for p in parts)
            except ValueError:
                raise ValueError("must be comma-separated Telegram user ids") from None
        return value

    @field_validator("wecom_admins", mode="before")
    @classmethod
    def _parse_wecom_admins(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            if not all(WECOM_ID.fullmatch(p) for p in parts):
                raise ValueError("must be comma-separated WeCom user ids")
            return frozenset(parts)
        return value

    @field_validator("wecom_corp_id", "wecom_open_kfid")
    @classmethod
    def _check_wecom_id(cls, value: str | None) -> str | None:
        if value is not None and not WECOM_ID.fullmatch(value.strip()):
            raise ValueError("must be letters and digits, as WeCom shows it")
        return value.strip() if value is not None else None

    @field_validator("wecom_agent_id")
    @classmethod
    def _check_wecom_agent_id(cls, value: str | None) -> str | None:
        if value is not None and not WECOM_AGENT_ID.fullmatch(value.strip()):
            raise ValueError("must be the app's AgentId, a number such as 1000002")
        return value.strip() if value is not None else None

    @field_validator("wecom_secret", "wecom_token", "wecom_aes_key")
    @classmethod
    def _check_wecom_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        text = value.get_secret_value().strip()
        rule, what = {
            "wecom_secret": (WECOM_SECRET, "must be the app's Secret (no spaces)"),
            "wecom_token": (WECOM_TOKEN, "must be 3-32 letters and digits"),
            "wecom_aes_key": (WECOM_AES_KEY, "must be 43 letters and digits"),
        }[str(info.field_name)]
        if not rule.fullmatch(text):
            raise ValueError(what)
        return SecretStr(text)

    @field_validator("telegram_api_url", "wecom_api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        return normalise_database_url(value)

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("is not a known IANA time zone such as Asia/Shanghai") from None
        return value

    @field_validator("default_language")
    @classmethod
    def _check_language(cls, value: str) -> str:
        value = value.strip().lower().split("-")[0].split("_")[0]
        if value not in LANGUAGES:
            raise ValueError(f"must be one of {', '.join(LANGUAGES)}")
        return value

    @field_validator("meeting_day", "meeting_time", "meeting_steps")
    @classmethod
    def _check_meeting(cls, value: str, info: ValidationInfo) -> str:
        from storage.deliberation.meeting_calendar import (
            parse_plan_setting,
        )  # no cycle: no bot imports

        return parse_plan_setting(str(info.field_name), value)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def meeting_plan(self) -> MeetingPlan:
        from storage.deliberation.meeting_calendar import MeetingPlan

        return MeetingPlan.parse(self.meeting_day, self.meeting_time, self.meeting_steps, self.tz)

    def require_webhook_secret(self) -> str:
        """The webhook's secret token, or a SettingsError: webhook mode never runs without one."""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        if not secret:
            raise SettingsError(
                "YISHI_WEBHOOK_SECRET is not set: webhook mode refuses to start without it"
            )
        if not WEBHOOK_SECRET.fullmatch(secret):
            raise SettingsError(
                "YISHI_WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and -"
            )
        return secret

    def secrets(self) -> list[str]:
        """What must never reach a log: the token's secret part, the webhook secret and the
        WeCom secret, token and key."""
        token = self.telegram_token.get_secret_value() if self.telegram_token else ""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        wecom = [
            value.get_secret_value()
            for value in (self.wecom_secret, self.wecom_token, self.wecom_aes_key)
            if value is not None
        ]
        return [part for part in (token.partition(":")[2].strip(), secret, *wecom) if part]

    def wecom(self) -> WeComSettings | None:
        """The WeCom channel's settings, None when YISHI_WECOM_CORP_ID is not set, or a
        SettingsError naming the first other WeCom setting that is missing."""
        if not self.wecom_corp_id:
            return None

        def required(name: str, value: str | SecretStr | None) -> str:
            text = value.get_secret_value() if isinstance(value, SecretStr) else value
            if not text:
                raise SettingsError(
                    f"YISHI_{name.upper()} is not set: WeCom needs it once YISHI_WECOM_CORP_ID is"
                )
            return text

        return WeComSettings(
            corp_id=self.wecom_corp_id,
            agent_id=required("wecom_agent_id", self.wecom_agent_id),
            secret=required("wecom_secret", self.wecom_secret),
            token=required("wecom_token", self.wecom_token),
            aes_key=required("wecom_aes_key", self.wecom_aes_key),
            open_kfid=required("wecom_open_kfid", self.wecom_open_kfid),
            api_url=self.wecom_api_url,
            admins=self.wecom_admins,
        )

    def require_token(self) -> str:
        """The bot token, or a SettingsError naming the variable."""
        if self.telegram_token is None or not self.telegram_token.get_secret_value().strip():
            raise SettingsError("YISHI_TELEGRAM_TOKEN is not set: the bot cannot start without it")
        token = self.telegram_token.get_secret_value().strip()
        if not BOT_TOKEN.fullmatch(token):
            raise SettingsError(
                "YISHI_TELEGRAM_TOKEN is malformed: expected <digits>:<secret> "
                "(the secret is letters, digits, _ and -)"
            )
        return token


@dataclass(frozen=True)
class WeComSettings:
    """What the WeCom channel needs, all present (`Settings.wecom()`)."""

    corp_id: str
    agent_id: str
    secret: str = field(repr=False)
    token: str = field(repr=False)
    aes_key: str = field(repr=False)
    open_kfid: str
    api_url: str
    admins: frozenset[str]


def mask_token(token: str) -> str:
    """The token as it may be shown: the bot's id, never the secret (`123456:…`)."""
    return token.partition(":")[0] + ":…"


def normalise_database_url(url: str) -> str:
    """Accept plain sqlite:// and postgresql:// URLs and pick the asyncio drivers."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    raise ValueError("must be a sqlite:// or postgresql:// URL")


def load_settings(**overrides: object) -> Settings:
    """Build Settings, turning validation errors into one line that names the variable."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"YISHI_{field.upper()} {message}") from None
