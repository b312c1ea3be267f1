"""The web side's settings: refused at start with a message naming the variable."""

from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings
from tests.web import API_TOKEN, PUBLIC_URL, SECRET_KEY

WEB = {"public_url": PUBLIC_URL, "secret_key": SECRET_KEY}


@pytest.mark.parametrize("overrides, message", [
    ({"public_url": PUBLIC_URL}, "SECRET_KEY is invalid"),
    ({"public_url": PUBLIC_URL, "secret_key": "short"}, "at least 32 characters"),
    ({"public_url": PUBLIC_URL, "secret_key": "change-me"}, "SECRET_KEY is invalid"),
    ({"public_url": PUBLIC_URL, "secret_key": "a" * 40}, "SECRET_KEY is invalid"),
    ({"public_url": "desk.example.com", "secret_key": SECRET_KEY}, "PUBLIC_URL is invalid"),
    ({**WEB, "api_tokens": API_TOKEN}, "INTAKE_OWNERS is invalid"),
    ({**WEB, "api_tokens": "short-token", "intake_owner": "U1"}, "API_TOKENS is invalid"),
    ({"api_tokens": API_TOKEN, "intake_owner": "U1"}, "API_TOKENS is invalid: the intake API is served by the web side"),
    ({"smtp_url": "smtp://mail.example.com"}, "SMTP_URL is invalid: survey e-mails carry links"),
    ({**WEB, "smtp_url": "smtps://mail.example.com:465"}, "SMTP_URL is invalid"),
    ({"survey_values": ",,"}, "SURVEY_VALUES is invalid"),
    ({"survey_values": "x" * 41}, "SURVEY_VALUES is invalid"),
])
def test_a_wrong_web_setting_is_refused_naming_it(overrides, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env_file=None, **overrides)


def test_good_web_settings():
    settings = load_settings(env_file=None, secret_key=SECRET_KEY, public_url=PUBLIC_URL + "/", api_tokens=f" {API_TOKEN} ,",
                             intake_owners="U1,U2", survey_values="Speed, keeping  promises,speed",
                             smtp_url="smtp://user:p%40ss@mail.example.com:2525")
    assert settings.web_enabled and settings.public_url == PUBLIC_URL
    assert settings.api_tokens == (API_TOKEN,) and settings.intake_owners == ("U1", "U2")
    assert settings.survey_values == ("speed", "keeping promises")
    assert not load_settings(env_file=None).web_enabled
    assert load_settings(env_file=None).survey_values == ("speed", "care", "knowledge", "fairness", "keeping promises")


def test_the_smtp_url_gives_host_port_and_decoded_login():
    from bot.survey_mail import SmtpServer

    assert SmtpServer.from_url("smtp://user:p%40ss@mail.example.com:2525") == SmtpServer("mail.example.com", 2525, "user", "p@ss")
    assert SmtpServer.from_url("smtp://mail.example.com").port == 587
