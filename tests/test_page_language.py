"""Every page speaks Chinese by default: as each persona, GET every page of the root URL conf that takes no
argument (plus a customer's and an opportunity's detail page) with the real default language, and fail on
English UI text left in the visible HTML (tags, scripts, <code> and attribute values are not looked at)."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from channels.models import Role
from opportunities import services
from opportunities.models import Kind, Stage
from tests.channels.factories import UserFactory
from tests.customers.factories import ContactFactory, CustomerFactory

# Words and phrases of the interface that must never reach a Chinese page untranslated.
KNOWN_FRAGMENTS = (
    "Select an option", "Title", "Kind", "Customers", "Save", "Search", "Next", "Previous", "Filter", "Submit",
    "None", "Yes", "No", "Unknown", "Forbidden", "Not Found", "Server Error", "Bad Request",
)  # fmt: skip
FRAGMENT = re.compile(r"\b(?:" + "|".join(re.escape(f) for f in KNOWN_FRAGMENTS) + r")\b")
ENGLISH_WORDS = re.compile(r"\b[A-Za-z][a-z]+(?:[ ,:;-]+[A-Za-z][a-z]+)+\b")  # two or more English words
SKIPPED_PREFIXES = ("/admin/", "/api/", "/i18n/", "/login/", "/logout/", "/static/")


class VisibleText(HTMLParser):
    """The text a reader sees, outside <script>, <style>, <code> and <pre>."""

    HIDDEN = {"script", "style", "code", "pre", "textarea"}

    def __init__(self):
        super().__init__()
        self.depth, self.parts = 0, []

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.depth += 1

    def handle_endtag(self, tag):
        if tag in self.HIDDEN and self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if not self.depth and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    return parser.parts


def page_paths(patterns=None, prefix="") -> list[str]:
    """Paths of the URL conf's patterns that take no argument."""
    paths = []
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = str(pattern.pattern)
        if "<" in route or "(" in route or route.startswith("^"):
            continue
        if isinstance(pattern, URLResolver):
            paths += page_paths(pattern.url_patterns, prefix + route)
        elif isinstance(pattern, URLPattern):
            paths.append("/" + prefix + route)
    return sorted({p for p in paths if not p.startswith(SKIPPED_PREFIXES)})


def english_in(texts: list[str], allowed: set[str]) -> list[str]:
    found = []
    for text in texts:
        if text in allowed:
            continue
        found += FRAGMENT.findall(text) + ENGLISH_WORDS.findall(text)
    return found


@pytest.mark.chinese
@pytest.mark.django_db
def test_every_page_is_chinese_for_every_persona(client):
    # Given the personas, a customer with a contact, and an opportunity that was routed, claimed and moved
    am = UserFactory(username="am", role=Role.ACCOUNT_MANAGER)
    agent = UserFactory(username="agent", role=Role.AGENT)
    personas = [
        am, agent, UserFactory(username="dispatcher", role=Role.DISPATCHER),
        UserFactory(username="steward", role=Role.DATA_STEWARD), UserFactory(username="analyst", role=Role.ANALYST),
    ]  # fmt: skip
    customer = CustomerFactory(name="杭州西湖数码科技有限公司", account_manager=am, tier="B1")
    ContactFactory(customer=customer)
    opp = services.opportunity_capture(
        by=agent, kind=Kind.OPPORTUNITY, title="专线扩容", customer=customer, description="100M 专线"
    )
    services.opportunity_route(opp.pk)
    services.opportunity_claim(pk=opp.pk, by=am)
    services.opportunity_move_stage(pk=opp.pk, by=am, stage=Stage.CLARIFYING)
    paths = page_paths() + [customer.get_absolute_url(), f"/opportunities/{opp.pk}/"]

    # When each persona opens each page, then no English interface text is left on it
    problems = []
    for user in personas:
        client.force_login(user)
        allowed = {user.username, str(user)}
        for path in paths:
            response = client.get(path)
            if response.status_code in (301, 302, 405) or "text/html" not in response.get("Content-Type", ""):
                continue
            found = english_in(visible_text(response.content.decode()), allowed)
            if found:
                problems.append(f"{user.username} {path} ({response.status_code}): {sorted(set(found))}")
    assert not problems, "\n".join(problems)
