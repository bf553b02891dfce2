#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kam.settings")
    # A bare `manage.py` in a checkout without any configuration is a developer's run: development
    # settings. A configured shell (DJANGO_SECRET_KEY or DJANGO_DEBUG set, as bin/run, CI and production
    # do) is left alone, and the web server (wsgi.py) and Celery never get this default.
    if "DJANGO_DEBUG" not in os.environ and "DJANGO_SECRET_KEY" not in os.environ:
        os.environ["DJANGO_DEBUG"] = "1"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
