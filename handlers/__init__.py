"""Slack listeners, one module per capability, each with one `register(app, services)`;
`bot/app/factory.py` calls every one of them."""
