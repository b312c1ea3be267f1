"""Kudos: give them, take back a reaction's, and what one person gave and received.

Plain Python over the database; no Slack payloads here. Every rule raises a
UserFacingError with the sentence to show. A retried or duplicated request raises
DuplicateRequest: the unique (dedup_key, recipient) constraint makes it count once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.complaints import get_complaint
from bot.config import Settings
from bot.errors import DuplicateRequest, NotFound, UserFacingError
from models.db import SessionFactory, unit_of_work
from models.kudos import KudosGiverDay, KudosSource, Recognition

MIN_REASON_WORDS = 3
MAX_REASON = 1_000
MAX_RECIPIENTS = 10
STATS_DAYS = 30
RESOLUTION_IN_REASON = 300


class KudosRefused(UserFacingError):
    """A kudos rule said no; `about` names what to change: recipients, value, reason or complaint."""

    def __init__(self, message: str, *, about: str) -> None:
        super().__init__(message)
        self.about = about


@dataclass(frozen=True)
class KudosRules:
    values: tuple[str, ...]
    daily_limit: int
    zone: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> KudosRules:
        return cls(values=settings.kudos_values, daily_limit=settings.kudos_daily_limit, zone=settings.zone)

    def day_of(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()


@dataclass(frozen=True)
class KudosDraft:
    """What a giver asked for, however they asked (the reason already plain text)."""

    recipients: tuple[str, ...]
    reason: str
    value: str = ""
    complaint_id: int | None = None


@dataclass(frozen=True)
class Gift:
    """Kudos given by one request: one recognition per recipient."""

    recognition_ids: tuple[int, ...]
    giver_id: str
    recipients: tuple[str, ...]
    reason: str
    value: str
    complaint_id: int | None
    source: str
    message_channel: str = ""
    message_ts: str = ""

    @property
    def complaint_reference(self) -> str:
        return f"C-{self.complaint_id}" if self.complaint_id else ""


@dataclass(frozen=True)
class KudosStats:
    """What one person gave and received since `since`, by value ("" = no value)."""

    since: date
    given: tuple[tuple[str, int], ...]
    received: tuple[tuple[str, int], ...]

    @property
    def given_total(self) -> int:
        return sum(count for _, count in self.given)

    @property
    def received_total(self) -> int:
        return sum(count for _, count in self.received)


def reaction_key(channel: str, message_ts: str, giver_id: str) -> str:
    """One key per giver and message: reacting again, or a redelivered event, counts once."""
    return f"reaction:{channel}:{message_ts}:{giver_id}"


def check_draft(draft: KudosDraft, *, giver_id: str, rules: KudosRules, ineligible_ids: Collection[str] = ()) -> KudosDraft:
    """Apply the rules that need no database; return the draft with a tidy reason."""
    recipients = tuple(dict.fromkeys(draft.recipients))
    if not recipients:
        raise KudosRefused("Who deserves it? Mention them, e.g. `/kudos @sam #speed sorted the refund in minutes`.", about="recipients")
    if giver_id in recipients:
        raise KudosRefused("You can't give kudos to yourself. Who helped you lately? Recognise them instead.", about="recipients")
    if len(recipients) > MAX_RECIPIENTS:
        raise KudosRefused(f"Recognise at most {MAX_RECIPIENTS} people at once.", about="recipients")
    for recipient in recipients:
        if recipient in ineligible_ids:
            raise KudosRefused(
                f"<@{recipient}> can't receive kudos (a bot or a deactivated account); kudos are for people.",
                about="recipients",
            )
    if draft.value and draft.value not in rules.values:
        raise KudosRefused(f"“{draft.value[:40]}” is not one of our values: " + ", ".join(rules.values) + ".", about="value")
    reason = " ".join(draft.reason.split())
    if len(reason.split()) < MIN_REASON_WORDS:
        raise KudosRefused(
            f"Say what they did, in a few words (at least {MIN_REASON_WORDS}), e.g. "
            "`/kudos @sam #empathy calmed a furious customer and fixed the refund`.",
            about="reason",
        )
    if len(reason) > MAX_REASON:
        raise KudosRefused(f"The reason is {len(reason):,} characters long; keep it under {MAX_REASON:,}.", about="reason")
    return KudosDraft(recipients, reason, draft.value, draft.complaint_id)


def give(
    open_session: SessionFactory,
    *,
    giver_id: str,
    draft: KudosDraft,
    source: KudosSource,
    dedup_key: str,
    rules: KudosRules,
    now: datetime,
    ineligible_ids: Collection[str] = (),
    message_channel: str = "",
    message_ts: str = "",
) -> Gift:
    """Record kudos from `giver_id` to each recipient, in one transaction."""
    draft = check_draft(draft, giver_id=giver_id, rules=rules, ineligible_ids=ineligible_ids)
    today = rules.day_of(now)
    try:
        with unit_of_work(open_session) as session:
            if draft.complaint_id is not None:
                _check_complaint(session, draft.complaint_id)
            _check_daily_limit(session, giver_id=giver_id, today=today, asking=len(draft.recipients), limit=rules.daily_limit)
            rows = [
                Recognition(
                    giver_id=giver_id, recipient_id=recipient, value=draft.value, reason=draft.reason,
                    complaint_id=draft.complaint_id, source=source.value, dedup_key=dedup_key[:255],
                    message_channel=message_channel, message_ts=message_ts, created_at=now, day=today,
                )
                for recipient in draft.recipients
            ]
            session.add_all(rows)
            session.flush()
            return _gift(rows)
    except IntegrityError:
        raise DuplicateRequest(dedup_key, "those kudos were already given") from None


def give_for_reaction(
    open_session: SessionFactory,
    *,
    giver_id: str,
    recipient_id: str,
    channel: str,
    message_ts: str,
    reason: str,
    rules: KudosRules,
    now: datetime,
    ineligible_ids: Collection[str] = (),
) -> Gift:
    """Kudos for a message; reacting again after taking it back restores the same kudos."""
    key = reaction_key(channel, message_ts, giver_id)
    with unit_of_work(open_session) as session:
        earlier = session.exec(
            select(Recognition).where(Recognition.dedup_key == key, Recognition.recipient_id == recipient_id)
        ).first()
        if earlier is not None:
            if earlier.revoked_at is None:
                raise DuplicateRequest(key, "that reaction already gave kudos")
            today = rules.day_of(now)
            _check_daily_limit(session, giver_id=giver_id, today=today, asking=1, limit=rules.daily_limit)
            earlier.revoked_at, earlier.created_at, earlier.day = None, now, today
            session.add(earlier)
            session.flush()
            return _gift([earlier])
    return give(
        open_session, giver_id=giver_id, draft=KudosDraft((recipient_id,), reason), source=KudosSource.REACTION,
        dedup_key=key, rules=rules, now=now, ineligible_ids=ineligible_ids,
        message_channel=channel, message_ts=message_ts,
    )


def revoke_reaction(
    open_session: SessionFactory, *, giver_id: str, recipient_id: str, channel: str, message_ts: str, now: datetime
) -> Recognition | None:
    """Take back the kudos a removed reaction gave; None when it gave none."""
    with unit_of_work(open_session) as session:
        recognition = session.exec(
            select(Recognition).where(
                Recognition.dedup_key == reaction_key(channel, message_ts, giver_id),
                Recognition.recipient_id == recipient_id,
                col(Recognition.revoked_at).is_(None),
            )
        ).first()
        if recognition is not None:
            recognition.revoked_at = now
            session.add(recognition)
        return recognition


def resolution_draft(session: Session, *, complaint_id: int) -> KudosDraft:
    """Kudos for a resolved complaint's owner, with its resolution as the reason."""
    complaint = get_complaint(session, complaint_id)
    resolution = " ".join(complaint.resolution.split())
    if len(resolution) > RESOLUTION_IN_REASON:
        resolution = resolution[: RESOLUTION_IN_REASON - 1].rstrip() + "…"
    reason = f"resolved {complaint.reference}: {resolution}" if resolution else f"resolved {complaint.reference} for the customer"
    return KudosDraft((complaint.owner_id,), reason, complaint_id=complaint.id)


