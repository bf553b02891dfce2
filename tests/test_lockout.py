"""Brute-force protection of both logins (kam.lockout): 5 failures lock the account from that address for an hour,
on the login page and on POST /api/v1/auth/token/ alike; other accounts and other addresses are not locked; every
failure is on record in admin, and an admin unlocks. Axes keeps its counts in the database, so each test's
rollback forgets them."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kam.lockout import client_address

pytestmark = pytest.mark.django_db

PASSWORD = "pw-123456"  # the factories' password
TOKEN_URL = "/api/v1/auth/token/"


def page_login(client, username, password, **extra):
    return client.post(reverse("login"), {"username": username, "password": password}, **extra)


def api_login(username, password, **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password}, format="json", **extra)


def test_five_wrong_passwords_lock_the_login_page_until_the_cool_off_ends(client, am):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        for _attempt in range(4):
            assert page_login(client, "am", "wrong").status_code == 200  # the form again, with its error
        fifth = page_login(client, "am", "wrong")
        right = page_login(client, "am", PASSWORD)

        assert fifth.status_code == right.status_code == 429
        assert "Too many failed logins. Try again after" in right.content.decode()
        assert int(right["Retry-After"]) == 3600
        assert "_auth_user_id" not in client.session
        assert client.get(reverse("home")).status_code == 302  # still signed out

        traveller.shift(timedelta(minutes=61))  # an hour after the last attempt
        assert page_login(client, "am", PASSWORD).status_code == 302
        assert client.get(reverse("home")).status_code == 200


def test_five_wrong_passwords_lock_the_api_token_view_with_the_api_error_format(am):
    for _attempt in range(4):
        assert api_login("am", "wrong").status_code == 400
    fifth = api_login("am", "wrong")
    response = api_login("am", PASSWORD)

    assert fifth.status_code == response.status_code == 429
    assert set(response.json()) == {"detail"} and "Try again after" in response.json()["detail"]
    assert int(response["Retry-After"]) > 3500
    assert "token" not in response.json()


def test_failures_count_across_the_page_and_the_api(client, am):
    for _attempt in range(3):
        page_login(client, "am", "wrong")
    for _attempt in range(2):
        api_login("am", "wrong")

    assert api_login("am", PASSWORD).status_code == 429


def test_another_account_at_the_same_address_is_not_locked(client, am, teammate):
    for _attempt in range(5):
        page_login(client, "am", "wrong")

    assert page_login(client, "am", PASSWORD).status_code == 429
    assert api_login("mate", PASSWORD).status_code == 200
    assert page_login(client, "mate", PASSWORD).status_code == 302


def test_the_account_is_not_locked_from_another_address(am):
    for _attempt in range(5):
        api_login("am", "wrong", REMOTE_ADDR="10.1.1.1")

    assert api_login("am", PASSWORD, REMOTE_ADDR="10.1.1.1").status_code == 429
    assert api_login("am", PASSWORD, REMOTE_ADDR="10.2.2.2").status_code == 200


def test_an_address_spraying_many_accounts_is_locked_for_all_of_them(settings, am, teammate):
    settings.KAM_LOGIN_FAILURE_LIMIT_PER_ADDRESS = 6
    for username in ("a", "b", "c", "d", "e", "f"):
        api_login(username, "wrong", REMOTE_ADDR="10.3.3.3")

    assert api_login("am", PASSWORD, REMOTE_ADDR="10.3.3.3").status_code == 429
    assert api_login("mate", PASSWORD, REMOTE_ADDR="10.4.4.4").status_code == 200


def test_failed_logins_are_on_record_and_in_admin(client, admin_user, am):
    for _attempt in range(5):
        page_login(client, "am", "wrong")
    api_login("am", "wrong")

    attempt = AccessAttempt.objects.get(username="am")
    assert attempt.failures_since_start == 6 and attempt.ip_address == "127.0.0.1"
    assert "wrong" not in attempt.post_data  # the password is masked
    assert AccessFailureLog.objects.filter(username="am").count() == 6
    assert AccessFailureLog.objects.filter(username="am", locked_out=True).count() == 2
    client.force_login(admin_user)
    for model in ("accessattempt", "accessfailurelog"):
        page = client.get(reverse(f"admin:axes_{model}_changelist"))
        assert page.status_code == 200 and "127.0.0.1" in page.content.decode()


def test_an_admin_unlocks_from_the_staff_list(client, admin_user, am, teammate):
    for _attempt in range(5):
        api_login("am", "wrong")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:channels_user_changelist"),
        {"action": "unlock_logins", "_selected_action": [am.pk, teammate.pk]},
        follow=True,
    )

    assert "failed-login records removed: 1" in response.content.decode()
    assert not AccessAttempt.objects.exists() and AccessFailureLog.objects.count() == 5  # the record stays
    assert api_login("am", PASSWORD).status_code == 200


def test_the_reset_command_unlocks_too(am):
    for _attempt in range(5):
        api_login("am", "wrong")

    call_command("axes_reset_username", "am", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert api_login("am", PASSWORD).status_code == 200


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "203.0.113.9", "10.0.0.5"),  # not behind a proxy: the header is ignored
        (1, "203.0.113.9", "203.0.113.9"),  # what the proxy appended
        (1, "1.1.1.1, 203.0.113.9", "203.0.113.9"),  # the client's own forged entry is on the left
        (2, "1.1.1.1, 203.0.113.9, 10.0.0.7", "203.0.113.9"),
        (2, "203.0.113.9", "10.0.0.5"),  # fewer hops than proxies: not through them
        (1, "not-an-address", "10.0.0.5"),
    ],
)
def test_client_address_trusts_only_what_the_proxies_appended(rf, settings, proxies, forwarded, expected):
    settings.KAM_TRUSTED_PROXIES = proxies
    request = rf.post("/login/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected
