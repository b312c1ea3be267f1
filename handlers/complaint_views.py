"""Block Kit for complaints: pure functions from data to messages and text (the forms are
in handlers/complaint_form_views.py)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.complaint_changes import Applied, Verb
from bot.customer_history import REPEAT_WINDOW, CustomerHistory, EarlierComplaints
from bot.intake import REPORTER_PREFIX
from bot.satisfaction import read_rated_note, score_text
from bot.sla import SlaState, SlaStatus, describe
from handlers.blocks import SECTION_TEXT_LIMIT, button, mrkdwn, plain, section
from handlers.ids import Action, Block
from handlers.text import escape, slack_date, truncate
from models.complaints import Complaint, ComplaintEvent, EventKind

SEVERITY_ICON = {"low": "⚪", "normal": "🔵", "high": "🟠", "urgent": "🔴"}
SLA_ICON = {SlaState.ON_TRACK: "🟢", SlaState.DUE_SOON: "🟡", SlaState.BREACHED: "🔴", SlaState.MET: "✅"}
def title_line(complaint: Complaint) -> str:
    icon = SEVERITY_ICON.get(complaint.severity, "")
    return f"{icon} {complaint.reference} · {complaint.severity} · #{complaint.category} · {status_text(complaint)}"


def status_text(complaint: Complaint) -> str:
    """`open`, `waiting on the customer`, `resolved` or `merged into C-42`."""
    if complaint.is_merged:
        return f"merged into C-{complaint.merged_into_id}"
    return "waiting on the customer" if complaint.is_waiting else complaint.status


def summary_text(complaint: Complaint) -> str:
    """One mrkdwn line, also the notification text of messages."""
    return (
        f"*{complaint.reference}* ({complaint.severity}, #{complaint.category}) owned by "
        f"<@{complaint.owner_id}>: {escape(truncate(complaint.description, 200))}"
    )


def brief_text(complaint: Complaint) -> str:
    """`*C-42* (high, #billing): charged twice…`, for lines that say who owns it already."""
    return f"*{complaint.reference}* ({complaint.severity}, #{complaint.category}): {escape(truncate(complaint.description, 200))}"


def sla_text(sla: SlaStatus) -> str:
    """`🟡 due soon · first response due <date> · resolution due <date>`."""
    parts = [f"{SLA_ICON[sla.state]} SLA {sla.state}"]
    for target in sla.targets:
        if target.paused:
            parts.append(f"{target.kind.label} paused while waiting on the customer")
        elif target.done_at is None:
            when = "overdue since" if target.state is SlaState.BREACHED else "due"
            parts.append(f"{target.kind.label} {when} {slack_date(target.due_at)}")
        elif target.state is SlaState.BREACHED:
            parts.append(f"{target.kind.label} {describe(target.done_at - target.due_at)} late")
    return " · ".join(parts)


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def repeat_line(earlier: EarlierComplaints) -> str:
    """`3rd complaint from this customer in 90 days: C-12, C-30` ("" for a first complaint),
    `… C-37, C-38 and 7 earlier` past the latest few."""
    if not earlier:
        return ""
    days = REPEAT_WINDOW.days
    more = earlier.total - len(earlier.latest)
    return (f":repeat: {ordinal(earlier.total + 1)} complaint from this customer in {days} days: "
            + ", ".join(past.reference for past in earlier.latest) + (f" and {more:,} earlier" if more else ""))


def complaint_message(
    complaint: Complaint, sla: SlaStatus | None = None, *, earlier: EarlierComplaints = EarlierComplaints(),
    show_contact: bool = False, survey_url: str = "",
) -> list[dict]:
    """The team's copy in COMPLAINTS_CHANNEL, updated in place on every change.

    The channel sees the customer's name only; `show_contact` (the owner, in private)
    adds how to reach them; `survey_url` is the customer's survey link, once resolved.
    """
    logged_by = f"{escape(complaint.source)} (API)" if complaint.source else f"<@{complaint.reporter_id}>"
    shown = (complaint.customer_name, complaint.customer_contact) if show_contact else (complaint.customer_name,)
    customer = " · ".join(escape(part) for part in shown if part)
    fields = [
        f"*Owner*\n<@{complaint.owner_id}>",
        f"*Status*\n{status_text(complaint)}"
        + (f" since {slack_date(complaint.waiting_since)}" if complaint.waiting_since else ""),
        f"*Customer*\n{truncate(customer, 1900) or '—'}",
        f"*Contacted by*\n{complaint.contact_channel}",
        f"*Logged by*\n{logged_by} {slack_date(complaint.created_at)}",
        "*First response*\n"
        + (slack_date(complaint.first_responded_at) if complaint.first_responded_at else "not yet"),
    ]
    if complaint.satisfaction_score is not None:
        comment = f"\n“{escape(truncate(complaint.satisfaction_comment, 300))}”" if complaint.satisfaction_comment else ""
        fields.append(f"*Customer's score*\n{score_text(complaint.satisfaction_score)}{comment}")
    blocks = [
        {"type": "header", "text": plain(title_line(complaint), 150)},
        section(escape(complaint.description)),
        {"type": "section", "fields": [mrkdwn(f) for f in fields]},
    ]
    if complaint.source_permalink:
        blocks.append(
            {"type": "context", "elements": [mrkdwn(f"<{complaint.source_permalink}|Original message>")]}
        )
    if earlier:
        blocks.append({"type": "context", "elements": [mrkdwn(repeat_line(earlier))]})
    if complaint.is_merged:
        # A duplicate is worked on through the complaint it was merged into: no SLA, no buttons.
        blocks.append(section(f"*Merged into* C-{complaint.merged_into_id}: see that complaint for what happens next."))
        return blocks
    if sla is not None:
        blocks.append({"type": "context", "elements": [mrkdwn(sla_text(sla))]})
    if complaint.is_open:
        waiting = [(Action.CUSTOMER_REPLIED, "Customer replied", None), (Action.RESUME, "Resume the clock", None)]
        buttons = [
            (Action.TAKE, "Take ownership", "primary"),
            (Action.RESPONDED, "Responded to customer", None),
            *(waiting if complaint.is_waiting else [(Action.WAITING, "Waiting on customer", None)]),
            (Action.NOTE, "Add note", None),
            (Action.REASSIGN, "Reassign", None),
            (Action.EDIT, "Edit", None),
            (Action.RESOLVE, "Resolve", "danger"),
        ]
    else:
        blocks.append(section(f"*Resolution*: {escape(complaint.resolution)}"))
        if survey_url:
            blocks.append({"type": "context", "elements": [mrkdwn(f"<{survey_url}|Customer survey link>")]})
        buttons = [(Action.RECOGNISE, "Recognise", None), (Action.NOTE, "Add note", None),
                   (Action.EDIT, "Edit", None), (Action.REOPEN, "Reopen", None)]
        if complaint.followed_up_at is None:
            buttons.insert(0, (Action.FOLLOWED_UP, "Followed up with customer", "primary"))
    blocks.append(
        {
            "type": "actions",
            "block_id": Block.ACTIONS,
            "elements": [button(action, label, str(complaint.id), style) for action, label, style in buttons],
        }
    )
    return blocks


def confirmation(complaint: Complaint, channel: str | None, *, posted: bool | None, repeat: str = "") -> str:
    """What the person who logged it is told: saved, and (only once it is true) posted.

    `posted` is None while the team's copy is on its way, then whether it was posted;
    `repeat` is the customer's earlier complaints (`repeat_line`).
    """
    if not channel or posted is False:
        where = ""
    elif posted:
        where = f" and posted to <#{channel}>"
    else:
        where = f"; it will be posted to <#{channel}> in a moment"
    text = f"Logged {summary_text(complaint)}{where}. Use `/complaint show {complaint.reference}` to follow it."
    return f"{text}\n{repeat}" if repeat else text


def customer_history_blocks(history: CustomerHistory, *, asked: str) -> list[dict]:
    """`/complaint customer jane@example.com`: their complaints, newest first, with outcomes."""
    if not history.total:
        return [section(
            f"No complaints from a customer “{escape(asked[:100])}” (look them up by e-mail, phone or name). "
            f"To log a complaint that starts with “customer”, put its severity first: "
            f"`/complaint !normal customer {escape(asked[:60])}`."
        )]
    name = escape(history.customer_name) or "this customer"
    lines = [f"*{history.total} complaint{'s' if history.total != 1 else ''} from {name}*"]
    for past in history.complaints:
        outcome = past.status
        if past.satisfaction_score is not None:
            outcome += f", scored {score_text(past.satisfaction_score)}"
        resolution = f" — {escape(truncate(past.resolution, 120))}" if past.resolution else ""
        lines.append(f"• *{past.reference}* #{escape(past.category)} · {slack_date(past.created_at)} · {outcome}{resolution}")
    if history.total > len(history.complaints):
        lines.append(f"…and {history.total - len(history.complaints)} older.")
    return [section(truncate("\n".join(lines), SECTION_TEXT_LIMIT))]


def confirmation_blocks(confirmation_text: str, suggestions: list[dict]) -> list[dict] | None:
    """The confirmation followed by knowledge-base suggestions, or None (text alone) without any."""
    return [section(confirmation_text), *suggestions] if suggestions else None


# What the person who typed a change is told: what was done, in their words.
DONE = {
    Verb.TAKE: "You took {brief}",
    Verb.ASSIGN: "{owner} now owns {brief}",
    Verb.RESPONDED: "Recorded your response to the customer on {brief}",
    Verb.NOTE: "Noted on {brief}",
    Verb.RESOLVE: "Resolved {brief}",
    Verb.REOPEN: "Reopened {brief}",
    Verb.RATE: "Recorded the customer's score on {reference}: {score}",
    Verb.FOLLOWED_UP: "Recorded your follow-up with the customer on {brief}",
    Verb.EDIT: "Saved your edit: {brief}",
    Verb.MERGE: "Merged {reference} into *{into}* as a duplicate; its notes are now in {into}'s history",
    Verb.WAIT: "{reference} is waiting on the customer: its resolution clock is stopped until they reply",
    Verb.CUSTOMER_REPLIED: "Recorded the customer's reply on {brief}",
    Verb.RESUME: "Restarted the resolution clock on {reference}",
}


def done_text(applied: Applied) -> str:
    complaint = applied.complaint
    score = complaint.satisfaction_score
    return DONE.get(applied.verb, "Saved: {brief}").format(
        brief=brief_text(complaint), reference=f"*{complaint.reference}*", owner=f"<@{complaint.owner_id}>",
        score=score_text(score) if score is not None else "", into=f"C-{complaint.merged_into_id}",
    )


def owner_notice(complaint: Complaint, actor_id: str) -> str:
    """The new owner's DM, with how to reach the customer (the channel sees only their name)."""
    contact = f" Customer: {escape(complaint.customer_name) or 'unnamed'}, {escape(complaint.customer_contact)}." \
        if complaint.customer_contact else ""
    if actor_id.startswith(REPORTER_PREFIX):  # it came in from outside Slack
        return f"A complaint came in from {escape(complaint.source)} and is yours: {brief_text(complaint)}{contact}"
    return f"<@{actor_id}> made you the owner of {brief_text(complaint)}{contact}"


