"""API sign-in: get a token for a username and password, list your tokens, revoke one or all (channels.tokens).

The token view authenticates with the request, so django-axes counts its failures like the login page's
(kam.lockout): a locked-out login gets 429 with the time to retry, in the API's one error format."""

import copy

from django.contrib.auth import authenticate
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.signals import user_logged_in
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from knox.auth import TokenAuthentication
from knox.models import AuthToken
from rest_framework import exceptions, mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from channels.tokens import api_token_issue, api_token_revoke, api_tokens, api_tokens_revoke_all
from kam.api.errors import INVALID, NOT_FOUND, ErrorSerializer
from kam.api.fields import StrictCharField
from kam.api.viewsets import ScopedViewSet, validated
from kam.lockout import lockout_message, retry_after_seconds, retry_at

LOCKED_OUT = {
    429: OpenApiResponse(
        ErrorSerializer, description="Locked out: too many failed logins for this account from this address (or "
        "for any account from it). `detail` and the `Retry-After` header say when to try again."
    )
}  # fmt: skip


class LoginLockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"

    def __init__(self, when):
        super().__init__(lockout_message(when))
        self.wait = retry_after_seconds(when)  # DRF's exception handler turns it into Retry-After


class PasswordField(serializers.CharField):
    """A JSON string, taken as typed: any character the login page accepts (StrictCharField refuses some)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class CredentialsSerializer(serializers.Serializer):
    username = StrictCharField(max_length=150)
    password = PasswordField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Send it as `Authorization: Token <token>`. Shown only this once."))
    expiry = serializers.DateTimeField(help_text=_("The token stops working at this time."))


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as lists show it: never the token itself, nor its hash."""

    prefix = serializers.CharField(source="token_key", read_only=True, help_text=_("The token's first characters."))
    current = serializers.SerializerMethodField(help_text=_("Whether this request was sent with this token."))

    class Meta:
        model = AuthToken
        fields = ["prefix", "created", "expiry", "current"]
        read_only_fields = fields

    def get_current(self, obj) -> bool:
        auth = getattr(self.context["request"], "auth", None)
        return isinstance(auth, AuthToken) and auth.pk == obj.pk


@method_decorator(login_not_required, name="dispatch")
class ObtainTokenView(APIView):
    """POST username and password, get a token for the `Authorization: Token <token>` header, and its expiry."""

    authentication_classes = []  # the credentials are in the body; no session, so no CSRF token either
    permission_classes = [AllowAny]

    @extend_schema(
        summary="Get an API token",
        request=CredentialsSerializer,
        responses={200: TokenSerializer, **INVALID, **LOCKED_OUT},
    )
    def post(self, request):
        credentials = validated(CredentialsSerializer, request)
        user = authenticate(request, username=credentials["username"], password=credentials["password"])
        if user is None:
            if getattr(request, "axes_locked_out", False):
                raise LoginLockedOut(retry_at(request))
            raise exceptions.ValidationError({"non_field_errors": [_("Unable to log in with provided credentials.")]})
        token, secret = api_token_issue(user=user)
        # last_login and axes' record of the login, as for the login page; but axes would open a session to tell
        # logins apart, and an API client gets no session (nor its cookie): it sees a copy without one.
        user_logged_in.send(sender=type(user), request=_sessionless(request), user=user)
        return Response(TokenSerializer({"token": secret, "expiry": token.expiry}).data)


def _sessionless(request):
    bare = copy.copy(request._request)
    bare.__dict__.pop("session", None)
    return bare


class LogoutView(APIView):
    """Revoke the token this request was sent with."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="Log out: revoke this token", request=None, responses={204: None})
    def post(self, request):
        request.auth.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="My API tokens", description="Live tokens, newest first; never the tokens themselves."),
    destroy=extend_schema(
        summary="Revoke one of my API tokens",
        parameters=[OpenApiParameter("prefix", str, OpenApiParameter.PATH, description="The `prefix` from the list.")],
        responses={204: None, **NOT_FOUND},
    ),
)
class ApiTokenViewSet(mixins.ListModelMixin, ScopedViewSet):
    queryset = AuthToken.objects.none()  # types the schema; get_queryset is the caller's own tokens
    serializer_class = ApiTokenSerializer
    permission_classes = [IsAuthenticated]  # read-only roles revoke their own tokens too
    pagination_class = None  # at most KAM_API_TOKENS_PER_USER
    filter_backends = []
    lookup_field = "token_key"
    lookup_url_kwarg = "prefix"

    def get_queryset(self):
        return api_tokens().visible_to(self.request.user).filter(expiry__gt=timezone.now()).order_by("-created")

    def destroy(self, request, prefix=None):
        if not api_token_revoke(user=request.user, prefix=prefix):
            raise exceptions.NotFound()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Revoke all my API tokens",
        request=None,
        responses=inline_serializer("RevokedTokens", {"revoked": serializers.IntegerField()}),
    )
    @action(detail=False, methods=["post"], url_path="revoke-all")
    def revoke_all(self, request):
        return Response({"revoked": api_tokens_revoke_all(user=request.user)})
