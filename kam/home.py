"""The home page's panel registry.

Each app adds its home-page panels from its AppConfig.ready() with `register_home_panel(...)`: a
template, a context callable `(request) -> dict`, who sees it (a predicate of the app's policy, which
decides for superusers too; None: everyone signed in) and the scripts it needs (static paths, loaded
with the page's CSP nonce). A panel marked `summary` stands in for the "start here" links (a role with
a dashboard does not need them). The context callable runs a bounded number of queries: the home page's
budget does not grow with data."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.template.loader import render_to_string
from django.utils.safestring import SafeString


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    context: Callable | None  # (request) -> dict
    order: int
    visible: Callable | None  # (user) -> bool
    scripts: tuple[str, ...]
    summary: bool


@dataclass(frozen=True)
class RenderedHomePanel:
    key: str
    html: SafeString
    scripts: tuple[str, ...]
    summary: bool


_panels: dict[str, HomePanel] = {}


def register_home_panel(
    key: str,
    *,
    template: str,
    context: Callable | None = None,
    order: int = 100,
    visible: Callable | None = None,
    scripts: Iterable[str] = (),
    summary: bool = False,
) -> None:
    """Add (or replace, so a reloaded app does not register twice) the panel `key`."""
    _panels[key] = HomePanel(key, template, context, order, visible, tuple(scripts), summary)


def unregister_home_panel(key: str) -> None:
    _panels.pop(key, None)


def render_home_panels(request) -> list[RenderedHomePanel]:
    user = request.user
    rendered = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.key)):
        if panel.visible is not None and not panel.visible(user):
            continue
        context = panel.context(request) if panel.context is not None else {}
        html = render_to_string(panel.template, context, request)
        rendered.append(RenderedHomePanel(panel.key, html, panel.scripts, panel.summary))
    return rendered
