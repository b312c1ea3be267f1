"""A Web API client that keeps its connections to Slack open between calls.

slack_sdk's sync WebClient sends each call through `urllib.request.urlopen`, which
opens a new connection (in production a TCP and TLS handshake) every time and closes
it after the answer. This subclass sends the same request through a urllib3 pool
instead, so the publisher threads reuse a few keep-alive connections. It replaces only
`_perform_urllib_http_request_internal`, the one step that does the I/O: slack_sdk
still builds the request, runs its retry handlers and parses the answer, because the
errors it expects are given to it in urllib's own shapes (an HTTPError for a non-2xx
answer, a URLError for a connection that failed or timed out). `PooledWebhookClient`
does the same for answers through a request's response_url (bot/app/respond.py).
"""

from __future__ import annotations

import io
from http.client import HTTPMessage
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

import urllib3
from slack_sdk import WebClient
from slack_sdk.webhook import WebhookClient, WebhookResponse

# Keep-alive connections kept per host: one per publisher thread and a few more for
# listeners and scheduled jobs; a busier moment opens extra ones and closes them after.
POOL_SIZE = 8


class PooledWebClient(WebClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # No retries of its own: slack_sdk's retry handlers decide, as they do for urllib.
        self.pool = urllib3.PoolManager(num_pools=4, maxsize=POOL_SIZE, retries=False,
                                        ssl_context=self.ssl, timeout=urllib3.Timeout(total=self.timeout))

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or not url.lower().startswith("http"):
            return super()._perform_urllib_http_request_internal(url, req)
        status, headers, data = pooled_post(self.pool, url, req)
        charset = headers.get_content_charset() or "utf-8"
        body = data if headers.get_content_type() == "application/gzip" else data.decode(charset)
        return {"status": status, "headers": headers, "body": body}


class PooledWebhookClient(WebhookClient):
    """slack_sdk's client for a response_url (`respond`), over a PooledWebClient's pool:
    slack_sdk's own opens a connection (TLS to hooks.slack.com) for every answer."""

    def __init__(self, *, url: str, pool: urllib3.PoolManager, **kwargs: Any) -> None:
        super().__init__(url=url, **kwargs)
        self.pool = pool

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        if self.proxy is not None or not url.lower().startswith("http"):
            return super()._perform_http_request_internal(url, req)
        status, headers, data = pooled_post(self.pool, url, req, timeout=self.timeout)
        return WebhookResponse(url=url, status_code=status, body=data.decode(headers.get_content_charset() or "utf-8"),
                               headers=headers)


def pooled_post(pool: urllib3.PoolManager, url: str, req: Request, *, timeout: float | None = None,
                ) -> tuple[int, HTTPMessage, bytes]:
    """POST `req` over `pool`: (status, headers, body) of a 2xx answer; any other answer,
    or no answer, raised in urllib's shapes (HTTPError, URLError), which slack_sdk's
    clients and retry handlers expect. `timeout`: other than the pool's."""
    try:
        answer = pool.request("POST", url, body=req.data, headers=dict(req.header_items()), redirect=False,
                              preload_content=True, **({} if timeout is None else {"timeout": urllib3.Timeout(total=timeout)}))
    except urllib3.exceptions.NewConnectionError as exc:
        # Checked before timeouts: urllib3 counts a refused connection as one.
        raise URLError(_cause(exc) or exc) from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise URLError(TimeoutError(str(exc))) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise URLError(_cause(exc) or exc) from exc
    headers = HTTPMessage()
    for name, value in answer.headers.items():
        headers[name] = value
    if answer.status >= 300:
        raise HTTPError(url, answer.status, answer.reason or "", headers, io.BytesIO(answer.data))
    return answer.status, headers, answer.data


def _cause(exc: BaseException) -> BaseException | None:
    """The OSError underneath a urllib3 error (ConnectionRefusedError, ConnectionResetError…)."""
    seen: BaseException | None = exc
    for _ in range(5):  # a short chain: urllib3's error, the socket's error under it
        if seen is None:
            break
        if isinstance(seen, OSError) and not isinstance(seen, urllib3.exceptions.HTTPError):
            return seen
        seen = seen.__cause__ or seen.__context__ or next(
            (arg for arg in seen.args if isinstance(arg, BaseException)), None)
    return None

