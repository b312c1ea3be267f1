"""The survey link e-mailed after resolution, to a real SMTP server with STARTTLS that the
test starts (aiosmtpd): once per complaint, never to an address that unsubscribed."""

from __future__ import annotations

import email
import ssl
import subprocess
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from models.service_levels import Notification
from tests.running import free_port
from tests.web import PUBLIC_URL, WEB_SETTINGS, Browser, resolved_complaint


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's naming)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def start_smtp(certificate, *, starttls: bool = True):
    inbox = Inbox()
    context = None
    if starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*map(str, certificate))
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=starttls)
    controller.start()
    return controller, inbox


@pytest.fixture
def smtp(certificate):
    controller, inbox = start_smtp(certificate)
    yield controller, inbox
    controller.stop()


@pytest.fixture
def mail_desk(make_desk, smtp, certificate):
    controller, _ = smtp
    return make_desk(**WEB_SETTINGS, smtp_url=f"smtp://127.0.0.1:{controller.port}", smtp_ca_file=str(certificate[0]),
                     smtp_from="care@acme.test")


def test_the_link_is_emailed_once_after_resolution(mail_desk, smtp):
    _, inbox = smtp
    path = resolved_complaint(mail_desk, contact="Jane@Example.com")
    mail_desk.tick()
    mail_desk.tick()
    assert len(inbox.messages) == 1
    message = inbox.messages[0]
    assert message["To"] == "Jane@Example.com" and "care@acme.test" in message["From"] and "Acme Bikes" in message["From"]
    body = message.get_payload(decode=True).decode()
    assert PUBLIC_URL + path in body and "Alice" in body and "charged twice" not in body
    assert message["List-Unsubscribe"].startswith(f"<{PUBLIC_URL}/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_a_customer_who_unsubscribes_is_never_emailed_again(mail_desk, smtp):
    _, inbox = smtp
    resolved_complaint(mail_desk, contact="jane@example.com")
    mail_desk.tick()
    link = inbox.messages[0]["List-Unsubscribe"].strip("<>").removeprefix(PUBLIC_URL)
    browser = Browser(mail_desk.client.base_url)
    page = browser.get(link)
    assert page.status == 200 and "Stop survey e-mails" in page.text
    # What a mail program's one-click button sends (RFC 8058): no cookie, no form token.
    done = browser.post_form(link, {"List-Unsubscribe": "One-Click"})
    assert done.status == 200 and "no more survey e-mails" in done.text
    assert browser.get("/unsubscribe/forged").status == 404
    resolved_complaint(mail_desk, contact="JANE@example.com ", number=2)
    mail_desk.tick()
    assert len(inbox.messages) == 1


def test_only_email_contacts_get_mail(mail_desk, smtp):
    _, inbox = smtp
    resolved_complaint(mail_desk, contact="+44 20 7946 0000")
    mail_desk.tick()
    assert inbox.messages == []


def test_a_server_without_starttls_gets_nothing_and_the_send_is_recorded_as_failed(make_desk, certificate):
    controller, inbox = start_smtp(certificate, starttls=False)
    try:
        desk = make_desk(**WEB_SETTINGS, smtp_url=f"smtp://127.0.0.1:{controller.port}",
                         smtp_ca_file=str(certificate[0]))
        resolved_complaint(desk, contact="jane@example.com")
        desk.tick()
    finally:
        controller.stop()
    assert inbox.messages == []
    with desk.open_session() as session:
        sent = session.exec(select(Notification).where(Notification.kind == "survey-mail")).one()
    assert sent.status == "failed" and "STARTTLS" in sent.error
