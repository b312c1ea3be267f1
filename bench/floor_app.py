"""The framework floor: a bare Bolt app that only acks `/complaint`, served exactly as
`servicedesk run` serves the real one (same gunicorn options, same settings).

Run by bench/ack_latency.py: `python -m bench.floor_app` with the usual environment.
"""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.services import make_client
from bot.config import load_settings
from bot.app.server import SLACK_PATH, gunicorn_options, serve_wsgi


def build_floor_app(settings) -> SlackRequestHandler:
    app = App(client=make_client(settings), signing_secret=settings.slack_signing_secret,
              token_verification_enabled=False)

    @app.command("/complaint")
    def ack_only(ack) -> None:
        ack()

    return SlackRequestHandler(app, path=SLACK_PATH)


if __name__ == "__main__":
    settings = load_settings()
    serve_wsgi(lambda: build_floor_app(settings), gunicorn_options(settings))
