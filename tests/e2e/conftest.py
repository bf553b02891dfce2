"""Browser tests: Playwright's sync API on Debian's Chromium (ECOSYSTEM.md §2.16).

Every page the test opens is watched: a Content-Security-Policy violation or an uncaught script error
fails the test, and a failing test leaves a screenshot in test-results/."""

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

# Assertions wait up to 15 s (Playwright's default is 5 s): CI runs the browser next to a loaded database.
expect.set_options(timeout=15_000)

CHROMIUM = "/usr/bin/chromium"
RESULTS = Path(__file__).resolve().parents[2] / "test-results"


def pytest_collection_modifyitems(config, items):
    if os.path.exists(CHROMIUM):
        return
    skip = pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--headless",
        ],
    }  # fmt: skip


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # The users' browsers ask for Chinese; the interface must start in Chinese without a choice.
    return {**browser_context_args, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"report_{report.when}", report)


@pytest.fixture
def watched_page(page, request):
    """The Playwright page, with its console and script errors recorded and checked after the test."""
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.set_default_timeout(10_000)
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        RESULTS.mkdir(exist_ok=True)
        page.screenshot(path=str(RESULTS / f"{re.sub(r'[^\w.-]', '_', request.node.name)}.png"), full_page=True)
    csp = [p for p in problems if "Content Security Policy" in p or "Content-Security-Policy" in p]
    assert not csp, "CSP violations:\n" + "\n".join(csp)
    assert not problems, "Browser errors:\n" + "\n".join(problems)
