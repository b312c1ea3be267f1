"""What every handler is given: settings, a unit-of-work factory, the clock, the knowledge
base, the publisher threads and the scheduled jobs; and how they are built.

This module imports no handler, so every floor may use it.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from sqlalchemy.engine import Engine

from bot.channel_pace import ChannelPacer, RetryAfterHold
from bot.clock import Clock, system_clock
from bot.complaint_writer import ComplaintWriter
from bot.config import Settings
from bot.scheduler import Job
from bot.undelivered_retry import UndeliveredRetry
from bot.web_api_client import PooledWebClient
from bot.web_api_meter import WebApiMeter
from bot.knowledge.library import KnowledgeLibrary
from bot.knowledge.documents import SearchWeights
from bot.knowledge.semantic import ModelChoice, encoder_if_available
from bot.people import PeopleDirectory
from bot.permissions import Permissions
from models.db import SessionFactory, make_engine, make_report_engine, session_factory

logger = logging.getLogger("servicedesk")
# Slack takes about one message per second per channel (FACTS.md, rate limits), so a
# few threads are enough to post and update the team's messages; under a burst they
# also keep that work from taking CPU away from acknowledging new requests in time.
PUBLISHER_THREADS = 4
# How long a question waits for the knowledge base to pick up edits before it is
# answered from the articles as they were (the reload then finishes on its own).
KNOWLEDGE_REFRESH_WAIT = 0.5


@dataclass(frozen=True)
class Services:
    """What every handler needs: settings, a unit-of-work factory, the clock, and the
    knowledge base (loaded once, shared by every listener, kept current as files change).

    `scheduled_jobs` is filled by the handler modules that do timed work (reminders,
    the digest); `servicedesk run` ticks them (bot/scheduler.py). `publisher` runs
    the Web API work that follows an acknowledgement (see `after_ack`).
    """

    settings: Settings
    open_session: SessionFactory
    clock: Clock
    knowledge: KnowledgeLibrary
    publisher: Executor
    # This process's share of Slack's pace for posting in a channel.
    pacer: ChannelPacer
    # Saves new complaints, many per commit (bot/complaint_writer.py).
    complaint_writer: ComplaintWriter
    # For the few statements of every complaint's path written in Core, in a transaction
    # of their own without an ORM session (which costs more than the statement).
    engine: Engine
    # Long reads (the digest, the daily index, the morale report) on connections of their
    # own: a digest over a million complaints holding SQLite's one pooled connection kept
    # acknowledgements in the same process waiting 1.6–3.3 s (docs/benchmarks.md, issue 17).
    open_report_session: SessionFactory
    report_engine: Engine
    scheduled_jobs: list[Job] = field(default_factory=list)
    # Who people are; set by the app factory (one directory, one cache, per app).
    people: PeopleDirectory | None = None

    def after_ack(self, work: Callable[[], None]) -> None:
        """Run `work` on the publisher threads, so the listener's thread is free at once.

        It runs in a copy of the caller's context, so its log lines carry the id of the
        request it belongs to (bot/app/logs.py).
        """
        self.publisher.submit(contextvars.copy_context().run, _logging_failures, work)

    @property
    def permissions(self) -> Permissions:
        return Permissions(frozenset(self.settings.manager_ids), frozenset(self.settings.admin_ids))


def _logging_failures(work: Callable[[], None]) -> None:
    # Nobody waits on the result, so an exception would otherwise vanish.
    try:
        work()
    except Exception:  # noqa: BLE001
        logger.exception("work after the acknowledgement failed")


# Seconds a Web API call may take before it counts as unanswered.
WEB_API_TIMEOUT = 10


def make_pacer(settings: Settings) -> ChannelPacer:
    return ChannelPacer(settings.slack_channel_posts_per_second / settings.web_concurrency)


def make_client(settings: Settings, pacer: ChannelPacer | None = None) -> WebClient:
    """A client over keep-alive connections (bot/web_api_client.py); with `pacer`, a 429
    from chat.postMessage holds back this process's other posts too."""
    return PooledWebClient(
        token=settings.slack_bot_token or None,
        base_url=settings.slack_api_url,
        timeout=WEB_API_TIMEOUT,
        # Count every attempt (first: it sees each one), then honour 429 Retry-After a
        # couple of times before reporting the failure; a call is sent again after a
        # connection error only if it surely never reached Slack (bot/undelivered_retry.py).
        retry_handlers=[WebApiMeter(), *([RetryAfterHold(pacer)] if pacer else []),
                        RateLimitErrorRetryHandler(max_retry_count=2), UndeliveredRetry()],
    )


def model_choice(settings: Settings) -> ModelChoice:
    return ModelChoice(settings.knowledge_model, settings.knowledge_model_cache, settings.knowledge_model_quantise)


def make_library(settings: Settings, clock: Clock) -> KnowledgeLibrary:
    library = KnowledgeLibrary(
        settings.knowledge_dir,
        weights=replace(SearchWeights(), min_confidence=settings.knowledge_min_confidence),
        # The services clock, so tests move time instead of sleeping past the throttle.
        monotonic=lambda: clock().timestamp(),
        encoder=encoder_if_available(model_choice(settings)) if settings.knowledge_semantic else None,
        refresh_wait=KNOWLEDGE_REFRESH_WAIT,
    )
    report = library.refresh()
    logger.info("knowledge base: %d articles, %d problems", len(library.articles), len(report.problems))
    return library


def build_services(
    settings: Settings, *, engine: Engine | None = None, clock: Clock = system_clock, publisher: Executor | None = None
) -> Services:
    """`publisher` defaults to a small thread pool; tests pass one they can wait on."""
    engine = engine or make_engine(settings.database_url)
    open_session = session_factory(engine)
    report_engine = make_report_engine(engine)
    return Services(
        settings=settings,
        open_session=open_session,
        clock=clock,
        knowledge=make_library(settings, clock),
        publisher=publisher or ThreadPoolExecutor(max_workers=PUBLISHER_THREADS, thread_name_prefix="publisher"),
        pacer=make_pacer(settings),
        complaint_writer=ComplaintWriter(engine, open_session),
        engine=engine,
        open_report_session=session_factory(report_engine),
        report_engine=report_engine,
    )
