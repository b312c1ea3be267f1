"""Slack listeners, one module per capability; `register_all` is every entry point."""

from slack_bolt import App

from bot.app import Services


def register_all(app: App, services: Services) -> None:
    from handlers import complaints, desk, digest, home, knowledge, kudos, reminders

    complaints.register(app, services)
    knowledge.register(app, services)
    kudos.register(app, services)
    desk.register(app, services)
    home.register(app, services)
    # Timed work, ticked by the scheduler (bot/scheduler.py).
    reminders.register(app, services)
    digest.register(app, services)
