"""The customers' side of the bot: survey pages and the intake API, a Flask app served by
the same server and processes as /slack/events (bot/app/server.py mounts it).

Every response carries the security headers of a page strangers open (no framing, no
referrer, nothing from another origin); every request body is capped at
`MAX_BODY_BYTES` (413); an unknown path is a 404, as a page or, under /api/, as JSON.
Behind TRUSTED_PROXIES reverse proxies the client's address (which the per-address
rate limit keys on) is read from X-Forwarded-For; with none, that header is ignored.
"""

from __future__ import annotations

import logging

from flask import Flask, Response, render_template, request
from slack_sdk import WebClient
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from bot.app.web import intake_api, survey_pages
from bot.services import Services

logger = logging.getLogger("servicedesk.web")
MAX_BODY_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def create_web_app(services: Services, client: WebClient) -> Flask:
    """The Flask app for `services` (one per Bolt app); `client` posts to Slack after an answer."""
    web = Flask(__name__)
    web.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    web.register_blueprint(survey_pages.blueprint(services, client))
    web.register_blueprint(intake_api.blueprint(services, client))
    hops = services.settings.trusted_proxies
    if hops:
        # Each proxy appends who it heard from, so the client is `hops` entries from the end;
        # anything further left is whatever the client wrote, and is not believed.
        web.wsgi_app = ProxyFix(web.wsgi_app, x_for=hops, x_proto=hops)

    @web.after_request
    def secure(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @web.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        logger.warning("refused %s %r: %s", request.method[:10], request.path[:200], error.name)
        if request.path.startswith("/api/"):
            return intake_api.json_error(error.code or 400, error.description or error.name)
        return render_template("problem.html", title=error.name, message=_friendly(error),
                               company=services.settings.company_name), error.code

    return web


def _friendly(error: HTTPException) -> str:
    if error.code == 404:
        return "There is no page at this address. Please check the link you were sent."
    if error.code == 413:
        return "That was more than this page takes. Please shorten your comment and send it again."
    return "This request could not be handled. Please go back and try again."


__all__ = ["create_web_app"]
