"""The web side's settings: refused at start with a message naming the variable."""

from __future__ import annotations

import pytest

from bot.config import SettingsError, load_settings
from tests.test_cli import run_cli
from tests.web import API_TOKEN, PUBLIC_URL, SECRET_KEY

WEB = {"public_url": PUBLIC_URL, "secret_key": SECRET_KEY}


@pytest.mark.parametrize("overrides, message", [
    ({"public_url": PUBLIC_URL}, "SECRET_KEY is invalid"),
    ({"public_url": PUBLIC_URL, "secret_key": "short"}, "at least 32 characters"),
    ({"public_url": PUBLIC_URL, "secret_key": "change-me"}, "SECRET_KEY is invalid"),
    ({"public_url": PUBLIC_URL, "secret_key": "a" * 40}, "SECRET_KEY is invalid"),
    ({"public_url": "desk.example.com", "secret_key": SECRET_KEY}, "PUBLIC_URL is invalid"),
    ({**WEB, "api_tokens": API_TOKEN}, "INTAKE_OWNERS is invalid"),
    ({**WEB, "api_tokens": "short-token", "intake_owner": "UALICE001"}, "API_TOKENS is invalid"),
    ({"api_tokens": API_TOKEN, "intake_owner": "UALICE001"}, "API_TOKENS is invalid: the intake API is served by the web side"),
    ({**WEB, "api_tokens": API_TOKEN, "intake_owner": "bob"}, "INTAKE_OWNER is invalid: 'bob' is not a Slack user id"),
    ({**WEB, "api_tokens": API_TOKEN, "intake_owner": "<@UALICE001>"}, "INTAKE_OWNER is invalid"),
    ({**WEB, "api_tokens": API_TOKEN, "intake_owners": "UALICE001,@carol"},
     "INTAKE_OWNERS is invalid: '@carol' is not a Slack user id"),
    ({**WEB, "api_tokens": API_TOKEN, "intake_owners": "ualice001"}, "INTAKE_OWNERS is invalid"),
    ({"trusted_proxies": "-1"}, "TRUSTED_PROXIES is invalid"),
    ({"trusted_proxies": "one"}, "TRUSTED_PROXIES is invalid"),
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
                             intake_owners="UALICE001, WBOB0002", survey_values="Speed, keeping  promises,speed",
                             smtp_url="smtp://user:p%40ss@mail.example.com:2525")
    assert settings.web_enabled and settings.public_url == PUBLIC_URL
    assert settings.api_tokens == (API_TOKEN,) and settings.intake_owners == ("UALICE001", "WBOB0002")
    assert settings.survey_values == ("speed", "keeping promises")
    assert not load_settings(env_file=None).web_enabled
    assert load_settings(env_file=None).trusted_proxies == 0
    assert load_settings(env_file=None, intake_owner=" UALICE001 ").intake_owner == "UALICE001"
    assert load_settings(env_file=None).survey_values == ("speed", "care", "knowledge", "fairness", "keeping promises")


def test_servicedesk_run_with_an_owner_that_is_no_slack_id_refuses_to_start_in_one_line(tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path}/desk.db", "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
           "PUBLIC_URL": PUBLIC_URL, "SECRET_KEY": SECRET_KEY, "API_TOKENS": API_TOKEN, "INTAKE_OWNERS": "UALICE001,bob"}
    result = run_cli("run", env=env, cwd=tmp_path, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "servicedesk: INTAKE_OWNERS is invalid: 'bob' is not a Slack user id: give the member ID from the person's "
        "Slack profile (⋮ → Copy member ID), e.g. U0123ABCD"]
    assert not (tmp_path / "desk.db").exists()


def test_the_smtp_url_gives_host_port_and_decoded_login():
    from bot.survey_mail import SmtpServer

    assert SmtpServer.from_url("smtp://user:p%40ss@mail.example.com:2525") == SmtpServer("mail.example.com", 2525, "user", "p@ss")
    assert SmtpServer.from_url("smtp://mail.example.com").port == 587
