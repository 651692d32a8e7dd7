"""Settings: one object, read from YISHI_* variables and .env, passed down explicitly."""

from __future__ import annotations

import re
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

    @field_validator("telegram_api_url")
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
        """What must never reach a log: the token's secret part and the webhook secret."""
        token = self.telegram_token.get_secret_value() if self.telegram_token else ""
        secret = self.webhook_secret.get_secret_value() if self.webhook_secret else ""
        return [part for part in (token.partition(":")[2].strip(), secret) if part]

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
