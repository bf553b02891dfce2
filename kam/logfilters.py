"""Logging filters (settings.LOGGING): keep the logs for what needs reading.

- An expected denial (a 403 or 404 that a view raised on purpose: someone opened what their role may not)
  is one warning line, not a traceback; server errors keep theirs.
- kombu's "No hostname was supplied" is noise on the embedded filesystem broker, which has no host."""

import logging


class ExpectedDenials(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if status is not None and status < 500:
            record.exc_info, record.exc_text = None, None
        return True


class NoHostnameNoise(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("No hostname was supplied")
