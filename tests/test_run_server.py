"""The web server of `bin/run`, started from its configuration file as bin/run starts it."""

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).with_name("gunicorn")


def test_gunicorn_logs_in_the_sites_time_zone_like_the_app():
    """Its own lines ("Starting gunicorn", "Listening at") carry the same UTC offset as the app's log lines,
    even when the shell that starts it lives in another zone."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "TZ": "UTC", "DJANGO_DEBUG": "1", "DJANGO_SECURE_HTTPS": "0"}
    server = subprocess.Popen(
        [str(GUNICORN), "--config", "kam/gunicorn.conf.py", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline, lines = time.monotonic() + 60, []
        while time.monotonic() < deadline:
            line = server.stderr.readline()
            lines.append(line)
            if "Listening at" in line or not line:
                break
    finally:
        server.terminate()
        server.wait(timeout=10)
    listening = next((line for line in lines if "Listening at" in line), None)
    assert listening, "gunicorn did not start:\n" + "".join(lines)
    offset = re.search(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ([+-]\d{4})\]", listening).group(1)
    site_offset = timezone.now().astimezone(timezone.get_default_timezone()).strftime("%z")
    assert settings.TIME_ZONE != "UTC" and offset == site_offset == "+0800"
