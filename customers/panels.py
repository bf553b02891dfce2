"""The customer 360 page's panel registry.

Higher apps (opportunities, orders, service) add a panel to the 360 page without `customers`
importing them: they call `register_panel(...)` from their AppConfig.ready(). Each panel is a template
and a context callable `(request, customer) -> dict`; the callable must run a bounded number of
queries (the page's query budget does not grow with the customer's rows).

A panel registered with `lazy=True` is not rendered with the page: the page holds its frame, and the browser
fetches it from `/customers/<pk>/panels/<key>/` (htmx, on load; a plain link without JavaScript) through the
same visibility check as the page. Heavy panels (orders, subscriptions over a large installed base) are lazy so
the 360 page's own cost stays that of one customer, and a slow panel never holds the page up.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class Panel:
    key: str
    title: str
    template: str
    context: Callable | None
    order: int
    roles: frozenset[str] | None  # None: every role that may see the customer
    lazy: bool = False


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    title: str
    html: SafeString | None  # None: a lazy panel, fetched by the browser


_panels: dict[str, Panel] = {}


def register_panel(
    key: str,
    *,
    title: str,
    template: str,
    context: Callable | None = None,
    order: int = 100,
    roles: Iterable[str] | None = None,
    lazy: bool = False,
) -> None:
    """Add (or replace, so a reloaded app does not register twice) the panel `key`."""
    _panels[key] = Panel(key, title, template, context, order, frozenset(roles) if roles is not None else None, lazy)


def unregister_panel(key: str) -> None:
    _panels.pop(key, None)


def panels_for(user) -> list[Panel]:
    return [
        panel
        for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key))
        if panel.roles is None or user.role in panel.roles or user.is_superuser
    ]


def panel_for(user, key: str) -> Panel | None:
    """The panel `key` if the user may see it (None otherwise: the panel view answers 404)."""
    return next((panel for panel in panels_for(user) if panel.key == key), None)


def render_panel(request, customer, panel: Panel) -> SafeString:
    context = {"customer": customer}
    if panel.context is not None:
        context.update(panel.context(request, customer))
    return render_to_string(panel.template, context, request)


def render_panels(request, customer) -> list[RenderedPanel]:
    """The registered panels the requesting user may see, in order: eager ones rendered, lazy ones as frames."""
    return [
        RenderedPanel(panel.key, str(panel.title), None if panel.lazy else render_panel(request, customer, panel))
        for panel in panels_for(request.user)
    ]
