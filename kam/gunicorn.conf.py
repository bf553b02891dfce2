"""gunicorn settings for `bin/run`: the web server of the zero-setup run.

One clock in every log: Django sets the process's TZ from TIME_ZONE when the settings load, but gunicorn's
master logs ("Booting worker", "Listening at") before the app is loaded, in the zone it inherited. Loading the
settings here sets it first, so gunicorn's lines and the app's carry the same offset."""

import os
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")

from django.conf import settings  # noqa: E402  (after the settings module is named)

os.environ["TZ"] = settings.TIME_ZONE
time.tzset()

wsgi_app = "kam.wsgi:application"
workers = 2
timeout = 30
accesslog = "-"
