"""What people hear of a complaint besides its team message: the replies in that
message's thread, and what its followers are told. Pure functions from data to text.

A reply in the team's channel names people rather than mentioning them, so nobody is
notified of a note they wrote, or was named in; a message to a follower is a DM, where
a mention notifies nobody but the follower.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.mentions import as_names
from bot.thread_replies import ThreadReply
from handlers.complaint_views import summary_text
from handlers.text import escape, truncate
from models.complaints import Complaint, EventKind

# How each reply begins, by what happened; `{who}` is the person's name.
REPLY_OPENINGS = {
    EventKind.NOTED: "📝 {who} added a note",
    EventKind.RESPONDED: "📞 {who} responded to the customer",
    EventKind.CUSTOMER_REPLIED: "💬 The customer replied (noted by {who})",
    EventKind.RESOLVED: "✅ {who} resolved it",
}
UNFOLLOW_HINT = "You follow it; `/complaint unfollow {reference}` stops these messages."


def thread_reply_text(reply: ThreadReply, *, name_of: Callable[[str], str]) -> str:
    """`📝 *Bob* added a note: called the customer back` (the note as typed, as text)."""
    opening = REPLY_OPENINGS[reply.kind].format(who=f"*{escape(name_of(reply.actor_id))}*")
    return opening + (f": {escape(as_names(reply.note, name_of=name_of))}" if reply.note else "")


def followed_resolved_notice(complaint: Complaint, actor_id: str) -> str:
    return (f"<@{actor_id}> resolved {summary_text(complaint)} — {escape(truncate(complaint.resolution, 300))}\n"
            + UNFOLLOW_HINT.format(reference=complaint.reference))


def followed_reopened_notice(complaint: Complaint, actor_id: str) -> str:
    return f"<@{actor_id}> reopened {summary_text(complaint)}\n" + UNFOLLOW_HINT.format(reference=complaint.reference)


def follow_answer(reference: str, *, now_following: bool) -> str:
    if not now_following:
        return f"You already follow {reference}. `/complaint unfollow {reference}` stops that."
    return (f"You now follow {reference}: I'll message you when it is resolved or reopened. "
            f"`/complaint unfollow {reference}` stops that.")


def unfollow_answer(reference: str, *, stopped: bool) -> str:
    if not stopped:
        return f"You don't follow {reference}, so there is nothing to stop. `/complaint follow {reference}` starts."
    return f"You no longer follow {reference}. `/complaint follow {reference}` to hear of it again."
