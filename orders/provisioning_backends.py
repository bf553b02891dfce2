"""Provisioning-system interface (BOSS direct activation). The operator's provisioning system (outside this
system) plugs in behind `ProvisioningBackend`; the shipped backend logs the command and answers a reference.
Choose one with settings.KAM_PROVISIONING_BACKEND (a dotted path), like the SMS backend (kam/sms.py)."""

import logging
import uuid
from abc import ABC, abstractmethod

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("kam.provisioning")


class ProvisioningError(Exception):
    """The provisioning system refused the command or could not be reached (an interface failure: IT support
    answers for it in the four-level assessment)."""


class ProvisioningBackend(ABC):
    """The interface of the provisioning system: activate one order line."""

    @abstractmethod
    def activate(self, line) -> str:
        """Send the activation command for `line`; return the system's reference. Raise ProvisioningError on an
        interface failure."""


class LoggingProvisioningBackend(ProvisioningBackend):
    """Writes the command to the `kam.provisioning` log instead of a provisioning system (development, demo,
    tests)."""

    def activate(self, line) -> str:
        reference = f"PV{uuid.uuid4().hex[:12].upper()}"
        logger.info("Activate order line %s (product %s, quantity %s): %s", line.pk, line.product_id, line.quantity,
                    reference)  # fmt: skip
        return reference


def get_backend() -> ProvisioningBackend:
    return import_string(settings.KAM_PROVISIONING_BACKEND)()
