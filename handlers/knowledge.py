"""Slack listeners for the knowledge base: `/kb`, its buttons, and article suggestions.

The library (`services.knowledge`) is loaded once and shared; every command checks
the folder for changes at most once a second (a cheap listing of modification times).
Searching and recording the question happen before `ack()` (milliseconds); posting,
opening modals and telling owners about broken articles happen after it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.services import Services
from bot.errors import DuplicateRequest, NotAllowed, NotFound, UserFacingError
from bot.knowledge import usage
from bot.knowledge.articles import Article, Problem
from bot.knowledge.library import Snapshot
from bot.request_dedup import run_once
from handlers import knowledge_views as views
from handlers.ids import Action, Command
from handlers.messaging import guarded, tell
from handlers.text import escape, slack_error_text, truncate
from models.db import unit_of_work

logger = logging.getLogger(__name__)

MAX_PROBLEMS_PER_MESSAGE = 20


class KnowledgeListeners:
    def __init__(self, services: Services) -> None:
        self.services = services
        self._reported: Snapshot | None = None
        self._lock = threading.Lock()

    @property
    def library(self):
        return self.services.knowledge

    # ----- /kb ------------------------------------------------------------------------------
    def on_command(self, ack: Ack, command: dict, client: WebClient) -> None:
        user_id = command["user_id"]
        text = " ".join((command.get("text") or "").split())
        word = text.lower()
        permissions = self.services.permissions
        try:
            if word in ("", "help"):
                self.library.refresh_if_due()
                snapshot = self.library.snapshot
                ack(text="How to use the knowledge base",
                    blocks=views.help_blocks(snapshot.articles, len(snapshot.problems), is_admin=permissions.is_admin(user_id)))
            elif word == "gaps":
                self._require_admin(user_id, "see the knowledge gaps")
                self._gaps(ack)
            elif word == "reload":
                self._require_admin(user_id, "reload the knowledge base")
                self._reload(ack)
            elif word == "review":
                self._review(ack, user_id)
            else:
                self._answer(ack, text, user_id, command.get("channel_id", ""))
        except UserFacingError as exc:
            ack(text=f":warning: {exc}")
        self.report_problems(client)

    def _require_admin(self, user_id: str, what: str) -> None:
        if not self.services.permissions.is_admin(user_id):
            raise NotAllowed(f"Sorry, only admins can {what}.")

    def _answer(self, ack: Ack, question: str, user_id: str, channel_id: str) -> None:
        self.library.refresh_if_due()
        snapshot = self.library.snapshot
        outcome = snapshot.index.search(question, limit=3)
        with unit_of_work(self.services.open_session) as session:
            search_id = usage.record_search(
                session, outcome=outcome, asker_id=user_id, channel_id=channel_id, now=self.services.clock()
            ).id
        if not outcome.answered:
            ack(text=views.no_answer_text(question, outcome.reason))
            return
        hits = [(hit, snapshot.article(hit.key)) for hit in outcome.hits]
        ack(text=f"Best matches for “{escape(question[:200])}”",
            blocks=views.answer_blocks(question, [(h, a) for h, a in hits if a], search_id))

    def _gaps(self, ack: Ack) -> None:
        with self.services.open_session() as session:
            gaps = usage.knowledge_gaps(session, now=self.services.clock())
        ack(text="Knowledge gaps", blocks=views.gaps_blocks(gaps, article_titles(self.services)))

    def _reload(self, ack: Ack) -> None:
        # Every file is read again: an edit that kept a file's time and size is caught too.
        report = self.library.refresh(force=True)
        lines = [f"Reloaded the knowledge base: {len(self.library.articles)} articles "
                 f"({len(report.changed)} changed, {len(report.removed)} removed), {len(report.problems)} problem(s)."]
        lines += [f"• `{escape(str(problem))}`" for problem in report.problems[:10]]
        if len(report.problems) > 10:
            lines.append(f"…and {len(report.problems) - 10} more: run `servicedesk kb lint`.")
        ack(text=truncate("\n".join(lines), 3000))

    def _review(self, ack: Ack, user_id: str) -> None:
        self.library.refresh_if_due()
        everyone = self.services.permissions.is_admin(user_id)
        due = self.due_for_review()
        if not everyone:
            due = {user_id: due[user_id]} if user_id in due else {}
        ack(text="Articles due for review", blocks=views.review_blocks(
            due, max_age_days=self.services.settings.knowledge_review_days, everyone=everyone))

    def due_for_review(self) -> dict[str, list[Article]]:
        today = self.services.clock().astimezone(self.services.settings.zone).date()
        return usage.due_for_review(self.library.articles, today=today,
                                    max_age_days=self.services.settings.knowledge_review_days)

    # ----- buttons ------------------------------------------------------------------------------
    def on_show(self, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        try:
            article = self._article(action)
            client.views_open(trigger_id=body["trigger_id"], view=views.article_modal(article))
        except UserFacingError as exc:
            self._tell(client, respond, body, f":warning: {exc}")
        except SlackApiError as exc:
            self._tell(client, respond, body, f":warning: I couldn't open the article: {slack_error_text(exc)}.")

    def on_share(self, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        channel_id = _channel_of(body)
        try:
            article = self._article(action)
            client.chat_postMessage(
                channel=channel_id,
                text=f"<@{user_id}> shared “{escape(article.title)}” from the knowledge base",
                blocks=views.shared_blocks(article, user_id),
            )
        except UserFacingError as exc:
            self._tell(client, respond, body, f":warning: {exc}")
        except SlackApiError as exc:
            hint = " Invite me to the channel with `/invite @servicedesk`." if exc.response.get("error") == "not_in_channel" else ""
            self._tell(client, respond, body, f":warning: I couldn't share it here: {slack_error_text(exc)}.{hint}")

    def on_feedback(self, ack: Ack, body: dict, action: dict, client: WebClient, respond: Respond) -> None:
        ack()
        helpful = action["action_id"] == Action.KB_HELPFUL
        try:
            value = _value(action)
            search_id = int(value.get("s", 0))
            with unit_of_work(self.services.open_session) as session:
                usage.record_feedback(session, search_id=search_id, article_path=str(value["p"]),
                                      user_id=body["user"]["id"], helpful=helpful, now=self.services.clock())
        except UserFacingError as exc:
            self._tell(client, respond, body, f":warning: {exc}")
            return
        article = self.library.snapshot.article(str(value["p"]))
        title = escape(article.title) if article else "that article"
        reply = (f"Thanks! Noted that *{title}* helped." if helpful
                 else f"Thanks, noted that *{title}* did not help; the admins will see the question.")
        self._tell(client, respond, body, reply)

    def _article(self, action: dict) -> Article:
        path = str(_value(action).get("p", ""))
        article = self.library.snapshot.article(path)
        if article is None:
            raise NotFound("That article is no longer in the knowledge base.")
        return article

    @staticmethod
    def _tell(client: WebClient, respond: Respond, body: dict, text: str) -> None:
        """An ephemeral note to whoever pressed the button, beside the message they pressed."""
        tell(client, body["user"]["id"], _channel_of(body), text, respond=respond if body.get("response_url") else None)

    # ----- telling owners -------------------------------------------------------------------------
    def report_problems(self, client: WebClient) -> None:
        """DM each new problem once (across processes) to the article's owner, else the admins."""
        snapshot = self.library.snapshot
        with self._lock:
            if snapshot is self._reported:
                return
            self._reported = snapshot
        by_recipient: dict[str, list[Problem]] = {}
        for problem in snapshot.problems:
            recipients = [problem.owner] if problem.owner else list(self.services.settings.admin_ids)
            if not recipients or not self._first_report(problem):
                continue
            for recipient in recipients:
                by_recipient.setdefault(recipient, []).append(problem)
        for recipient, problems in by_recipient.items():
            text = "\n".join(views.problem_text(p) for p in problems[:MAX_PROBLEMS_PER_MESSAGE])
            if len(problems) > MAX_PROBLEMS_PER_MESSAGE:
                text += f"\n…and {len(problems) - MAX_PROBLEMS_PER_MESSAGE} more: run `servicedesk kb lint`."
            try:
                client.chat_postMessage(channel=recipient, text=truncate(text, 3900))
            except Exception as exc:  # noqa: BLE001
                logger.warning("could not tell %s about knowledge-base problems: %s", recipient, exc)

    def _first_report(self, problem: Problem) -> bool:
        digest = hashlib.sha256(f"{problem.path}\0{problem.line}\0{problem.message}".encode()).hexdigest()[:40]
        try:
            run_once(self.services.open_session, key=f"kb-problem:{digest}", now=self.services.clock(), work=lambda _: None)
        except DuplicateRequest:
            return False
        return True


