"""Slack listeners, one module per capability; `register_all` is every entry point."""

from slack_bolt import App

from bot.app import Services


def register_all(app: App, services: Services) -> None:
    from handlers import complaints, knowledge

    complaints.register(app, services)
    knowledge.register(app, services)
