"""channels.notifications: in-app rows, delivery by e-mail (and SMS when urgent) exactly once, read state."""

import logging

import pytest
from django.core import mail

from channels import notifications
from channels.models import Notification
from kam import sms
from tests.channels.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(db):
    return {
        "mail_and_mobile": UserFactory(email="a@kam.example", mobile="13900000001"),
        "mail_only": UserFactory(email="b@kam.example", mobile=""),
        "mobile_only": UserFactory(email="", mobile="13900000003"),
        "nothing": UserFactory(email="", mobile=""),
    }


def sms_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.name == "kam.sms"]


def test_notify_records_one_row_per_distinct_active_recipient(people):
    a = people["mail_and_mobile"]
    gone = UserFactory(is_active=False, email="gone@kam.example")
    rows = notifications.notify([a, None, a, gone, people["nothing"]], kind="opportunity", title="新商机")
    assert len(rows) == 2
    assert set(Notification.objects.values_list("recipient", flat=True)) == {a.pk, people["nothing"].pk}
    assert notifications.notify([None, gone], kind="opportunity", title="x") == []


def test_deliver_mails_each_notification_with_an_address_and_texts_only_urgent_ones_with_a_mobile(
    people, caplog, settings
):
    settings.SITE_URL = "https://kam.example/"
    everyone = list(people.values())
    notifications.notify(everyone, kind="opportunity", title="普通通知", body="正文", link="/opportunities/1/")
    notifications.notify(everyone, kind="claim_overdue", title="紧急：认领超时", urgent=True)

    with caplog.at_level(logging.INFO, logger="kam.sms"):
        assert notifications.deliver() == 8

    assert sorted((m.to[0], m.subject) for m in mail.outbox) == [
        ("a@kam.example", "普通通知"), ("a@kam.example", "紧急：认领超时"),
        ("b@kam.example", "普通通知"), ("b@kam.example", "紧急：认领超时"),
    ]  # fmt: skip
    plain = next(m for m in mail.outbox if m.subject == "普通通知")
    assert "正文" in plain.body and "https://kam.example/opportunities/1/" in plain.body
    assert sorted(sms_lines(caplog)) == ["SMS to 13900000001: 紧急：认领超时", "SMS to 13900000003: 紧急：认领超时"]
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_a_second_delivery_sends_nothing_more(people, caplog):
    notifications.notify(people.values(), kind="claim_overdue", title="紧急", urgent=True)
    with caplog.at_level(logging.INFO, logger="kam.sms"):
        notifications.deliver()
        mails, texts = len(mail.outbox), len(sms_lines(caplog))
        assert notifications.deliver() == 0
        ids = list(Notification.objects.values_list("pk", flat=True))
        assert notifications.deliver(ids) == 0
    assert (len(mail.outbox), len(sms_lines(caplog))) == (mails, texts) == (2, 2)


def test_deliver_with_ids_sends_only_those(people):
    first = notifications.notify([people["mail_only"]], kind="x", title="一")
    notifications.notify([people["mail_only"]], kind="x", title="二")
    assert notifications.deliver([first[0].pk]) == 1
    assert [m.subject for m in mail.outbox] == ["一"]
    assert notifications.deliver() == 1  # the sweep sends the rest
    assert [m.subject for m in mail.outbox] == ["一", "二"]


def test_notifications_are_delivered_after_commit(people, eager_celery, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notifications.notify([people["mail_only"]], kind="x", title="提交后发送")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.subject for m in mail.outbox] == ["提交后发送"]


def test_a_broker_that_is_down_leaves_the_notification_unsent_for_the_sweep(
    people, monkeypatch, django_capture_on_commit_callbacks
):
    from kombu.exceptions import OperationalError

    from channels.tasks import deliver_notifications

    def broker_down(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(deliver_notifications, "apply_async", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify([people["mail_only"]], kind="x", title="稍后发送")
    assert Notification.objects.get().sent_at is None
    monkeypatch.undo()
    assert deliver_notifications() == 1
    assert [m.subject for m in mail.outbox] == ["稍后发送"]


def test_mark_read_and_unread_count(people):
    me, other = people["mail_only"], people["nothing"]
    rows = notifications.notify([me], kind="x", title="一")
    notifications.notify([me], kind="x", title="二")
    notifications.notify([other], kind="x", title="别人的")
    assert notifications.unread_count(me) == 2

    assert notifications.mark_read(me, [rows[0].pk]) == 1
    assert notifications.unread_count(me) == 1
    theirs = Notification.objects.get(recipient=other)
    assert notifications.mark_read(me, [theirs.pk]) == 0  # another person's notification stays unread
    assert notifications.unread_count(other) == 1
    assert notifications.mark_read(me) == 1
    assert notifications.unread_count(me) == 0
    assert notifications.mark_read(me) == 0


def test_sms_backend_interface(settings, caplog):
    settings.SMS_BACKEND = "kam.sms.LoggingSmsBackend"
    with caplog.at_level(logging.INFO, logger="kam.sms"):
        assert sms.send_sms("13900000009", "你好") is True
        assert sms.send_sms("", "无号码") is False
    assert sms_lines(caplog) == ["SMS to 13900000009: 你好"]
    with pytest.raises(TypeError):  # a gateway backend must implement send()
        sms.SmsBackend()


class BrokenGateway(sms.SmsBackend):
    def send(self, mobile, text):
        raise ConnectionError("gateway down")


def test_a_failing_sms_gateway_does_not_stop_the_batch(people, settings, caplog):
    settings.SMS_BACKEND = "tests.opportunities.test_notifications.BrokenGateway"
    notifications.notify(people.values(), kind="claim_overdue", title="紧急", urgent=True)
    with caplog.at_level(logging.WARNING, logger="kam.notifications"):
        assert notifications.deliver() == 4
    assert len(mail.outbox) == 2
    assert not Notification.objects.filter(sent_at__isnull=True).exists()
    assert any("not delivered" in r.getMessage() for r in caplog.records)
