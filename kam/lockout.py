"""Login lockout: django-axes, wired for KAM (settings "Signing in"; README "Signing in and tokens").

Axes counts the failed logins of every view that calls `authenticate(request=..., ...)`: the login page, the admin
login and the API token view (`channels.api.tokens`). The rules:

- an account is locked *from one address* after AXES_FAILURE_LIMIT failures (lockout parameters
  [username, ip_address]): a colleague behind the same office address is not locked by someone else's typos, and
  nobody elsewhere can lock an account out by guessing at it;
- an address is locked for every account after KAM_LOGIN_FAILURE_LIMIT_PER_ADDRESS failures (password spraying:
  a few guesses at many accounts). Axes has one limit for all its lockout parameters; its maintainers point to a
  handler for a second one (jazzband/django-axes#661): `LockoutHandler`;
- a lock lifts AXES_COOLOFF_TIME after the last failed attempt. An attempt while locked is refused, recorded and
  restarts the wait (axes' default), so the time to retry is always "now + cool-off" (`retry_at`);
- an admin unlocks sooner: the staff list's "unlock" action, the axes admin pages (delete the access attempts) or
  `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`.

The address is REMOTE_ADDR, or behind KAM_TRUSTED_PROXIES reverse proxies the X-Forwarded-For entry that the
outermost of them appended (`client_address`): what a client writes into the header itself stays to the left of
it and changes nothing."""

import ipaddress
import math
from datetime import datetime

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _


def client_address(request) -> str | None:
    """The address failed logins are counted against (AXES_CLIENT_IP_CALLABLE)."""
    remote = _valid(request.META.get("REMOTE_ADDR"))
    proxies = settings.KAM_TRUSTED_PROXIES
    if not proxies:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < proxies:
        return remote  # not through the proxies (or they are misconfigured): the peer itself
    return _valid(hops[-proxies]) or remote


def _valid(address: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None


class LockoutHandler(AxesDatabaseHandler):
    """Axes' database handler, plus the per-address limit on top of the per-account one."""

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        per_address = settings.KAM_LOGIN_FAILURE_LIMIT_PER_ADDRESS
        if per_address and request.axes_ip_address:
            from_address = AccessAttempt.objects.filter(
                ip_address=request.axes_ip_address, attempt_time__gte=get_cool_off_threshold(request)
            ).aggregate(failures=Sum("failures_since_start"))["failures"]
            if (from_address or 0) >= per_address:
                return max(failures, get_failure_limit(request, credentials))
        return failures


def retry_at(request) -> datetime:
    """When a login refused for a lockout may be tried again (each attempt while locked restarts the wait)."""
    return (getattr(request, "axes_attempt_time", None) or timezone.now()) + get_cool_off(request)


def lockout_message(when: datetime) -> str:
    when = formats.date_format(timezone.localtime(when), "DATETIME_FORMAT")
    return _("Too many failed logins. Try again after %(time)s.") % {"time": when}


def retry_after_seconds(when: datetime) -> int:
    return max(1, math.ceil((when - timezone.now()).total_seconds()))


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: the page a locked-out login gets (login page and admin), HTTP 429."""
    when = retry_at(request)
    response = render(request, "registration/locked_out.html", {"message": lockout_message(when)}, status=429)
    response["Retry-After"] = str(retry_after_seconds(when))
    return response