def article_titles(services: Services) -> dict[str, str]:
    return {article.path: article.title for article in services.knowledge.articles}


def search_lines(services: Services, query: str, *, user_id: str) -> list[str]:
    """Mrkdwn lines answering `query` (the App Home's search); recorded like `/kb`, so
    unanswered questions show up as gaps."""
    services.knowledge.refresh_if_due()
    snapshot = services.knowledge.snapshot
    outcome = snapshot.index.search(query, limit=3)
    with unit_of_work(services.open_session) as session:
        usage.record_search(session, outcome=outcome, asker_id=user_id, channel_id="", now=services.clock())
    if not outcome.answered:
        return [views.no_answer_text(query, outcome.reason)]
    found = [(hit, snapshot.article(hit.key)) for hit in outcome.hits]
    return [views.result_line(hit, article) for hit, article in found if article]


def _value(action: dict) -> dict:
    try:
        value = json.loads(action.get("value") or "{}")
    except ValueError:
        value = None
    if not isinstance(value, dict) or not value.get("p"):
        raise NotFound("That button no longer works; ask `/kb` again.")
    return value


def _channel_of(body: dict) -> str:
    return (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id", "")


def register(app: App, services: Services) -> None:
    listeners = KnowledgeListeners(services)
    app.command(Command.KB.value)(guarded(listeners.on_command))
    app.action(Action.KB_SHOW.value)(guarded(listeners.on_show))
    app.action(Action.KB_SHARE.value)(guarded(listeners.on_share))
    app.action(re.compile(f"^({Action.KB_HELPFUL}|{Action.KB_NOT_HELPFUL})$"))(guarded(listeners.on_feedback))