def posted_later_notice(complaint: Complaint, channel: str) -> str:
    return (f"The team's copy of {complaint.reference} is now posted in <#{channel}> "
            "(it couldn't be posted when you logged it).")


def handed_over_notice(complaint: Complaint, actor_id: str) -> str:
    """To the previous owner, when someone else takes or reassigns their complaint."""
    who = "took" if complaint.owner_id == actor_id else f"handed to <@{complaint.owner_id}>"
    return f"<@{actor_id}> {who} your complaint {brief_text(complaint)}"


def resolved_for_you_notice(complaint: Complaint, actor_id: str) -> str:
    return f"<@{actor_id}> resolved your complaint {brief_text(complaint)} — {escape(truncate(complaint.resolution, 300))}"


def complaint_details(
    complaint: Complaint, events: Sequence[ComplaintEvent], sla: SlaStatus | None = None, *,
    earlier: EarlierComplaints = EarlierComplaints(), show_contact: bool = False,
) -> list[dict]:
    """`show C-42`: the complaint and its full history (newest last)."""
    # No buttons in an ephemeral reply.
    blocks = [block for block in complaint_message(complaint, sla, earlier=earlier, show_contact=show_contact)
              if block["type"] != "actions"]
    lines = [_event_line(event) for event in events]
    # Keep the newest history when it would not fit in one section.
    text = "*History*\n" + "\n".join(lines)
    while len(text) > SECTION_TEXT_LIMIT and len(lines) > 1:
        lines.pop(0)
        text = "*History* (latest)\n" + "\n".join(lines)
    blocks.append(section(text))
    return blocks