def set_post_location(open_session: SessionFactory, *, recognition_ids: Collection[int], channel: str, ts: str) -> None:
    with unit_of_work(open_session) as session:
        for recognition in session.exec(select(Recognition).where(col(Recognition.id).in_(list(recognition_ids)))):
            recognition.post_channel, recognition.post_ts = channel, ts
            session.add(recognition)


def stats(session: Session, *, user_id: str, today: date) -> KudosStats:
    since = today - timedelta(days=STATS_DAYS - 1)

    def by_value(person_column) -> tuple[tuple[str, int], ...]:
        count = func.count().label("n")
        rows = session.exec(
            select(Recognition.value, count)
            .where(person_column == user_id, Recognition.day >= since, col(Recognition.revoked_at).is_(None))
            .group_by(Recognition.value)
            .order_by(count.desc(), Recognition.value)
        )
        return tuple((value, n) for value, n in rows)

    return KudosStats(since=since, given=by_value(Recognition.giver_id), received=by_value(Recognition.recipient_id))


def received_recently(session: Session, *, user_id: str, limit: int = 5) -> list[Gift]:
    """The kudos `user_id` received most recently (taken-back ones left out), newest first."""
    statement = (
        select(Recognition)
        .where(Recognition.recipient_id == user_id, col(Recognition.revoked_at).is_(None))
        .order_by(col(Recognition.created_at).desc(), col(Recognition.id).desc())
        .limit(limit)
    )
    return [_gift([row]) for row in session.exec(statement)]


