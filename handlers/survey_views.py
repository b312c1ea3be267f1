"""Slack text and Block Kit for the customers' survey answers and the call-backs they ask
for: pure functions of plain data."""

from __future__ import annotations

from datetime import datetime

from bot.nps import Nps
from bot.survey_figures import SurveyFigures, ValueAverage
from bot.surveys import DETRACTOR_MAX
from handlers.blocks import button, mrkdwn, section
from handlers.ids import Action
from handlers.text import escape, slack_date, truncate
from models.surveys import CallBack, SurveyAnswer


def kind_of_score(score: int) -> str:
    if score >= 9:
        return "promoter"
    return "passive" if score > DETRACTOR_MAX else "detractor"


def answer_lines(answer: SurveyAnswer) -> list[str]:
    lines = [f"*{answer.score}/10* ({kind_of_score(answer.score)})"]
    if answer.ratings:
        lines.append(" · ".join(f"{escape(value)} {rating}/5" for value, rating in answer.ratings.items()))
    if answer.comment:
        lines.append(f"“{escape(truncate(answer.comment, 1500))}”")
    return lines


def answer_notice(answer: SurveyAnswer) -> str:
    """To the owner: the customer's own answer (or its change)."""
    what = "answered the survey" if answer.revision == 1 else "changed their survey answer"
    return f"The customer of *C-{answer.complaint_id}* {what}: " + "\n".join(answer_lines(answer))


def survey_link_line(url: str, *, days: int) -> str:
    return f":memo: Survey link for the customer (works for {days} days): {url}"


def detractor_alert_blocks(answer: SurveyAnswer, *, owner_id: str, due_at: datetime) -> list[dict]:
    return [
        section(f":rotating_light: *A detractor*: the customer of *C-{answer.complaint_id}* (owner <@{owner_id}>) "
                "answered the survey:\n" + "\n".join(answer_lines(answer))),
        {"type": "context", "elements": [mrkdwn(f"Call them back by {slack_date(due_at)}; press the button once you have.")]},
        {"type": "actions", "elements": [button(Action.CALL_BACK, "Called back", str(answer.complaint_id), "primary")]},
    ]


def detractor_alert_text(answer: SurveyAnswer) -> str:
    return f"A detractor: the customer of C-{answer.complaint_id} answered {answer.score}/10"


def called_back_blocks(call_back: CallBack, *, alert: list[dict]) -> list[dict]:
    """The alert without its button, saying who called back and when."""
    kept = [block for block in alert if block.get("type") != "actions"]
    done = f":white_check_mark: <@{call_back.called_back_by}> called the customer back {slack_date(call_back.called_back_at)}."
    return [*kept, section(done)]


def call_back_reminder_blocks(call_back: CallBack, *, owner_id: str) -> list[dict]:
    text = (f":alarm_clock: Nobody has called back the customer of *C-{call_back.complaint_id}* "
            f"(owner <@{owner_id}>) who answered {call_back.score}/10 {slack_date(call_back.requested_at)}.")
    return [section(text),
            {"type": "actions", "elements": [button(Action.CALL_BACK, "Called back", str(call_back.complaint_id), "primary")]}]


def _nps(nps: Nps) -> str:
    if nps.score is None:
        return "no answers"
    return f"{nps.score:+.0f} ({nps.answers} answer{'s' if nps.answers != 1 else ''})"


def _value_line(value: ValueAverage) -> str:
    if value.average is None:
        return f"{escape(value.value)} —"
    change = "" if value.change is None else f" ({'▲' if value.change > 0 else '▼' if value.change < 0 else '='}"\
        f"{abs(value.change):.1f} vs the week before)"
    return f"{escape(value.value)} {value.average:.1f}/5{change}"


def digest_lines(figures: SurveyFigures) -> list[str]:
    rate = "—" if figures.response_rate is None else f"{figures.response_rate:.0f}%"
    return [
        f"*Survey response rate*: {rate} ({figures.answered} of {figures.surveyed} resolved this week answered)",
        f"*NPS from customers*: {_nps(figures.customer_nps)} · *from scores staff recorded*: {_nps(figures.staff_nps)}",
        "*Values* (1–5): " + " · ".join(_value_line(v) for v in figures.values),
        f"*Open call-backs*: {figures.open_call_backs} ({figures.overdue_call_backs} overdue)",
    ]