# What each kind of event says after who did it; those that depend on the event are in _event_line.
EVENT_VERBS = {
    EventKind.RESPONDED: "responded to the customer",
    EventKind.NOTED: "added a note",
    EventKind.RESOLVED: "resolved it",
    EventKind.REOPENED: "reopened it",
    EventKind.FOLLOWED_UP: "followed up with the customer",
    EventKind.EDITED: "edited it",
    EventKind.WAITING: "started waiting on the customer (the resolution clock stopped)",
    EventKind.CUSTOMER_REPLIED: "recorded the customer's reply",
    EventKind.RESUMED: "restarted the resolution clock",
    EventKind.MERGED: "merged it as a duplicate",
    EventKind.MERGED_IN: "merged in a duplicate",
    EventKind.COPIED_NOTE: "wrote, on the duplicate",
}


def _event_line(event: ComplaintEvent) -> str:
    kind, note = EventKind(event.kind), event.note
    someone_else = event.owner_id and event.owner_id != event.actor_id
    if kind is EventKind.LOGGED:
        verb = f"logged it for <@{event.owner_id}>" if someone_else else "logged it"
    elif kind is EventKind.ASSIGNED:
        # One owner change reads as one: `@bob took it`, `@mona handed it to @bob`.
        verb = f"handed it to <@{event.owner_id}>" if someone_else else "took it"
    elif kind is EventKind.RATED:
        score, comment = read_rated_note(event.note)
        verb = "recorded the customer's score" + (f": {score_text(score)}" if score is not None else "")
        note = ""
        if comment:
            verb += f", saying “{escape(truncate(comment, 300))}”"
    else:
        verb = EVENT_VERBS[kind]
    note = f": {escape(truncate(note, 300))}" if note else ""
    actor = "The intake API" if event.actor_id.startswith(REPORTER_PREFIX) else f"<@{event.actor_id}>"
    return f"• {slack_date(event.at)} {actor} {verb}{note}"


def complaint_list(complaints: Sequence[Complaint], total: int, heading: str) -> list[dict]:
    if not complaints:
        return [section(f"{heading}: none. 🎉")]
    lines = [f"• {title_line(c)} — <@{c.owner_id}>: {escape(truncate(c.description, 120))}" for c in complaints]
    more = (f"\n…and {total - len(complaints)} more: `/complaint search status:open` pages through them all."
            if total > len(complaints) else "")
    return [section(f"*{heading}* ({total})\n" + "\n".join(lines) + more)]
