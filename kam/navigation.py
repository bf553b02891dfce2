"""The main navigation's registry.

Each app adds its menu items from its AppConfig.ready() with `register_menu_item(...)`, giving the
predicate of its own policy module that says who sees the item (None: everyone signed in; superusers see
every item). kam renders what is registered, in `order`, and knows no app. A `badge` callable
`(request) -> int` puts a count beside the label (the unread notifications)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class MenuItem:
    key: str
    label: str
    url_name: str
    order: int
    visible: Callable | None  # (user) -> bool
    badge: Callable | None  # (request) -> int


_items: dict[str, MenuItem] = {}


def register_menu_item(
    key: str,
    *,
    label: str,
    url_name: str,
    order: int = 100,
    visible: Callable | None = None,
    badge: Callable | None = None,
) -> None:
    """Add (or replace, so a reloaded app does not register twice) the item `key`."""
    _items[key] = MenuItem(key, label, url_name, order, visible, badge)


def unregister_menu_item(key: str) -> None:
    _items.pop(key, None)


def menu_for(request) -> list[dict]:
    """The items the requesting user sees, in order: {"key", "label", "url", "badge"}."""
    user = request.user
    entries = []
    for item in sorted(_items.values(), key=lambda i: (i.order, i.key)):
        if item.visible is not None and not (user.is_superuser or item.visible(user)):
            continue
        entry = {"key": item.key, "label": item.label, "url": reverse(item.url_name)}
        if item.badge is not None:
            entry["badge"] = item.badge(request)
        entries.append(entry)
    return entries


# kam's own item: the home page, first for everyone.
register_menu_item("home", label=_("Home"), url_name="home", order=0)
