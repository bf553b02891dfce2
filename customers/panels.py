"""The customer 360 page's panel registry.

Higher apps (opportunities, orders, service) add a panel to the 360 page without `customers`
importing them: they call `register_panel(...)` from their AppConfig.ready(). Each panel is a template
and a context callable `(request, customer) -> dict`; the callable must run a bounded number of
queries (the page's query budget does not grow with the customer's rows).
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


@dataclass(frozen=True)
class RenderedPanel:
    key: str
    title: str
    html: SafeString


_panels: dict[str, Panel] = {}


def register_panel(
    key: str,
    *,
    title: str,
    template: str,
    context: Callable | None = None,
    order: int = 100,
    roles: Iterable[str] | None = None,
) -> None:
    """Add (or replace, so a reloaded app does not register twice) the panel `key`."""
    _panels[key] = Panel(key, title, template, context, order, frozenset(roles) if roles is not None else None)


def unregister_panel(key: str) -> None:
    _panels.pop(key, None)


def panels_for(user) -> list[Panel]:
    return [
        panel
        for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key))
        if panel.roles is None or user.role in panel.roles or user.is_superuser
    ]


def render_panels(request, customer) -> list[RenderedPanel]:
    """The registered panels the requesting user may see, rendered in order."""
    rendered = []
    for panel in panels_for(request.user):
        context = {"customer": customer}
        if panel.context is not None:
            context.update(panel.context(request, customer))
        rendered.append(RenderedPanel(panel.key, str(panel.title), render_to_string(panel.template, context, request)))
    return rendered
