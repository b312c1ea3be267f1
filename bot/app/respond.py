"""`respond` (a request's response_url) over the app's kept-alive connections.

Bolt's `respond` builds a slack_sdk WebhookClient for every answer, which opens a new
connection each time (a TCP and TLS handshake with hooks.slack.com in production): on
every `/complaint`, the confirmation is replaced once the team copy is posted. This
one sends the same message, built by Bolt's own `_build_message`, through the app
client's pool (bot/web_api_client.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_bolt.context.respond import Respond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.webhook import WebhookResponse

from bot.web_api_client import PooledWebClient, PooledWebhookClient


class PooledRespond(Respond):
    def __init__(self, *, response_url: str | None, client: PooledWebClient) -> None:
        super().__init__(response_url=response_url, proxy=client.proxy, ssl=client.ssl)
        self._pool = client.pool

    def __call__(  # the arguments of Bolt's `respond`
        self, text: str | dict = "", blocks: Sequence[Any] | None = None, attachments: Sequence[Any] | None = None,
        response_type: str | None = None, replace_original: bool | None = None, delete_original: bool | None = None,
        unfurl_links: bool | None = None, unfurl_media: bool | None = None, thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        if self.response_url is None:
            raise ValueError("respond is unsupported here as there is no response_url")
        if isinstance(text, dict):
            message = _build_message(**text)
        elif isinstance(text, str):
            message = _build_message(
                text=text, blocks=blocks, attachments=attachments, response_type=response_type,
                replace_original=replace_original, delete_original=delete_original, unfurl_links=unfurl_links,
                unfurl_media=unfurl_media, thread_ts=thread_ts, metadata=metadata,
            )
        else:
            raise ValueError(f"The arg is unexpected type ({type(text)})")
        client = PooledWebhookClient(url=self.response_url, pool=self._pool, proxy=self.proxy, ssl=self.ssl)
        return client.send_dict(message)
