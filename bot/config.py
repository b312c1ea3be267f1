"""Settings read from the environment and an optional `.env` file.

Every variable is documented in `.env.example`. A missing or invalid value raises
`SettingsError` naming the variable, which the CLI turns into one line and exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MIN_CONFIDENCE = 0.3
DEFAULT_CATEGORIES = ("billing", "delivery", "product", "service", "website", "other")

CommaList = Annotated[tuple[str, ...], NoDecode]


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = SLACK_API_URL
    database_url: str = "sqlite:///servicedesk.db"
    port: int = Field(default=3000, ge=1, le=65535)
    web_concurrency: int = Field(default=2, ge=1, le=64)
    complaints_channel: str = ""
    manager_ids: CommaList = ()
    admin_ids: CommaList = ()
    tz: str = "UTC"
    complaint_categories: CommaList = DEFAULT_CATEGORIES
    # --- Knowledge base
    knowledge_dir: Path = Path("knowledge")
    # Articles whose `updated` date is older than this are listed to their owners.
    knowledge_review_days: int = Field(default=180, ge=1, le=3650)
    # Below this confidence (0..1) /kb says it has no answer instead of guessing.
    knowledge_min_confidence: float = Field(default=DEFAULT_MIN_CONFIDENCE, ge=0.0, le=1.0)

    @field_validator("manager_ids", "admin_ids", "complaint_categories", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("complaint_categories")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(c.lower().lstrip("#") for c in value))
        if not cleaned:
            raise ValueError("give at least one category, e.g. billing,delivery,other")
        if any(len(c) > 40 or " " in c for c in cleaned):
            raise ValueError("categories are single words of at most 40 characters")
        return cleaned

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/London") from None
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def is_manager(self, user_id: str) -> bool:
        return user_id in self.manager_ids or user_id in self.admin_ids

    def is_admin(self, user_id: str) -> bool:
        return user_id in self.admin_ids

    def require(self, *names: str) -> None:
        """Raise SettingsError for the first of `names` that is empty."""
        for name in names:
            if not getattr(self, name):
                raise SettingsError(
                    f"{name.upper()} is not set: add it to the environment or .env "
                    "(see .env.example)"
                )


def load_settings(env_file: str | Path | None = ".env", **overrides: object) -> Settings:
    """Read settings; raise SettingsError naming the first bad variable."""
    try:
        return Settings(_env_file=env_file, **overrides)
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper() if error["loc"] else "settings"
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name} is invalid: {message}") from None