def _check_daily_limit(session: Session, *, giver_id: str, today: date, asking: int, limit: int) -> None:
    _lock_giver_day(session, giver_id=giver_id, today=today)
    given = session.exec(
        select(func.count()).select_from(Recognition).where(
            Recognition.giver_id == giver_id, Recognition.day == today, col(Recognition.revoked_at).is_(None)
        )
    ).one()
    if given + asking <= limit:
        return
    left = max(limit - given, 0)
    if left == 0:
        raise KudosRefused(
            f"You have given your {limit} kudos for today, the daily limit. You can give more tomorrow.",
            about="recipients",
        )
    raise KudosRefused(
        f"You can give {left} more kudos today (the limit is {limit} a day), and this is for {asking} people. "
        "Pick fewer people, or recognise the rest tomorrow.",
        about="recipients",
    )


def _lock_giver_day(session: Session, *, giver_id: str, today: date) -> None:
    """Hold the giver's row for `today` until this transaction ends, so a second kudos
    from them counts only after this one is saved. On SQLite the insert takes the
    database's write lock; on PostgreSQL the row lock does it."""
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(KudosGiverDay).values(giver_id=giver_id, day=today).on_conflict_do_nothing())
    session.execute(
        select(KudosGiverDay).where(KudosGiverDay.giver_id == giver_id, KudosGiverDay.day == today).with_for_update()
    )


def _check_complaint(session: Session, complaint_id: int) -> None:
    try:
        get_complaint(session, complaint_id)
    except NotFound as exc:
        raise KudosRefused(str(exc), about="complaint") from None


def _gift(rows: list[Recognition]) -> Gift:
    first = rows[0]
    return Gift(
        recognition_ids=tuple(row.id for row in rows),
        giver_id=first.giver_id,
        recipients=tuple(row.recipient_id for row in rows),
        reason=first.reason,
        value=first.value,
        complaint_id=first.complaint_id,
        source=first.source,
        message_channel=first.message_channel,
        message_ts=first.message_ts,
    )
