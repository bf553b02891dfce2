"""Template tags of the customers app that other apps' templates use too (`{% load customers %}`)."""

from django import template
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.translation import gettext

register = template.Library()


@register.simple_tag
def tier_badge(tier: str, title: str = "", empty: str = "") -> str:
    """The coloured badge of a tier (A1 … D), or `empty` for no tier."""
    if not tier:
        return empty
    if title:
        return format_html('<span class="tier tier-{}" title="{}">{}</span>', tier, title, tier)
    return format_html('<span class="tier tier-{}">{}</span>', tier, tier)


@register.simple_tag
def customer_tier_badge(customer, user) -> str:
    """A customer's tier badge, its title saying since when and (not to call-center agents) why."""
    if not customer.tier:
        return ""
    title = [str(customer.get_tier_display())]
    if customer.tier_changed_at:
        title.append(gettext("since %(when)s") % {"when": date_format(customer.tier_changed_at, "Y-m-d")})
    if customer.tier_reason and not user.sees_service_fields_only:
        title.append(customer.tier_reason)
    return tier_badge(customer.tier, title=" · ".join(title))
