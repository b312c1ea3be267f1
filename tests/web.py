"""Talking to the customers' side of a running desk (bot/app/web/) as a browser or a tool
would: plain HTTP, no redirects followed, cookies kept by hand."""

from __future__ import annotations

import http.client
import json
import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

from bot.app.console.loopback import Reply

PUBLIC_URL = "http://customers.test"
SECRET_KEY = "test-secret-9f8e7d6c5b4a39281706f5e4d3c2b1a0"
API_TOKEN = "tok-web-form-0123456789abcdef"
OTHER_TOKEN = "tok-mail-gateway-fedcba9876543210"
MANAGERS = "CMANAGERS1"
SURVEY_LINK = re.compile(re.escape(PUBLIC_URL) + r"(/survey/[A-Za-z0-9_.-]+)")
WEB_SETTINGS = {"public_url": PUBLIC_URL, "secret_key": SECRET_KEY, "company_name": "Acme Bikes",
                "manager_channel": MANAGERS, "api_tokens": f"{API_TOKEN},{OTHER_TOKEN}", "intake_owner": "UBOB00002"}


@dataclass
class Browser:
    base_url: str
    cookies: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, *, body: bytes | None = None, headers: dict[str, str] | None = None) -> Reply:
        parts = urlsplit(self.base_url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        all_headers = dict(headers or {})
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        answer = Reply(response.status, dict(response.getheaders()), response.read())
        connection.close()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                for morsel in SimpleCookie(value).values():
                    self.cookies[morsel.key] = morsel.value
        return answer

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post_form(self, path: str, fields: dict[str, str]) -> Reply:
        return self.request("POST", path, body=urlencode(fields).encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})

    def post_json(self, path: str, payload, *, token: str | None = API_TOKEN, headers: dict[str, str] | None = None,
                  raw: bytes | None = None, content_type: str = "application/json") -> Reply:
        all_headers = {"Content-Type": content_type, **({"Authorization": f"Bearer {token}"} if token else {}),
                       **(headers or {})}
        body = raw if raw is not None else json.dumps(payload).encode()
        return self.request("POST", path, body=body, headers=all_headers)


def csrf_of(page: Reply) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)


def survey_path(text: str) -> str:
    """The path of the survey link in a message."""
    return SURVEY_LINK.search(text).group(1)


def resolved_complaint(desk, *, contact: str = "", number: int = 1) -> str:
    """Log and resolve C-`number` as Alice; the survey path from the resolution's answer."""
    desk.client.command("#billing charged twice for one bike, order 1182")
    if contact:
        desk.client.command(f"edit C-{number} contact {contact}")
    reply = desk.client.command(f"resolve C-{number} refunded the second charge")
    desk.settle()
    return survey_path(reply.text)


def answer_survey(browser: Browser, path: str, **fields: str) -> Reply:
    page = browser.get(path)
    return browser.post_form(path, {"csrf": csrf_of(page), **fields})
