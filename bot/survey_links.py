"""Signed links for customers: a complaint's survey and an e-mail address's unsubscribe.

A link carries its purpose in the signer's salt, so a survey token is never accepted
as an unsubscribe token (or the other way round), and the time it was issued, so it
expires. Both times come from the caller's clock, never the machine's own, so a link
issued at resolution stays the same however often the team's message is drawn again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from itsdangerous import BadSignature, SignatureExpired, TimestampSigner, URLSafeTimedSerializer

SURVEY_PURPOSE = "servicedesk.survey.v1"
UNSUBSCRIBE_PURPOSE = "servicedesk.unsubscribe.v1"
FORM_PURPOSE = "servicedesk.survey-form.v1"
# An unsubscribe link works for as long as anyone keeps the e-mail.
UNSUBSCRIBE_LIFETIME = timedelta(days=3650)


class LinkExpired(Exception):
    """The link was genuine but is too old."""


class LinkInvalid(Exception):
    """The link was not made by this bot (forged, mangled, or for another purpose)."""


def _serializer(secret: str, purpose: str, moment: datetime) -> URLSafeTimedSerializer:
    class SignerAt(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(moment.timestamp())

    return URLSafeTimedSerializer(secret, salt=purpose, signer=SignerAt)


def sign(value: object, *, secret: str, purpose: str, issued_at: datetime) -> str:
    return _serializer(secret, purpose, issued_at).dumps(value)


def unsign(token: str, *, secret: str, purpose: str, now: datetime, lifetime: timedelta) -> object:
    """The signed value; LinkExpired or LinkInvalid."""
    try:
        return _serializer(secret, purpose, now).loads(token, max_age=int(lifetime.total_seconds()))
    except SignatureExpired:
        raise LinkExpired() from None
    except BadSignature:
        raise LinkInvalid() from None


@dataclass(frozen=True)
class SurveyLinks:
    """Makes and reads the links of one deployment (PUBLIC_URL, SECRET_KEY, SURVEY_DAYS)."""

    public_url: str
    secret: str
    days: int

    @property
    def lifetime(self) -> timedelta:
        return timedelta(days=self.days)

    def survey_token(self, complaint_id: int, *, issued_at: datetime) -> str:
        return sign(complaint_id, secret=self.secret, purpose=SURVEY_PURPOSE, issued_at=issued_at)

    def survey_url(self, complaint_id: int, *, issued_at: datetime) -> str:
        return f"{self.public_url}/survey/{self.survey_token(complaint_id, issued_at=issued_at)}"

    def complaint_of(self, token: str, *, now: datetime) -> int:
        """The complaint a survey token is for; LinkExpired or LinkInvalid."""
        value = unsign(token, secret=self.secret, purpose=SURVEY_PURPOSE, now=now, lifetime=self.lifetime)
        if not isinstance(value, int) or isinstance(value, bool):
            raise LinkInvalid()
        return value

    def unsubscribe_url(self, address: str, *, issued_at: datetime) -> str:
        token = sign(address_fingerprint(address), secret=self.secret, purpose=UNSUBSCRIBE_PURPOSE,
                     issued_at=issued_at)
        return f"{self.public_url}/unsubscribe/{token}"

    def unsubscribed_fingerprint(self, token: str, *, now: datetime) -> str:
        value = unsign(token, secret=self.secret, purpose=UNSUBSCRIBE_PURPOSE, now=now, lifetime=UNSUBSCRIBE_LIFETIME)
        if not isinstance(value, str) or len(value) != 64:
            raise LinkInvalid()
        return value


def address_fingerprint(address: str) -> str:
    """A one-way fingerprint of an e-mail address, the same however it is capitalised."""
    return hashlib.sha256(address.strip().lower().encode("utf-8")).hexdigest()


def links_for(settings) -> SurveyLinks | None:
    """The deployment's links, or None when the web side is off (no PUBLIC_URL)."""
    if not settings.web_enabled:
        return None
    return SurveyLinks(public_url=settings.public_url, secret=settings.secret_key, days=settings.survey_days)
