"""API tokens (channels.tokens, django-rest-knox): issued for a username and password, expiring, listed without
their secret, revocable one by one or all at once, and revoked with every session when the password changes or
the account is deactivated."""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.contrib.auth.hashers import make_password
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from channels.models import Role, User
from tests.channels.factories import UserFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/"
PASSWORD = "pw-123456"


def issue(username: str) -> str:
    response = APIClient().post(f"{API}auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["token"]


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def works(token: str) -> bool:
    return token_client(token).get(f"{API}notifications/").status_code == 200


def test_a_token_answers_with_its_expiry_and_works_until_then(am):
    with time_machine.travel(timezone.now(), tick=False) as traveller:
        response = APIClient().post(f"{API}auth/token/", {"username": "am", "password": PASSWORD}, format="json")
        body = response.json()

        assert set(body) == {"token", "expiry"} and "Set-Cookie" not in str(response.cookies)
        assert AuthToken.objects.get(user=am).expiry == timezone.now() + timedelta(hours=10)
        assert works(body["token"])
        traveller.shift(timedelta(hours=9, minutes=59))
        assert works(body["token"])
        traveller.shift(timedelta(minutes=2))
        response = token_client(body["token"]).get(f"{API}notifications/")
        assert response.status_code == 401 and set(response.json()) == {"detail"}


def test_integration_logins_get_longer_tokens_than_people(db):
    UserFactory(username="billing", role=Role.INTEGRATION)
    issue("billing")

    assert AuthToken.objects.get().expiry > timezone.now() + timedelta(days=29)


def test_the_token_list_shows_prefixes_never_the_tokens(am):
    first, second = issue("am"), issue("am")

    response = token_client(second).get(f"{API}auth/tokens/")

    assert response.status_code == 200
    rows = response.json()
    assert [row["prefix"] for row in rows] == [second[:15], first[:15]]
    assert [row["current"] for row in rows] == [True, False]
    assert set(rows[0]) == {"prefix", "created", "expiry", "current"}
    text = response.content.decode()
    assert first not in text and second not in text
    assert not any(token.digest in text for token in AuthToken.objects.all())


def test_revoking_one_token_leaves_the_others(am):
    first, second = issue("am"), issue("am")

    assert token_client(second).delete(f"{API}auth/tokens/{first[:15]}/").status_code == 204

    assert not works(first) and works(second)


def test_another_persons_token_is_a_404_and_stays(am, outsider):
    mine, theirs = issue("am"), issue("outsider")

    response = token_client(mine).delete(f"{API}auth/tokens/{theirs[:15]}/")

    assert response.status_code == 404 and set(response.json()) == {"detail"}
    assert works(theirs)
    assert theirs[:15] not in token_client(mine).get(f"{API}auth/tokens/").content.decode()


def test_logout_revokes_this_token_and_revoke_all_every_one(am, outsider):
    first, second, third, theirs = issue("am"), issue("am"), issue("am"), issue("outsider")

    assert token_client(first).post(f"{API}auth/logout/").status_code == 204
    assert not works(first) and works(second)
    response = token_client(second).post(f"{API}auth/tokens/revoke-all/")

    assert response.json() == {"revoked": 2}
    assert not works(second) and not works(third) and works(theirs)


def test_a_client_that_never_logs_out_keeps_only_the_newest_tokens(settings, am):
    settings.KAM_API_TOKENS_PER_USER = 2
    first, second, third = issue("am"), issue("am"), issue("am")

    assert not works(first) and works(second) and works(third)


def test_a_password_change_revokes_every_token_and_ends_other_sessions(client, am):
    token = issue("am")
    client.force_login(am)

    am.set_password("a-new-long-passphrase")
    am.save()

    assert not works(token)
    assert client.get(reverse("home")).status_code == 302  # Django: the session carried the old password's hash


def test_the_admin_password_change_revokes_every_token(client, admin_user, am):
    token = issue("am")
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:auth_user_password_change", args=[am.pk]),
        {"password1": "a-new-long-passphrase", "password2": "a-new-long-passphrase", "usable_password": "true"},
    )

    assert response.status_code == 302
    assert not works(token)


def test_deactivation_revokes_every_token_and_ends_the_session(client, am):
    token = issue("am")
    client.force_login(am)

    am.is_active = False
    am.save()

    assert not AuthToken.objects.filter(user=am).exists()
    assert client.get(reverse("home")).status_code == 302  # Django no longer loads an inactive user's session
    assert not works(token)


def test_saving_a_user_otherwise_or_rehashing_the_same_password_keeps_the_tokens(am):
    token = issue("am")
    weak_hash = make_password(PASSWORD, salt="ab", hasher="md5")  # a salt too short: Django rehashes it at login
    User.objects.filter(pk=am.pk).update(password=weak_hash)

    am.display_name = "张经理"
    am.save()
    am.refresh_from_db()
    assert am.check_password(PASSWORD)

    am.refresh_from_db()
    assert am.password != weak_hash  # rehashed and saved
    assert works(token)


@pytest.mark.parametrize("body", [{"username": "am", "password": 12345678901234}, {"username": "am"}, {}])
def test_malformed_credentials_are_a_400_and_no_failed_login(am, body):
    response = APIClient().post(f"{API}auth/token/", body, format="json")

    assert response.status_code == 400 and "password" in response.json()["errors"]
    assert not AccessAttempt.objects.exists()


def test_a_deactivated_account_gets_no_token(am):
    am.is_active = False
    am.save()

    response = APIClient().post(f"{API}auth/token/", {"username": "am", "password": PASSWORD}, format="json")

    assert response.status_code == 400 and "token" not in response.json()
