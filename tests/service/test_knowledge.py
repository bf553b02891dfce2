"""The knowledge base: two Chinese characters find an article anywhere (pages and API, SQLite and PostgreSQL),
visibility by role and publication, versions on change, one vote per person, scripts suggested on tickets of
their category."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from channels.models import Role
from service.models import KbArticle, KbScriptStep, TicketCategory
from service.services import knowledge, tickets
from tests.channels.factories import UserFactory
from tests.customers.factories import CustomerFactory

pytestmark = pytest.mark.django_db


def article(title, body="", **fields):
    return KbArticle.objects.create(title=title, body=body or title, kind=fields.pop("kind", "tariff"), **fields)


def test_two_characters_find_an_article_anywhere(client, agent):
    article("集团V网资费说明", "短号互拨免费，网外按标准资费")
    inside = article("专线故障处理流程", "先确认光猫状态，再联系北仑机房值班")
    scripted = article("停机保号话术", kind="script")
    KbScriptStep.objects.create(article=scripted, sequence=1, question="客户是否欠费？", answer="欠费需先缴清再办理")
    article("无关文章", "内容")
    client.force_login(agent)
    page = client.get(reverse("service:kb-list"), {"q": "北仑"}).content.decode()
    assert inside.title in page and "集团V网资费说明" not in page
    page = client.get(reverse("service:kb-list"), {"q": "欠费"}).content.decode()  # in a script step only
    assert scripted.title in page
    api = APIClient()
    api.force_login(agent)
    found = api.get("/api/v1/kb/articles/", {"q": "资费"}).json()["results"]
    assert {a["title"] for a in found} == {"集团V网资费说明"}
    assert api.get("/api/v1/kb/articles/", {"q": "资费", "kind": "script"}).json()["results"] == []


def test_articles_show_only_to_their_roles_and_drafts_to_admins(client, agent, am, admin_user):
    for_agents = article("坐席内部口径", roles=[Role.AGENT])
    draft = article("草稿文章", is_published=False)
    client.force_login(am)
    assert client.get(reverse("service:kb-detail", args=[for_agents.pk])).status_code == 404
    assert client.get(reverse("service:kb-detail", args=[draft.pk])).status_code == 404
    assert "坐席内部口径" not in client.get(reverse("service:kb-list")).content.decode()
    phone_am = UserFactory(role=Role.PHONE_ACCOUNT_MANAGER)
    article("客户经理口径", roles=[Role.ACCOUNT_MANAGER])
    client.force_login(phone_am)  # "account_manager" is not found inside "phone_account_manager"
    assert "客户经理口径" not in client.get(reverse("service:kb-list")).content.decode()
    client.force_login(agent)
    assert client.get(reverse("service:kb-detail", args=[for_agents.pk])).status_code == 200
    client.force_login(admin_user)
    assert client.get(reverse("service:kb-detail", args=[draft.pk])).status_code == 200


def test_a_change_keeps_the_previous_text_and_votes_count_once(client, agent, am, admin_user):
    item = knowledge.article_save(KbArticle(title="4G资费", body="旧资费", kind="tariff"), by=admin_user)
    item.body = "新资费"
    knowledge.article_save(item, by=admin_user)
    item.refresh_from_db()
    assert item.version == 2 and item.versions.get().body == "旧资费"
    client.force_login(agent)
    client.post(reverse("service:kb-feedback", args=[item.pk]), {"useful": "yes"})
    client.post(reverse("service:kb-feedback", args=[item.pk]), {"useful": "no"})  # changes the vote
    client.force_login(am)
    client.post(reverse("service:kb-feedback", args=[item.pk]), {"useful": "yes"})
    item.refresh_from_db()
    assert (item.useful, item.not_useful) == (1, 1)
    page = client.get(reverse("service:kb-detail", args=[item.pk])).content.decode()
    assert "新资费" in page and 'id="kb-versions"' in page


def test_the_ticket_page_suggests_the_category_scripts_to_use_in_one_click(client, agent, am):
    parent = TicketCategory.objects.create(name="计费争议", kind="complaint")
    child = TicketCategory.objects.create(name="套餐资费", kind="complaint", parent=parent)
    script = article("资费投诉应答", kind="script", category=parent)
    KbScriptStep.objects.create(article=script, sequence=1, question="核实套餐", answer="您好，已为您核实套餐")
    ticket = tickets.ticket_create(by=agent, customer=CustomerFactory(account_manager=am), kind="complaint",
                                   subject="资费不符", category=child)  # fmt: skip
    client.force_login(agent)
    page = client.get(reverse("service:ticket-detail", args=[ticket.pk])).content.decode()
    assert 'id="kb-suggestions"' in page and 'data-text="您好，已为您核实套餐"' in page and "service_kb.js" in page
