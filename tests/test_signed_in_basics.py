"""Two small guards of signing in: answers to signed-in requests are never stored by a browser or proxy
(kam.middleware.NoStoreWhenSignedInMiddleware), and passwords follow AUTH_PASSWORD_VALIDATORS."""

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


def test_pages_and_api_answers_to_signed_in_requests_are_not_stored(client, am):
    assert "no-store" not in client.get(reverse("home")).get("Cache-Control", "")  # anonymous: the redirect to login

    client.force_login(am)
    assert "no-store" in client.get(reverse("home"))["Cache-Control"]
    assert "no-store" in client.get("/api/v1/notifications/")["Cache-Control"]

    token = APIClient().post("/api/v1/auth/token/", {"username": "am", "password": "pw-123456"}, format="json")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.json()['token']}")
    assert "no-store" in api.get("/api/v1/notifications/")["Cache-Control"]


@pytest.mark.parametrize("password", ["short-pw-1", "password1234", "123456789012345", "zhangsan-kam-1"])
def test_short_common_numeric_and_look_alike_passwords_are_refused(am, password):
    am.username, am.first_name = "zhangsan", "zhangsan"
    with pytest.raises(ValidationError):
        validate_password(password, am)


def test_the_demo_password_and_long_passphrases_pass(am):
    validate_password(settings.DEMO_PASSWORD, am)
    validate_password("长城宽带-客户经理-" + "x" * 64, am)  # ASVS: 64 characters and more are allowed
