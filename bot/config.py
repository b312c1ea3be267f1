"""Settings read from the environment and an optional `.env` file.

Every variable is documented in `.env.example`. A missing or invalid value raises
`SettingsError` naming the variable, which the CLI turns into one line and exit code 2.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from models.db import check_url
from bot.quality_index import DEFAULT_SQI_WEIGHTS, DEFAULT_STALE_DAYS, IndexRules, parse_weights
from bot.sla import CLOCK_TIME, DEFAULT_SLA_TARGETS, Target, parse_quiet_hours, parse_targets

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_CATEGORIES = ("billing", "delivery", "product", "service", "website", "other")
DEFAULT_KUDOS_VALUES = ("ownership", "speed", "empathy", "extra-mile")

CommaList = Annotated[tuple[str, ...], NoDecode]
# Settings whose parser raises ValueError for a bad value; the value is kept as given.
CHECKED_BY_PARSING = {
    "sla_targets": parse_targets, "quiet_hours": parse_quiet_hours, "database_url": check_url, "sqi_weights": parse_weights,
}


class SettingsError(Exception):
    """A setting is missing or invalid; the message names the variable."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _hashtag_words(value: tuple[str, ...], *, what: str, example: str) -> tuple[str, ...]:
    """Lower-case, de-duplicated single words that people type as `#word`."""
    cleaned = tuple(dict.fromkeys(word.lower().lstrip("#") for word in value))
    if not cleaned:
        raise ValueError(f"give at least one of the {what}, e.g. {example}")
    if any(len(word) > 40 or " " in word for word in cleaned):
        raise ValueError(f"{what} are single words of at most 40 characters")
    return cleaned


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True
    )

    slack_bot_token: str = ""
    slack_signing_secret: str = ""
    slack_app_token: str = ""
    slack_api_url: str = SLACK_API_URL
    database_url: str = "sqlite:///servicedesk.db"
    # How long `run` and `db upgrade` wait for an unreachable database (containers
    # often start before theirs); 0 tries once.
    database_wait_seconds: float = Field(default=30, ge=0, le=3600)
    # The address HTTP mode listens on: every interface by default (a container or a
    # server behind a proxy); 127.0.0.1 keeps it to this machine.
    host: str = "0.0.0.0"
    port: int = Field(default=3000, ge=1, le=65535)
    web_concurrency: int = Field(default=2, ge=1, le=64)
    # Logs as plain text lines, or as one JSON object per line with the request's id.
    log_format: Literal["text", "json"] = "text"
    # When set, GET /metrics needs `Authorization: Bearer <this>`; open otherwise.
    metrics_token: str = ""
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
    # Re-rank answers by meaning with a small embedding model (needs the `semantic` extra;
    # without it the bot logs a warning and searches by words alone).
    knowledge_semantic: bool = False
    # The embedding model: a folder with model.onnx and tokenizer.json, or a Hugging Face Hub
    # name fetched and cached on first use; empty = the weights the semantic extra installs.
    knowledge_model: str = ""

    # --- Service levels, reminders and the weekly digest ----------------------------------
    # Where breaches are escalated and the digest is posted (empty: managers get DMs).
    manager_channel: str = ""
    # First-response/resolution targets per severity (see bot/sla.py for the format).
    sla_targets: str = DEFAULT_SLA_TARGETS
    # A target is "due soon", and its owner reminded, once this share of it has passed.
    sla_due_soon_percent: int = Field(default=75, ge=1, le=99)
    # Days after resolution to remind the owner to check back with the customer (0: never).
    follow_up_days: int = Field(default=3, ge=0, le=90)
    # Days a complaint may wait on the customer before its owner is reminded, once per wait (0: never).
    waiting_reminder_days: int = Field(default=3, ge=0, le=90)
    # Days after resolution when a complaint's customer name, contact and their mentions
    # in free text are redacted (0: kept; see bot/privacy.py).
    customer_data_retention_days: int = Field(default=0, ge=0, le=36500)
    # No reminders or escalations in this range (in TZ), except for urgent complaints.
    quiet_hours: str = "20:00-08:00"
    # Cron expression (in TZ) for the weekly digest, which covers the last full ISO week.
    digest_schedule: str = "0 9 * * 1"
    # Post the digest to MANAGER_CHANNEL, DM it to MANAGER_IDS, or both.
    digest_delivery: Literal["channel", "dm", "both"] = "both"
    # Run reminders and the digest from this process (every process may: sends are
    # claimed in the database, so each goes out once).
    scheduler_enabled: bool = True

    # --- The daily service-quality index (bot/quality_index.py) ----------------------------
    # Failure kinds and their weights; kinds left out keep their default, 0 leaves one out.
    sqi_weights: str = DEFAULT_SQI_WEIGHTS
    # Days without anything done on an open complaint after which it is a `stale` failure.
    stale_days: int = Field(default=DEFAULT_STALE_DAYS, ge=1, le=90)
    # When (in TZ) each working day's index is posted; empty: not posted.
    sqi_time: str = "09:00"
    # Where it is posted (empty: COMPLAINTS_CHANNEL).
    sqi_channel: str = ""

    # --- Kudos and morale ---------------------------------------------------------------
    # Where kudos are announced (empty: recipients are still told by direct message).
    kudos_channel: str = ""
    # Service values people can tag kudos with (`#empathy`).
    kudos_values: CommaList = DEFAULT_KUDOS_VALUES
    # Reacting with this emoji to someone's message gives them kudos.
    kudos_emoji: str = "star"
    # Kudos one person may give per day (in TZ); one per recipient.
    kudos_daily_limit: int = Field(default=5, ge=1, le=100)
    # Members of this channel count as staff in the morale report's coverage.
    staff_channel: str = ""

    @field_validator("manager_ids", "admin_ids", "complaint_categories", "kudos_values", mode="before")
    @classmethod
    def _lists(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("complaint_categories")
    @classmethod
    def _categories(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _hashtag_words(value, what="categories", example="billing,delivery,other")

    @field_validator("kudos_values")
    @classmethod
    def _kudos_values(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _hashtag_words(value, what="values", example="ownership,speed,empathy")

    @field_validator("kudos_emoji")
    @classmethod
    def _emoji(cls, value: str) -> str:
        name = value.strip().strip(":").lower()
        if not name or any(c.isspace() or c == ":" for c in name):
            raise ValueError("give one emoji name such as star or :tada:")
        return name

    @field_validator("tz")
    @classmethod
    def _tz(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}, e.g. Europe/London") from None
        return value

    @field_validator(*CHECKED_BY_PARSING)
    @classmethod
    def _parsable(cls, value: str, info: ValidationInfo) -> str:
        CHECKED_BY_PARSING[info.field_name](value)
        return value

    @field_validator("sqi_time")
    @classmethod
    def _sqi_time(cls, value: str) -> str:
        if value.strip() and not CLOCK_TIME.match(value.strip()):
            raise ValueError(f"{value!r} is not a time like 09:00 (empty: not posted)")
        return value.strip()

    @field_validator("digest_schedule")
    @classmethod
    def _digest_schedule(cls, value: str) -> str:
        from croniter import croniter

        if not croniter.is_valid(value) or len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a cron expression like '0 9 * * 1' (Monday 09:00)")
        return value

    @field_validator("host")
    @classmethod
    def _host(cls, value: str) -> str:
        value = value.strip().removeprefix("[").removesuffix("]")
        try:
            if ":" in value:  # only an IPv6 address has colons; "host:port" is a mistake
                ipaddress.IPv6Address(value)
            elif not re.fullmatch(r"[A-Za-z0-9.-]+", value):
                raise ValueError
        except ValueError:
            raise ValueError(
                f"{value!r} is not an address to listen on; give one without a port (PORT sets that), "
                "e.g. 0.0.0.0, 127.0.0.1 or ::"
            ) from None
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

    @property
    def targets(self) -> dict[str, Target]:
        return parse_targets(self.sla_targets)

    @property
    def due_soon(self) -> float:
        return self.sla_due_soon_percent / 100

    @property
    def quiet(self) -> tuple[time, time] | None:
        return parse_quiet_hours(self.quiet_hours)

    @property
    def sqi_rules(self) -> IndexRules:
        return IndexRules(parse_weights(self.sqi_weights), self.targets, self.stale_days)

    @property
    def sqi_post_time(self) -> time | None:
        return time.fromisoformat(f"{self.sqi_time:0>5}") if self.sqi_time else None

    @property
    def sqi_post_channel(self) -> str:
        return self.sqi_channel or self.complaints_channel

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
