"""manage.py seed_service: the demo province's service desk — queues with staff, categories, knowledge articles
and tickets in every state with real clocks; once only."""

import io

import pytest
from django.core.management import CommandError, call_command

from channels.models import User
from service.models import KbArticle, SlaClock, Ticket, TicketCategory


def run(command: str, **options) -> str:
    out = io.StringIO()
    call_command(command, stdout=out, **options)
    return out.getvalue()


@pytest.mark.django_db
def test_the_demo_service_desk(agent):
    with pytest.raises(CommandError, match="seed_demo"):
        run("seed_service")
    run("seed_demo", customers=60, seed=7, contacts_per_customer=1, members_per_customer=0, months=1)
    out = run("seed_service", tickets=40, seed=7)
    assert "40" in out
    states = set(Ticket.objects.values_list("status", flat=True))
    assert {"new", "in_progress", "resolved"} <= states, states
    assert SlaClock.objects.filter(breached_at__isnull=False).exists()
    assert TicketCategory.objects.filter(parent__isnull=False, queue__code="billing").exists()
    assert KbArticle.objects.filter(kind="script", steps__isnull=False).exists()
    assert User.objects.filter(username__in=["noc_lin", "billing_xu"]).count() == 2
    assert "nothing to do" in run("seed_service")
