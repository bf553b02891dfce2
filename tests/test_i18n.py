"""Chinese first, English complete: every message has a zh-hans translation and pages switch language."""

from pathlib import Path

import polib
import pytest
from django.urls import reverse
from django.utils import translation

PO_FILE = Path(__file__).resolve().parent.parent / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_every_message_has_a_chinese_translation():
    catalogue = polib.pofile(str(PO_FILE))
    missing = [e.msgid for e in catalogue.untranslated_entries()]
    fuzzy = [e.msgid for e in catalogue.fuzzy_entries()]
    assert not missing and not fuzzy, f"untranslated: {missing[:20]} fuzzy: {fuzzy[:20]}"


def test_compiled_catalogue_is_up_to_date():
    mo_file = PO_FILE.with_suffix(".mo")
    assert mo_file.exists() and mo_file.stat().st_mtime >= PO_FILE.stat().st_mtime - 1
    compiled = {(e.msgctxt, e.msgid): e.msgstr for e in polib.mofile(str(mo_file))}
    for entry in polib.pofile(str(PO_FILE)).translated_entries():
        if not entry.msgid_plural:
            assert compiled.get((entry.msgctxt, entry.msgid)) == entry.msgstr, entry.msgid


def test_default_language_is_simplified_chinese():
    from kam import settings as kam_settings

    assert kam_settings.LANGUAGE_CODE == "zh-hans"
    with translation.override("zh-hans"):
        assert translation.gettext("Customers") != "Customers"


@pytest.mark.chinese
@pytest.mark.django_db
def test_login_page_is_chinese_by_default_and_english_on_request(client):
    chinese = client.get(reverse("login"))
    english = client.get(reverse("login"), headers={"accept-language": "en"})
    assert "登录" in chinese.content.decode()
    assert "Log in" in english.content.decode()


@pytest.mark.chinese
@pytest.mark.django_db
def test_language_can_be_switched_on_the_login_page_before_signing_in(client):
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("login")})
    assert response.status_code == 302
    assert "Log in" in client.get(reverse("login")).content.decode()


def test_one_english_word_with_two_chinese_meanings_is_told_apart_by_context():
    with translation.override("zh-hans"):
        assert translation.pgettext("visit", "Kind") == "拜访方式"  # on-site, phone… visits
        assert translation.gettext("Kind") == "类型"  # leads and opportunities, segments, runs, notifications


def test_a_record_title_and_a_job_title_and_the_timeline_from_are_told_apart():
    with translation.override("zh-hans"):
        assert translation.gettext("Title") == "标题"  # opportunities, notifications
        assert translation.pgettext("contact", "Title") == "职务"  # a contact's job title
        assert translation.pgettext("timeline", "from") == "从"  # "from X → Y" in an opportunity's timeline
        assert translation.gettext("- Select an option -") == "- 请选择 -"  # every select's empty choice
        # the menu item and the page it opens say the same
        assert translation.gettext("Passed on") == translation.gettext("What I passed on")
