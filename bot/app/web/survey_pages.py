"""The survey page customers open from their link, its thank-you page, and unsubscribing.

Forms without JavaScript, POST/redirect/GET: an answer is saved and answered with a 303
to the thank-you page; a wrong one is shown again with the customer's values and a
message beside each field (422). Each form carries a CSRF token signed for this
complaint and tied to a SameSite cookie. Each address may make WEB_RATE_LIMIT requests
a minute (429). A link that expired is a 410 page, a forged or unknown one a 404 page.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from slack_sdk import WebClient

from bot import rate_limit, surveys
from bot.errors import NotFound
from bot.people import first_name
from bot.survey_links import FORM_PURPOSE, LinkExpired, LinkInvalid, links_for, sign, unsign
from bot.survey_mail import unsubscribe
from bot.services import Services
from handlers.surveys import CustomerVoiceJobs
from models.db import unit_of_work

logger = logging.getLogger("servicedesk.web")
CSRF_COOKIE = "survey_form"
# A form may stay open on someone's screen this long before it must be reloaded.
FORM_LIFETIME = timedelta(hours=12)


class Refusal(Exception):
    def __init__(self, status: int, title: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(title)
        self.status, self.title, self.message, self.headers = status, title, message, headers or {}


def blueprint(services: Services, client: WebClient) -> Blueprint:
    pages = Blueprint("survey", __name__)
    settings = services.settings
    links = links_for(settings)
    voice = CustomerVoiceJobs(services, client)
    values = settings.survey_values

    def page(template: str, status: int = 200, **context):
        return render_template(template, company=settings.company_name, **context), status

    @pages.errorhandler(Refusal)
    def refused(refusal: Refusal):
        logger.warning("refused %s %r: %s", request.method[:10], request.path[:60], refusal.title)
        body, status = page("problem.html", refusal.status, title=refusal.title, message=refusal.message)
        return body, status, refusal.headers

    @pages.before_request
    def limit_each_address():
        wait = rate_limit.allow(services.open_session, key=rate_limit.rate_key("web", request.remote_addr or ""),
                                limit=settings.web_rate_limit, now=services.clock())
        if wait:
            raise Refusal(429, "Too many requests", f"Please wait {wait} seconds and try again.",
                          {"Retry-After": str(wait)})

    def complaint_of(token: str) -> int:
        try:
            return links.complaint_of(token, now=services.clock())
        except LinkExpired:
            raise Refusal(410, "This link has expired", (
                f"Survey links work for {settings.survey_days} days. Thank you for wanting to tell us; "
                "you can always reply to the e-mail you had from us.")) from None
        except LinkInvalid:
            raise Refusal(404, "We don't know this link", (
                "Please check that the whole link was copied from the message you were sent.")) from None

    def subject_of(complaint_id: int) -> surveys.SurveySubject:
        try:
            with services.open_session() as session:
                return surveys.survey_subject(session, complaint_id=complaint_id)
        except NotFound:
            raise Refusal(404, "We don't know this link", "The survey it was for is no longer here.") from None

    def form_token(complaint_id: int, nonce: str) -> str:
        return sign({"c": complaint_id, "n": nonce}, secret=settings.secret_key, purpose=FORM_PURPOSE,
                    issued_at=services.clock())

    def form_is_genuine(complaint_id: int) -> bool:
        nonce = request.cookies.get(CSRF_COOKIE, "")
        try:
            value = unsign(request.form.get("csrf", ""), secret=settings.secret_key, purpose=FORM_PURPOSE,
                           now=services.clock(), lifetime=FORM_LIFETIME)
        except (LinkExpired, LinkInvalid):
            return False
        return bool(nonce) and value == {"c": complaint_id, "n": nonce}

    def form_page(token: str, subject: surveys.SurveySubject, *, typed: dict[str, str], problems: dict[str, str],
                  status: int, notice: str = ""):
        nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(18)
        # The owner's name is asked for with no session open (it may be a Web API call).
        body, status = page(
            "survey.html", status, token=token, subject=subject, owner_name=first_name(services.people, subject.owner_id),
            values=list(enumerate(values, start=1)), typed=typed, problems=problems, notice=notice,
            csrf=form_token(subject.complaint_id, nonce), value_field=surveys.value_field,
        )
        response = make_response(body, status)
        response.set_cookie(CSRF_COOKIE, nonce, httponly=True, samesite="Strict", path="/survey/",
                            secure=settings.public_url.startswith("https://"), max_age=int(FORM_LIFETIME.total_seconds()))
        return response

    @pages.get("/survey/<token>")
    def survey(token: str):
        subject = subject_of(complaint_of(token))
        return form_page(token, subject, typed=_typed_from(subject.answer, values), problems={}, status=200)

    @pages.post("/survey/<token>")
    def answer(token: str):
        complaint_id = complaint_of(token)
        subject = subject_of(complaint_id)
        answered = surveys.read_answer(request.form, values=values)
        if not form_is_genuine(complaint_id):
            typed = answered.typed if isinstance(answered, surveys.FormProblems) else dict(request.form)
            return form_page(token, subject, typed=typed, problems={}, status=400, notice=(
                "This form was open too long or did not come from our page, so nothing was saved yet. "
                "Your answers are still here: please check them and press Send again."))
        if isinstance(answered, surveys.FormProblems):
            return form_page(token, subject, typed=answered.typed, problems=answered.problems, status=422)
        try:
            saved = surveys.save_answer(services.open_session, complaint_id=complaint_id, draft=answered,
                                        now=services.clock(), call_back_within=timedelta(hours=settings.callback_hours))
        except NotFound:
            raise Refusal(404, "We don't know this link", "The survey it was for is no longer here.") from None
        logger.info("survey answer %d/10 for C-%d (revision %d)", saved.answer.score, complaint_id, saved.answer.revision)
        voice.run_now()
        return redirect(url_for("survey.thanks", token=token), code=303)

    @pages.get("/survey/<token>/thanks")
    def thanks(token: str):
        subject = subject_of(complaint_of(token))
        if subject.answer is None:
            return redirect(url_for("survey.survey", token=token), code=303)
        return page("thanks.html", token=token, answer=subject.answer)

    def fingerprint_of(token: str) -> str:
        try:
            return links.unsubscribed_fingerprint(token, now=services.clock())
        except (LinkExpired, LinkInvalid):
            raise Refusal(404, "We don't know this link", "Please check that the whole link was copied.") from None

    @pages.get("/unsubscribe/<token>")
    def unsubscribe_page(token: str):
        fingerprint_of(token)
        return page("unsubscribe.html", token=token, done=False)

    # One-click unsubscribe (RFC 8058) comes from mail programs without our cookie: the
    # signed link is what proves it is genuine.
    @pages.post("/unsubscribe/<token>")
    def unsubscribe_now(token: str):
        fingerprint = fingerprint_of(token)
        with unit_of_work(services.open_session) as session:
            unsubscribe(session, fingerprint=fingerprint, now=services.clock())
        return page("unsubscribe.html", token=token, done=True)

    return pages


def _typed_from(answer, values) -> dict[str, str]:
    """A stored answer as the form's fields, so a customer changing it starts from what they said."""
    if answer is None:
        return {}
    typed = {"score": str(answer.score), "comment": answer.comment}
    for index, value in enumerate(values, start=1):
        if value in answer.ratings:
            typed[surveys.value_field(index)] = str(answer.ratings[value])
    return typed
