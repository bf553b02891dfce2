"""SMS gateway interface. The operator's SMS gateway (outside this system) plugs in behind
`SmsBackend`; the shipped backend logs the message. Choose one with settings.SMS_BACKEND."""

import logging
from abc import ABC, abstractmethod

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("kam.sms")


class SmsBackend(ABC):
    """The interface of an SMS gateway: send one text to one mobile number."""

    @abstractmethod
    def send(self, mobile: str, text: str) -> bool:
        """Return True when the gateway accepted the message."""


class LoggingSmsBackend(SmsBackend):
    """Writes the message to the `kam.sms` log instead of a gateway (development, demo, tests)."""

    def send(self, mobile: str, text: str) -> bool:
        logger.info("SMS to %s: %s", mobile, text)
        return True


def get_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(mobile: str, text: str) -> bool:
    if not mobile:
        return False
    return get_backend().send(mobile, text)
