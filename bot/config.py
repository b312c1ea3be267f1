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
from bot.mentions import SLACK_USER_ID
from bot.quality_index import DEFAULT_SQI_WEIGHTS, DEFAULT_STALE_DAYS, IndexRules, parse_weights
from bot.sla import CLOCK_TIME, DEFAULT_SLA_TARGETS, Target, parse_quiet_hours, parse_targets

SLACK_API_URL = "https://slack.com/api/"
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_CATEGORIES = ("billing", "delivery", "product", "service", "website", "other")
DEFAULT_KUDOS_VALUES = ("ownership", "speed", "empathy", "extra-mile")
DEFAULT_SURVEY_VALUES = ("speed", "care", "knowledge", "fairness", "keeping promises")
MIN_SECRET_LENGTH = 32
MIN_API_TOKEN_LENGTH = 24
# Secrets copied from documentation, which anyone could sign links with.
KNOWN_SECRETS = {"change-me", "changeme", "secret", "replace-with-a-long-random-secret"}

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


def _user_ids(value: tuple[str, ...]) -> tuple[str, ...]:
    """People given by their Slack ids: a name or a mention could never be DMed or shown."""
    wrong = [given for given in value if not SLACK_USER_ID.match(given)]
    if wrong:
        raise ValueError(f"{wrong[0][:40]!r} is not a Slack user id: give the member ID from the person's "
                         "Slack profile (⋮ → Copy member ID), e.g. U0123ABCD")
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
    # chat.postMessage into one channel, for the whole server (shared out between the
    # WEB_CONCURRENCY workers): Slack allows about one a second (bot/channel_pace.py).
    slack_channel_posts_per_second: float = Field(default=1.0, gt=0, le=1000)
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
    # Where the default model's quantised copy is kept (made on first use, a few seconds);
    # empty = $XDG_CACHE_HOME/servicedesk, or ~/.cache/servicedesk.
    knowledge_model_cache: str = ""
    # Also quantise the model KNOWLEDGE_MODEL names (the default model took half the CPU
    # per question; measure another model's ranking first).
    knowledge_model_quantise: bool = False

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

    # --- The customers' side: survey pages and the intake API ----------------------------
    # How customers reach the bot, e.g. https://desk.example.com; empty turns the web side off.
    public_url: str = ""
    # Signs survey and unsubscribe links; required with PUBLIC_URL.
    secret_key: str = Field(default="", validate_default=True)
    company_name: str = Field(default="Customer service", min_length=1, max_length=100)
    # Days a survey link works.
    survey_days: int = Field(default=14, ge=1, le=365)
    # What the customers rate from 1 to 5, besides the 0-10 question.
    survey_values: CommaList = DEFAULT_SURVEY_VALUES
    # smtp://user:password@host:587 (STARTTLS); empty: survey links are not e-mailed.
    smtp_url: str = Field(default="", validate_default=True)
    # The From address of survey e-mails (default: servicedesk@ the host of PUBLIC_URL).
    smtp_from: str = ""
    # A CA certificate file to trust for the SMTP server (a private CA); empty: the system's.
    smtp_ca_file: str = ""
    # Hours a detractor may wait for a call-back before the managers are reminded.
    callback_hours: int = Field(default=48, ge=1, le=720)
    # Bearer tokens for POST /api/v1/complaints; empty: the intake API refuses every call.
    api_tokens: CommaList = ()
    # Who owns complaints from the API: one person, or round-robin over several.
    intake_owner: str = ""
    intake_owners: CommaList = Field(default=(), validate_default=True)
    # Requests per minute: to the survey pages from one address, and to the API per token.
    web_rate_limit: int = Field(default=30, ge=1, le=10_000)
    api_rate_limit: int = Field(default=60, ge=1, le=100_000)
    # Reverse proxies in front of the bot that append the client to X-Forwarded-For (0: none,
    # and the header is ignored: anyone can send it).
    trusted_proxies: int = Field(default=0, ge=0, le=10)

    @field_validator("manager_ids", "admin_ids", "complaint_categories", "kudos_values", "survey_values",
                     "api_tokens", "intake_owners", mode="before")
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

    @field_validator("survey_values")
    @classmethod
    def _survey_values(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(dict.fromkeys(" ".join(label.split()).lower() for label in value))
        if not cleaned or len(cleaned) > 10 or any(len(label) > 40 for label in cleaned):
            raise ValueError("give one to ten values of at most 40 characters, e.g. speed,care,keeping promises")
        return cleaned

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and (not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:\d+)?(/[^\s?#]*)?", value)):
            raise ValueError("must be the http(s) address customers reach the bot at, e.g. https://desk.example.com")
        return value.rstrip("/")

    @field_validator("secret_key")
    @classmethod
    def _secret_key(cls, value: str, info: ValidationInfo) -> str:
        if not info.data.get("public_url"):
            return value
        if len(value) < MIN_SECRET_LENGTH or value.lower() in KNOWN_SECRETS or len(set(value)) < 8:
            raise ValueError(
                f"PUBLIC_URL is set, so links are signed with SECRET_KEY: give a random one of at least "
                f"{MIN_SECRET_LENGTH} characters, e.g. from `python3 -c 'import secrets; print(secrets.token_urlsafe(32))'`"
            )
        return value

    @field_validator("smtp_url")
    @classmethod
    def _smtp_url(cls, value: str, info: ValidationInfo) -> str:
        if not value:
            return value
        if not re.fullmatch(r"smtp://([^@/\s]+@)?[A-Za-z0-9.-]+(:\d{1,5})?/?", value):
            raise ValueError("must look like smtp://user:password@mail.example.com:587 (sent with STARTTLS)")
        if not info.data.get("public_url"):
            raise ValueError("survey e-mails carry links: set PUBLIC_URL too")
        return value

    @field_validator("api_tokens")
    @classmethod
    def _api_tokens(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if value and not info.data.get("public_url"):
            raise ValueError("the intake API is served by the web side: set PUBLIC_URL too")
        if any(len(token) < MIN_API_TOKEN_LENGTH for token in value):
            raise ValueError(f"each token needs at least {MIN_API_TOKEN_LENGTH} random characters")
        return value

    @field_validator("intake_owner")
    @classmethod
    def _intake_owner(cls, value: str) -> str:
        value = value.strip()
        _user_ids((value,) if value else ())
        return value

    @field_validator("intake_owners")
    @classmethod
    def _intake_owners(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        if info.data.get("api_tokens") and not (value or info.data.get("intake_owner")):
            raise ValueError("API_TOKENS is set: say who owns complaints from the API (INTAKE_OWNER or INTAKE_OWNERS)")
        return _user_ids(value)

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
    def web_enabled(self) -> bool:
        """The survey pages and the intake API are served (PUBLIC_URL is set)."""
        return bool(self.public_url)

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
