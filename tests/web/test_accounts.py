"""Accounts as attacks: guessing an editor's password on the admin login is throttled (django-axes),
logged without the password, and undone by an administrator or by waiting; demo accounts exist only
in development."""

import datetime
import io
import logging

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import CommandError, call_command
from django.test import override_settings

pytestmark = pytest.mark.django_db

LOGIN_URL = "/admin/login/"
RIGHT = "the-right-password-42"
WRONG = "a-wrong-guess-{}"


def make_editor(name: str) -> User:
    user = User.objects.create_user(name, password=RIGHT, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def log_in(client, username: str, password: str):
    return client.post(LOGIN_URL, {"username": username, "password": password, "next": "/admin/"})


def logged_in(response) -> bool:
    return response.status_code == 302 and response["Location"] == "/admin/"


def guess_six_times(client, username: str):
    return [log_in(client, username, WRONG.format(i)) for i in range(6)]


@pytest.fixture
def erin():
    return make_editor("erin")


# ------------------------------------------------------------------ lockout


def test_six_wrong_passwords_lock_the_account_even_against_the_right_one(client, erin):
    responses = guess_six_times(client, "erin")
    assert [r.status_code for r in responses[:4]] == [200] * 4  # the login form again, with its error
    assert responses[5].status_code == 429
    refused = log_in(client, "erin", RIGHT)
    assert not logged_in(refused)
    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lockout_page_is_plain_and_says_what_to_do(client, erin):
    guess_six_times(client, "erin")
    page = log_in(client, "erin", RIGHT)
    assert page.status_code == 429
    assert page["Content-Type"].startswith("text/html")
    text = page.content.decode()
    assert "locked" in text and "15 minutes" in text and "administrator" in text
    assert RIGHT not in text


def test_failed_attempts_are_logged_without_the_password(client, erin, caplog):
    # caplog's handler sits on the root logger, beside the console handler settings.LOGGING gives
    # it: a record seen here propagated from axes' loggers to the console.
    with caplog.at_level(logging.INFO):
        guess_six_times(client, "erin")
    axes_warnings = [r for r in caplog.records if r.name.startswith("axes") and r.levelno >= logging.WARNING]
    messages = [r.getMessage() for r in axes_warnings]
    assert any("login failure" in m and "erin" in m and "/admin/login/" in m for m in messages), messages
    assert any("Locking out" in m for m in messages), messages
    assert "wrong-guess" not in caplog.text
    root_handlers = logging.getLogger().handlers
    assert any(type(h) is logging.StreamHandler for h in root_handlers), root_handlers


def test_the_password_is_not_stored_with_the_attempt(client, erin):
    from axes.models import AccessAttempt

    guess_six_times(client, "erin")
    attempt = AccessAttempt.objects.get(username="erin")
    assert attempt.failures_since_start >= 5
    assert "wrong-guess" not in attempt.post_data


def test_the_unlock_command_lets_the_right_password_in_again(client, erin):
    guess_six_times(client, "erin")
    assert log_in(client, "erin", RIGHT).status_code == 429
    out = io.StringIO()
    call_command("axes_reset_username", "erin", stdout=out)
    assert "attempts removed" in out.getvalue()
    assert logged_in(log_in(client, "erin", RIGHT))


def test_a_locked_account_recovers_by_itself_after_the_cool_off(client, erin):
    from axes.models import AccessAttempt

    guess_six_times(client, "erin")
    assert log_in(client, "erin", RIGHT).status_code == 429
    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=16)
    )
    assert logged_in(log_in(client, "erin", RIGHT))


def test_another_user_from_the_same_address_is_not_locked(client, erin):
    make_editor("rita")
    guess_six_times(client, "erin")
    assert logged_in(log_in(client, "rita", RIGHT))


def test_one_address_cannot_lock_every_account(client, erin):
    """Guessing a name that does not exist, many times, from one address locks nobody real."""
    for name in ("admin", "root", "editor"):
        guess_six_times(client, name)
    assert logged_in(log_in(client, "erin", RIGHT))


def test_the_locked_user_can_still_log_in_from_another_address(client, erin):
    guess_six_times(client, "erin")
    elsewhere = client.post(
        LOGIN_URL, {"username": "erin", "password": RIGHT, "next": "/admin/"}, REMOTE_ADDR="10.0.0.7"
    )
    assert logged_in(elsewhere)


# ------------------------------------------------------------------ demo accounts


@override_settings(DEBUG=False)
def test_demo_accounts_are_refused_in_production():
    with pytest.raises(CommandError, match="DJANGO_DEBUG=1"):
        call_command("setup_roles", "--demo", stdout=io.StringIO())
    assert not User.objects.filter(username__in=["editor", "reviewer", "reviewer2", "auditor"]).exists()


@override_settings(DEBUG=False)
def test_roles_without_demo_accounts_are_set_up_in_production():
    out = io.StringIO()
    call_command("setup_roles", stdout=out)
    assert "Roles ready" in out.getvalue()


@override_settings(DEBUG=True)
def test_demo_accounts_are_created_in_development():
    out = io.StringIO()
    call_command("setup_roles", "--demo", stdout=out)
    assert set(User.objects.filter(is_staff=True).values_list("username", flat=True)) >= {
        "editor",
        "reviewer",
        "reviewer2",
        "auditor",
    }
    assert "Demo accounts created" in out.getvalue()
